#!/usr/bin/env bash
# What check, keys, info, bench and --help print is their product: a write to standard output
# that fails (a full disk; /dev/full here) is exit 4 with the reason, not exit 0 and a file left
# empty. usage: stdout_full.sh TUMORFIELD SCENARIO
tf=$1 scen=$2
err=$(mktemp)
trap 'rm -f "$err"' EXIT
fail=0
for cmd in "check $scen" keys info "bench --grid 8 --steps 1" --help "check --help"; do
  # shellcheck disable=SC2086 # the words of each command
  "$tf" $cmd > /dev/full 2> "$err"
  rc=$?
  if [ $rc -ne 4 ] || ! grep -q "cannot write the output to standard output: No space left on device" "$err"; then
    echo "FAIL: tumorfield $cmd > /dev/full: exit $rc"; cat "$err"; fail=1
  else
    echo "ok: tumorfield $cmd > /dev/full: exit 4"
  fi
done
exit $fail
