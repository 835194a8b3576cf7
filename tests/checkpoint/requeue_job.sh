#!/usr/bin/env bash
# The Slurm job script jobs/requeue.sbatch run by hand, as Slurm would run it twice: the first
# start gets SIGUSR1 (Slurm's warning before the time limit; here sent to the batch shell, as
# --signal=B:USR1 does), forwards it, and exits 75 outside Slurm (no scontrol requeue); the
# second start of the same command line continues from the checkpoint (--resume) to the end.
# The files must equal an uninterrupted run's bit for bit. usage: requeue_job.sh TUMORFIELD WORKDIR
set -uo pipefail
tf=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
job=$here/../../jobs/requeue.sbatch
py=/usr/bin/python3
"$py" -c 'import netCDF4' 2>/dev/null || py=python3
ncdiff() { "$py" "$here/../tools/ncdiff.py" "$@"; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
args=(--set grid.n=32 --set grid.spacing=15um --set run.duration=4d --set run.dt=1min
      --set output.interval=1d --set output.timeseries_interval=30min --quiet)
export TUMORFIELD=$tf OUTDIR=$work/job SLURM_CPUS_PER_TASK=2
unset SLURM_JOB_ID

bash "$job" "$here/tiny.ini" "${args[@]}" > first.log 2>&1 &
pid=$!
wait_rows "$OUTDIR/tiny.timeseries.csv" 4
kill -s USR1 "$pid"
wait "$pid"; rc=$?
[ "$rc" -eq 75 ] || { echo "FAIL: first start: exit $rc, expected 75"; cat first.log; exit 1; }
grep -q "stopped with a checkpoint" first.log || { echo "FAIL: first log:"; cat first.log; exit 1; }

bash "$job" "$here/tiny.ini" "${args[@]}" > second.log 2>&1; rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: second start: exit $rc, expected 0"; cat second.log; exit 1; }
grep -q "tumorfield: finished" second.log || { echo "FAIL: second log:"; cat second.log; exit 1; }

set -e
"$tf" run "$here/tiny.ini" "${args[@]}" --output "$work/whole"
ncdiff "$work/whole/tiny.chk.nc" "$OUTDIR/tiny.chk.nc"
ncdiff "$work/whole/tiny.nc" "$OUTDIR/tiny.nc"
cmp "$work/whole/tiny.timeseries.csv" "$OUTDIR/tiny.timeseries.csv"
set +e

# A third start of the finished job (a requeue after the end, a resubmitted sweep) runs no step
# and leaves the files as they were; the summary's final row is still the last row (it was
# null), the same as the uninterrupted run's.
final() { "$py" -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["final"], sort_keys=True))' "$1"; }
before=$(final "$OUTDIR/tiny.summary.json")
cp "$OUTDIR/tiny.summary.json" summary.before && cp "$OUTDIR/tiny.chk.nc" chk.before
bash "$job" "$here/tiny.ini" "${args[@]}" > third.log 2>&1; rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: third start: exit $rc, expected 0"; cat third.log; exit 1; }
after=$(final "$OUTDIR/tiny.summary.json")
[ "$after" != null ] && [ "$after" = "$before" ] && [ "$after" = "$(final "$work/whole/tiny.summary.json")" ] ||
  { echo "FAIL: the summary's final row after a resume of the finished run: $after (before: $before)"; exit 1; }
cmp "$work/whole/tiny.timeseries.csv" "$OUTDIR/tiny.timeseries.csv" ||
  { echo "FAIL: the time series changed in a resume of the finished run"; exit 1; }
# ... and its summary (the second start's wall time and throughput, not the idle third's) and
# its checkpoint are the same bytes.
cmp summary.before "$OUTDIR/tiny.summary.json" ||
  { echo "FAIL: the summary was rewritten by a resume of the finished run"; exit 1; }
cmp chk.before "$OUTDIR/tiny.chk.nc" ||
  { echo "FAIL: the checkpoint was rewritten by a resume of the finished run"; exit 1; }
# Under Slurm (SLURM_JOB_ID set; scontrol and srun are stand-ins: one logs its arguments, the
# other runs the program as one process): the time-limit warning (SIGUSR1 to the batch shell)
# requeues the job; SIGTERM to the whole job, as scancel sends it, stops the run with a
# checkpoint but does not requeue it, in requeue.sbatch and in the srun script mpi.sbatch.
mkdir -p bin
printf '#!/bin/sh\necho "$@" >> "%s/scontrol.log"\n' "$work" > bin/scontrol
printf '#!/bin/bash\nwhile [ "${1#--}" != "$1" ]; do shift; done\nexec "$@"\n' > bin/srun
chmod +x bin/scontrol bin/srun
export PATH=$work/bin:$PATH SLURM_JOB_ID=4242
long=("${args[@]}" --set run.duration=40d)
requeues() { cat "$work/scontrol.log" 2>/dev/null | wc -l; }

OUTDIR=$work/usr1 bash "$job" "$here/tiny.ini" "${long[@]}" > usr1.log 2>&1 &
pid=$!
wait_rows "$work/usr1/tiny.timeseries.csv" 4
kill -s USR1 "$pid"
wait "$pid"; rc=$?
[ "$rc" -eq 0 ] && grep -q "requeueing" usr1.log && [ "$(cat scontrol.log)" = "requeue 4242" ] ||
  { echo "FAIL: SIGUSR1 under Slurm: exit $rc, scontrol: $(cat scontrol.log 2>&1)"; cat usr1.log; exit 1; }

for script in "$job" "$here/../../jobs/mpi.sbatch"; do
  name=$(basename "$script" .sbatch)
  OUTDIR=$work/term-$name setsid bash "$script" "$here/tiny.ini" "${long[@]}" > "term-$name.log" 2>&1 &
  pid=$!
  wait_rows "$work/term-$name/tiny.timeseries.csv" 4
  kill -s TERM -- "-$pid" # the batch shell and the program, as scancel does
  wait "$pid"; rc=$?
  [ "$rc" -eq 75 ] && grep -q "not requeued: submit again with OUTDIR=$work/term-$name" "term-$name.log" ||
    { echo "FAIL: $name, SIGTERM under Slurm: exit $rc, expected 75 and no requeue"; cat "term-$name.log"; exit 1; }
  [ "$(requeues)" -eq 1 ] || { echo "FAIL: $name requeued a job stopped by SIGTERM"; exit 1; }
  [ -f "$work/term-$name/tiny.chk.nc" ] || { echo "FAIL: $name: no checkpoint after SIGTERM"; exit 1; }
done
# SIGTERM to the batch shell alone reaches the program as SIGTERM, and its message says to run
# the same command again (the script refuses --restart), not to restart with --restart.
OUTDIR=$work/term-shell bash "$job" "$here/tiny.ini" "${long[@]}" > term-shell.log 2>&1 &
pid=$!
wait_rows "$work/term-shell/tiny.timeseries.csv" 4
kill -s TERM "$pid"
wait "$pid"; rc=$?
[ "$rc" -eq 75 ] && grep -q "stopped by signal 15 (SIGTERM)" term-shell.log &&
  grep -q "run the same command again (--resume continues from it)" term-shell.log &&
  ! grep -q -e "SIGUSR1" -e "--restart" term-shell.log ||
  { echo "FAIL: SIGTERM to the batch shell: exit $rc, or the log names another signal or --restart"; cat term-shell.log; exit 1; }
# The sweep's array task (scenarios/sweep_intensity.sh) alike: SIGUSR1 requeues, SIGTERM not.
sweep=$here/../../scenarios/sweep_intensity.sh
for sig in USR1 TERM; do
  before=$(requeues)
  SCENARIO=$here/tiny.ini SLURM_ARRAY_TASK_ID=0 OUTDIR=$work/sweep-$sig \
    setsid bash "$sweep" "${long[@]}" > "sweep-$sig.log" 2>&1 &
  pid=$!
  wait_rows "$work/sweep-$sig/sweep_I0.3.timeseries.csv" 4
  if [ $sig = USR1 ]; then kill -s USR1 "$pid"; else kill -s TERM -- "-$pid"; fi
  wait "$pid"; rc=$?
  after=$(requeues)
  if [ $sig = USR1 ]; then
    [ "$rc" -eq 75 ] && [ "$after" -eq $((before + 1)) ] ||
      { echo "FAIL: sweep task, SIGUSR1: exit $rc, requeues $before -> $after"; cat "sweep-$sig.log"; exit 1; }
  else
    [ "$rc" -eq 75 ] && [ "$after" -eq "$before" ] && grep -q "not requeued" "sweep-$sig.log" ||
      { echo "FAIL: sweep task, SIGTERM: exit $rc, requeues $before -> $after"; cat "sweep-$sig.log"; exit 1; }
  fi
done
echo "requeue_job: stopped (75), resumed to the end, identical to the uninterrupted run; a third start changes nothing;" \
     "under Slurm SIGUSR1 requeues, SIGTERM (scancel) does not"
