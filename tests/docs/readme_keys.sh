#!/usr/bin/env bash
# The README's scenario key table is what `tumorfield keys --markdown` prints.
# usage: readme_keys.sh TUMORFIELD README
set -euo pipefail
tf=$1 readme=$2
sed -n '/^<!-- BEGIN scenario-keys/,/^<!-- END scenario-keys/p' "$readme" | sed '1d;$d' > "${TMPDIR:-/tmp}/readme_keys.$$"
if ! "$tf" keys --markdown | diff -u "${TMPDIR:-/tmp}/readme_keys.$$" -; then
  rm -f "${TMPDIR:-/tmp}/readme_keys.$$"
  echo "README.md's scenario key table is stale: replace the block between the BEGIN/END scenario-keys markers with the output of 'tumorfield keys --markdown'"
  exit 1
fi
rm -f "${TMPDIR:-/tmp}/readme_keys.$$"
echo "README key table matches the declarations"
