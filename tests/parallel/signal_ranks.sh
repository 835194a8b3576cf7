#!/usr/bin/env bash
# A real signal to a run of 2 ranks: once it has written a few time-series rows, send SIGNAL
#   to mpirun (TARGET mpirun: Open MPI's mpirun forwards SIGUSR1 and SIGUSR2 to every rank), or
#   to one rank only (TARGET rank: the other learns of it at the end of the step, as when a
#   scheduler's signal reaches the processes one by one).
# Expect from mpirun exit 75, the "stopped by signal" message once (not once per rank), a
# checkpoint and a summary saying "stopped"; then restart on 2 ranks to the end: the result must
# be the uninterrupted one-process run bit for bit (compare_out.py).
# (SIGTERM or SIGINT to Open MPI's mpirun is not forwarded as such: mpirun sends SIGTERM to the
# ranks, which write their checkpoint, but mpirun itself exits 1, not 75.)
# usage: signal_ranks.sh TUMORFIELD WORKDIR TARGET SIGNAL -- LAUNCHER...
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$@"
target=${args[0]} sig=${args[1]}

# 31 x 23 x 17 cells, 5760 steps: a few seconds on 2 ranks; the signal comes after 2 h of 96.
common=(--set "grid.n=31 23 17" --set grid.spacing=15um --set run.duration=4d --set run.dt=1min
        --set output.interval=1d --set output.timeseries_interval=30min --quiet --output out)
mkdir -p "$work/whole" "$work/stop"
(cd "$work/whole" && "$tf" run "$ini" "${common[@]}") ||
  { echo "FAIL: the one-process run failed"; exit 1; }

cd "$work/stop" || exit 1
"${launcher[@]}" 2 "$tf" run "$ini" "${common[@]}" >stdout.txt 2>stderr.txt &
pid=$!   # mpirun itself (not a subshell)
for _ in $(seq 1 600); do
  rows=$(cat out/tiny.timeseries.csv 2>/dev/null | wc -l)
  [ "$rows" -ge 5 ] && break
  sleep 0.05
done
[ "$rows" -ge 5 ] ||
  { echo "FAIL: no progress after 30 s"; kill "$pid"; wait; cat stderr.txt; exit 1; }
if [ "$target" = mpirun ]; then
  to=$pid
else
  to=$(pgrep -P "$pid" | tail -n 1)   # the ranks are mpirun's children; take one
  [ -n "$to" ] || { echo "FAIL: no rank process under mpirun $pid"; kill "$pid"; wait; exit 1; }
fi
kill -s "$sig" "$to"
wait "$pid"; rc=$?
echo "== SIG$sig to $target ($to) after $((rows - 1)) rows: mpirun exit $rc"
sed 's/^/    /' stderr.txt
[ "$rc" -eq 75 ] || note_fail "mpirun exit $rc after SIG$sig to $target, expected 75"
[ -f out/tiny.chk.nc ] || note_fail "no checkpoint"
grep -q '"status": *"stopped"' out/tiny.summary.json || note_fail "summary not 'stopped'"
nmsg=$(grep -c "^tumorfield: .*stopped by signal" stderr.txt)
[ "$nmsg" -eq 1 ] || note_fail "the stop message is printed $nmsg times, expected once"
steps=$(sed -n 's/^ *"steps": *\([0-9]*\),$/\1/p' out/tiny.summary.json)
[ -n "$steps" ] && [ "$steps" -lt 5760 ] ||
  note_fail "the run was not stopped before its end (step '$steps')"
[ $fail = 0 ] || exit 1

launch 2 run "$ini" "${common[@]}" --restart out/tiny.chk.nc ||
  { echo "FAIL: the restart failed"; exit 1; }
same_outputs "$work/whole/out" "$work/stop/out" --restarted ||
  note_fail "the run stopped at step $steps and restarted differs from the uninterrupted run"
[ $fail = 0 ] && echo "signal_ranks (SIG$sig to $target): exit 75 at step $steps, one message," \
                      "restarted, identical to the uninterrupted run"
exit $fail
