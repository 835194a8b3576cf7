#!/usr/bin/env bash
# The build names its commit (cmake/build_info.cmake): `tumorfield --version` and bench's JSON
# carry the commit the sources are at (the one HEAD names; "+changes" when tracked files differ).
# usage: build_commit.sh TUMORFIELD SOURCE_DIR   (passes without git: nothing to compare)
set -uo pipefail
tf=$1 src=$2
head=$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null) || { echo "no git: skipped"; exit 0; }
v=$("$tf" --version)
j=$("$tf" bench --grid 8 --steps 1 --json)
echo "$v"
[[ $v == *"commit $head"* ]] || { echo "FAIL: --version does not name commit $head"; exit 1; }
grep -Eq "\"commit\":[[:space:]]*\"$head" <<<"$j" ||
  { echo "FAIL: bench --json does not name commit $head"; grep commit <<<"$j"; exit 1; }
echo "ok: the build names commit $head"
