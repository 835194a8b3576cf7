#!/bin/bash
# run_expect.sh TUMORFIELD CODE FRAGMENT WORKDIR ARGS...
# Run TUMORFIELD ARGS in a fresh WORKDIR; pass when the exit code is CODE, stderr (for CODE != 0)
# or stdout contains FRAGMENT, a failure's message starts with "tumorfield: error:", a bad
# command line ends with the hint to --help, and the directory @OUT@ (replaced in ARGS by
# WORKDIR/out) was not created: nothing is written on bad input.
set -u
prog=$1 code=$2 frag=${3//\\;/;} work=$4   # CMake passes ";" as "\;"
shift 4
rm -rf "$work" && mkdir -p "$work" || exit 1
args=()
for a in "$@"; do args+=("${a//@OUT@/$work/out}"); done
cd "$work" || exit 1
"$prog" "${args[@]}" >stdout.txt 2>stderr.txt
rc=$?
fail() { echo "FAIL: $*"; echo "--- command: $prog ${args[*]}"; echo "--- stdout:"; head -c 2000 stdout.txt;
         echo "--- stderr:"; cat stderr.txt; exit 1; }
[[ $rc == "$code" ]] || fail "exit code $rc, expected $code"
if [[ $code != 0 ]]; then
    grep -qF -- "$frag" stderr.txt || fail "stderr lacks '$frag'"
    [[ $(head -n1 stderr.txt) == "tumorfield: error: "* ]] || fail "message does not start with 'tumorfield: error: '"
    [[ $(wc -l <stderr.txt) -le 2 ]] || fail "more than two lines on stderr"
    ! grep -q "Segmentation\|Assertion\|AddressSanitizer\|runtime error" stderr.txt || fail "crash"
else
    grep -qF -- "$frag" stdout.txt || fail "stdout lacks '$frag'"
fi
[[ ! -e "$work/out" ]] || fail "output directory was created on bad input"
[[ ! -e "$work/output" ]] || [[ $code == 0 ]] || fail "./output was created on bad input"
echo "ok: exit $rc${frag:+, message has '$frag'}"
