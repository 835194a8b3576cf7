#!/usr/bin/env bash
# A later run of the same name in the same directory, and an earlier run's checkpoint:
#  1. a fresh run that replaces an earlier run's files removes its checkpoint (says so), so a
#     run killed without a checkpoint of its own (SIGKILL, out of memory) leaves none that
#     --resume would take; --resume then refuses to start afresh over the killed run's files;
#  2. a restart from such a checkpoint kept elsewhere, whose step lies beyond the last record and
#     row of newer files without a checkpoint of their own, is refused (exit 2, naming the missing record) and changes no file; before,
#     it continued the new files from the old run's state, leaving hours of records out;
#  3. a second run of the same name in the same directory while the first one runs stops at
#     once (exit 2, naming the first one's process) and writes nothing, not even a summary; one
#     of another name runs beside it; the lock file is gone after the runs.
#  4. a restart whose files come from a run of another scenario is refused, naming the key.
# usage: stale.sh TUMORFIELD WORKDIR
set -uo pipefail
tf=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
sets=(--set run.dt=1min --set output.interval=2h --set output.timeseries_interval=30min)
args=("${sets[@]}" --output out)

"$tf" run "$here/tiny.ini" "${args[@]}" --set run.duration=1d --quiet || fail "the first run failed"
[ -f out/tiny.chk.nc ] || fail "the first run left no checkpoint"
cp out/tiny.chk.nc old.chk.nc

# The second run, 40 days, killed once a few rows are out (no checkpoint of its own yet). (The
# first run's time series goes first, so that the rows counted are the second run's.)
rm out/tiny.timeseries.csv
"$tf" run "$here/tiny.ini" "${args[@]}" --set run.duration=40d > second.log 2>&1 &
pid=$!
wait_rows out/tiny.timeseries.csv 4
kill -KILL $pid
wait $pid 2>/dev/null
grep -q "replaced the files of an earlier run 'tiny' in 'out', its checkpoint removed" second.log ||
  { cat second.log; fail "the second run did not say it removed the earlier checkpoint"; }
[ ! -e out/tiny.chk.nc ] || fail "the earlier run's checkpoint is still there"
# --resume finds the killed start's files without their checkpoint: it refuses to start afresh
# over them (exit 2, naming the file) and leaves them as they are; without --resume the run
# starts afresh.
cp out/tiny.nc nc.killed && cp out/tiny.timeseries.csv csv.killed
"$tf" run "$here/tiny.ini" "${args[@]}" --set run.duration=4d --resume --quiet > resume.log 2>&1
rc=$?
[ $rc -eq 2 ] || { cat resume.log; fail "--resume over a killed start's files: exit $rc, expected 2"; }
grep -q "^tumorfield: error: --resume: 'out/tiny.nc' is there, but not the checkpoint 'out/tiny.chk.nc'" resume.log ||
  { cat resume.log; fail "the --resume refusal does not name the files"; }
cmp -s out/tiny.nc nc.killed && cmp -s out/tiny.timeseries.csv csv.killed ||
  fail "the refused --resume changed the killed start's files"
# check takes the job's command line as it stands and refuses the same
"$tf" check "$here/tiny.ini" "${args[@]}" --set run.duration=4d --resume --quiet > check.log 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "^tumorfield: error: --resume: 'out/tiny.nc' is there, but not the checkpoint" check.log ||
  { cat check.log; fail "check --resume over a killed start's files: exit $rc, expected 2"; }
"$tf" run "$here/tiny.ini" "${args[@]}" --set run.duration=4d --quiet > fresh.log 2>&1 ||
  { cat fresh.log; fail "a fresh run over the killed start's files failed"; }

# check with the job's options: --resume names the checkpoint it would continue from, and
# refuses a changed --set; --restart of another scenario's checkpoint is refused.
"$tf" check "$here/tiny.ini" "${args[@]}" --set run.duration=8d --resume --quiet > check.log 2>&1 &&
  grep -q "^# restart: from 'out/tiny.chk.nc', whose scenario is this one's" check.log ||
  { cat check.log; fail "check --resume over a finished run's checkpoint"; }
"$tf" check "$here/tiny.ini" "${args[@]}" --set run.duration=8d --set exercise.intensity=0.1 \
  --resume --quiet > check.log 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "the scenario conflicts with the checkpoint in \[exercise\]" check.log ||
  { cat check.log; fail "check --resume with a changed --set: exit $rc, expected 2"; }
# ... and the other refusals a restart meets before it writes: a checkpoint past a shortened
# run.duration, a directory without the run's files
"$tf" check "$here/tiny.ini" "${sets[@]}" --output out --set run.duration=1h --resume --quiet > check.log 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "past the end of this run" check.log ||
  { cat check.log; fail "check --resume past the end: exit $rc, expected 2"; }
"$tf" check "$here/tiny.ini" "${sets[@]}" --set run.duration=8d --restart out/tiny.chk.nc \
  --output elsewhere --quiet > check.log 2>&1
rc=$?
[ $rc -eq 4 ] && grep -q "cannot reopen NetCDF output 'elsewhere/tiny.nc' for the restart" check.log ||
  { cat check.log; fail "check --restart into a directory without the files: exit $rc, expected 4"; }

# Files of a later run that end before the first run's checkpoint (t = 1440 min) and have no
# checkpoint of their own, as a run killed before its first checkpoint leaves them: a 12 h run
# whose checkpoint is removed. (Killing a 40-day run once 4 rows were out raced on a fast
# machine: the run could pass t = 1440 min between the poll and the kill.) Then restart them
# from the first run's checkpoint.
"$tf" run "$here/tiny.ini" "${args[@]}" --set run.duration=12h --quiet || fail "the 12 h run failed"
rm out/tiny.chk.nc
cp out/tiny.nc nc.before && cp out/tiny.timeseries.csv csv.before
"$tf" run "$here/tiny.ini" "${args[@]}" --set run.duration=40d --restart old.chk.nc --quiet > restart.log 2>&1
rc=$?
[ $rc -eq 2 ] || { cat restart.log; fail "restart from another run's checkpoint: exit $rc, expected 2"; }
grep -q "lacks the row of t = 1410 min" restart.log ||
  { cat restart.log; fail "the refusal does not name the missing row"; }
cmp -s out/tiny.nc nc.before || fail "the refused restart changed tiny.nc"
cmp -s out/tiny.timeseries.csv csv.before || fail "the refused restart changed the time series"

rm -rf out
"$tf" run "$here/tiny.ini" "${args[@]}" --set run.duration=40d --quiet &
pid=$!
wait_rows out/tiny.timeseries.csv 4
[ -f out/tiny.lock ] && grep -q "^pid $pid on host " out/tiny.lock ||
  fail "no lock file naming the running process"
"$tf" run "$here/tiny.ini" "${args[@]}" --set run.duration=1d --quiet > second_run.log 2>&1
rc=$?
[ $rc -eq 2 ] || { cat second_run.log; fail "a second run of the same name: exit $rc, expected 2"; }
grep -q "the output 'out/tiny.\*' is in use by another run (pid $pid on host" second_run.log ||
  { cat second_run.log; fail "the refusal does not name the running process"; }
[ ! -e out/tiny.summary.json ] || fail "the refused run wrote a summary"
# ... and `check` of that run says the same, without taking the lock (it said all was well)
"$tf" check "$here/tiny.ini" "${args[@]}" --set run.duration=1d > check_busy.log 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "the output 'out/tiny.\*' is in use by another run (pid $pid on host" check_busy.log ||
  { cat check_busy.log; fail "check while another run holds the output: exit $rc, expected 2 naming it"; }
"$tf" run "$here/tiny.ini" "${args[@]}" --set run.duration=1d --set run.name=other --quiet ||
  fail "a run of another name in the same directory failed"
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 75 ] || fail "the first run, stopped by SIGTERM: exit $rc, expected 75"
[ ! -e out/tiny.lock ] && [ ! -e out/other.lock ] || fail "a lock file is left after the runs"
# A restart whose NetCDF file (and time series) come from a run of another scenario with the same
# output times: refused, naming the key (the times alone passed it).
rm -rf a b
"$tf" run "$here/tiny.ini" "${sets[@]}" --set run.duration=1d --set exercise.intensity=0.5 \
  --output a --quiet || fail "run a"
"$tf" run "$here/tiny.ini" "${sets[@]}" --set run.duration=1d --set exercise.intensity=0.9 \
  --output b --quiet || fail "run b"
cp b/tiny.nc b/tiny.timeseries.csv a/
"$tf" run "$here/tiny.ini" "${sets[@]}" --set run.duration=2d --set exercise.intensity=0.5 \
  --output a --restart a/tiny.chk.nc --quiet > swapped.log 2>&1
rc=$?
[ $rc -eq 2 ] || { cat swapped.log; fail "restart with another scenario's files: exit $rc, expected 2"; }
grep -qF "is the output of another scenario than this run's ([exercise]: the file has 'intensity = 0.9'" swapped.log ||
  { cat swapped.log; fail "the refusal does not name the scenario's difference"; }

# With --quiet (sweeps) the removal is still said, on stderr.
"$tf" run "$here/tiny.ini" "${args[@]}" --set run.duration=1d --quiet || fail "a quiet run failed"
"$tf" run "$here/tiny.ini" "${args[@]}" --set run.duration=2h --quiet 2> quiet.err ||
  fail "the second quiet run failed"
grep -q "^tumorfield: note: the checkpoint of an earlier run 'tiny' in 'out' was removed" quiet.err ||
  { cat quiet.err; fail "--quiet: the removal of the earlier checkpoint was not said"; }
# Temporary files of a run that died while replacing its checkpoint or time series are removed
# by the next run of that name (nobody else writes them while it holds the lock).
echo junk > out/tiny.chk.nc.tmp
echo junk > out/tiny.timeseries.csv.tmp
"$tf" run "$here/tiny.ini" "${args[@]}" --set run.duration=2h --quiet || fail "a run over stale .tmp files failed"
[ ! -e out/tiny.chk.nc.tmp ] && [ ! -e out/tiny.timeseries.csv.tmp ] ||
  fail "stale .tmp files of an earlier run were left"
echo "stale: a new run removes the earlier checkpoint; another run's checkpoint is refused;" \
     "a second run of the same name is refused while the first runs"
