#!/usr/bin/env bash
# `tumorfield keys`: every row's columns start where the header's do, and two blanks (at least)
# end each column before the next, also after the longest defaults (the model rates print with
# all their digits; a default filling its column once ran into the unit).
# usage: keys_columns.sh TUMORFIELD
set -uo pipefail
keys=$("$1" keys) || { echo "FAIL: tumorfield keys exited $?"; exit 1; }
awk '
  NR == 1 {
    for (c = 1; c <= 4; ++c) {
      name = c == 1 ? "default" : c == 2 ? "unit" : c == 3 ? "range" : "meaning"
      at[c] = index($0, " " name) + 1
    }
    next
  }
  /^\[boundary\]/ { stop = 1 }   # the boundary keys are a grammar, not a table
  !stop && /^  [^ ]/ {
    for (c = 1; c <= 4; ++c)
      if (substr($0, at[c] - 2, 2) != "  " || substr($0, at[c], 1) == " ") {
        printf "FAIL: line %d, column %d does not start at %d: %s\n", NR, c, at[c], $0
        bad = 1
      }
    ++rows
  }
  END { if (!bad) printf "ok: %d rows aligned under the header\n", rows; exit bad }
' <<<"$keys"
