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
bash "$job" "$here/tiny.ini" "${args[@]}" > third.log 2>&1; rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: third start: exit $rc, expected 0"; cat third.log; exit 1; }
after=$(final "$OUTDIR/tiny.summary.json")
[ "$after" != null ] && [ "$after" = "$before" ] && [ "$after" = "$(final "$work/whole/tiny.summary.json")" ] ||
  { echo "FAIL: the summary's final row after a resume of the finished run: $after (before: $before)"; exit 1; }
cmp "$work/whole/tiny.timeseries.csv" "$OUTDIR/tiny.timeseries.csv" ||
  { echo "FAIL: the time series changed in a resume of the finished run"; exit 1; }
echo "requeue_job: stopped (75), resumed to the end, identical to the uninterrupted run; a third start changes nothing"
