#!/usr/bin/env bash
# What check, keys, info, bench and --help print is their product: a write to standard output
# that fails (a full disk; /dev/full here) is exit 4 with the reason, not exit 0 and a file left
# empty. usage: stdout_full.sh TUMORFIELD SCENARIO
tf=$1 scen=$2
err=$(mktemp)
trap 'rm -f "$err"' EXIT
fail=0
# verdict CMD WHERE REASON: the command just run ($rc, stderr in $err) exited 4 with REASON.
verdict() {
  if [ $rc -ne 4 ] || ! grep -q "cannot write the output to standard output: $3" "$err"; then
    echo "FAIL: tumorfield $1 $2: exit $rc"; cat "$err"; fail=1
  else
    echo "ok: tumorfield $1 $2: exit 4"
  fi
}
for cmd in "check $scen" keys info "bench --grid 8 --steps 1" --help "check --help"; do
  # shellcheck disable=SC2086 # the words of each command
  "$tf" $cmd > /dev/full 2> "$err"
  rc=$?
  verdict "$cmd" "> /dev/full" "No space left on device"
done
# A reader that went away (`keys | head`): the pipe's read end is closed before the command
# starts, so every write fails with EPIPE; exit 4 and the reason, not death by SIGPIPE (141).
for cmd in "check $scen" keys info "bench --grid 8 --steps 1" --help; do
  # shellcheck disable=SC2086 # the words of each command
  python3 - "$tf" $cmd 2> "$err" <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.run(sys.argv[1:], stdout=w).returncode % 256)
PY
  rc=$?
  verdict "$cmd" "into a closed pipe" "Broken pipe"
done
exit $fail
