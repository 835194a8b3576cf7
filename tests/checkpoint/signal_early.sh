#!/usr/bin/env bash
# A stop signal that comes before the run has started (here while it waits to read its scenario
# from a FIFO; in a job, during MPI start-up) is kept: the run stops after its first step with a
# checkpoint (exit 75), and --resume finishes it. Before, the signal's default action killed the
# program (exit 143 or 138), which a requeueing job script read as a failure.
# usage: signal_early.sh TUMORFIELD WORKDIR
set -uo pipefail
tf=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
for sig in TERM USR1; do
  rm -rf out s.ini && mkfifo s.ini
  "$tf" run s.ini --output out --quiet > run.log 2>&1 &
  pid=$!
  sleep 0.5 # the program waits in the open of the FIFO
  kill -s $sig $pid
  sleep 0.2
  cat "$here/tiny.ini" > s.ini
  wait $pid
  rc=$?
  [ $rc -eq 75 ] || { cat run.log; fail "SIG$sig before the run: exit $rc, expected 75"; }
  grep -q "stopped by signal .* at step 1 " run.log || { cat run.log; fail "SIG$sig: message"; }
  [ -f out/tiny.chk.nc ] || fail "SIG$sig: no checkpoint"
  "$tf" run "$here/tiny.ini" --output out --resume --quiet ||
    fail "SIG$sig: --resume after the early stop"
done
echo "signal_early: a signal before the run stops it after step 1 with a checkpoint (exit 75)"
