#!/usr/bin/env bash
# Failure handling: numerical blow-up (exit 3, last good state saved, message names the field),
# I/O failures (exit 4, nothing earlier destroyed), bad restart files (exit 2 or 4), a scenario
# that conflicts with its checkpoint (exit 2, names the key). usage: failures.sh TUMORFIELD WORKDIR
set -uo pipefail
tf=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
fail=0
# expect CODE REGEX -- command...: run, compare the exit code, grep stderr+stdout for REGEX.
expect() {
  local code=$1 re=$2; shift 3
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -q -E -- "$re" <<<"$out"; then
    echo "FAIL: expected exit $code and /$re/ from: $*"; echo "  got exit $rc:"; sed 's/^/    /' <<<"$out" | tail -8
    fail=1
  else
    echo "ok: exit $code /$re/"
  fi
}
q=(--quiet)

# 1. numerical failure: explicit forward Euler with a killing rate the dt limit does not bound
#    (k_kill Phi E grows with E; rho_E = 100 recruits effectors fast) drives the tumor negative.
expect 3 "numerical failure at step [0-9]+.*field '[a-z_]+' has the bad value.*last good state.*is saved in" -- \
  "$tf" run "$here/tiny.ini" "${q[@]}" --set run.scheme=explicit --set grid.spacing=100um \
  --set run.dt=0.09min --set model.k_kill=100 --set model.rho_E=100 --set run.duration=2h --set output.interval=30min \
  --output "$work/blowup"
[ -f "$work/blowup/tiny.chk.nc" ] || { echo "FAIL: no checkpoint after numerical failure"; fail=1; }
grep -q '"status": *"numerical_failure"' "$work/blowup/tiny.summary.json" || { echo "FAIL: summary status"; fail=1; }

# 1b. the same with a row every minute: the first row whose sums show the bad state stops the
#     run (step 11), before that row is written; no NaN or negative row reaches the CSV (before,
#     rows went on to the record at 30 min).
expect 3 "numerical failure at step 11 \(t = 0.99 min\): field 'tumor' has the bad value" -- \
  "$tf" run "$here/tiny.ini" "${q[@]}" --set run.scheme=explicit --set grid.spacing=100um \
  --set run.dt=0.09min --set model.k_kill=100 --set model.rho_E=100 --set run.duration=2h --set output.interval=30min \
  --set output.timeseries_interval=1min --output "$work/blowup_rows"
awk -F, 'NR > 1 && ($3 < 0 || /nan/) { bad = 1 } END { exit bad }' "$work/blowup_rows/tiny.timeseries.csv" ||
  { echo "FAIL: a NaN or negative row in the time series"; fail=1; }

# 1c. a state gone slightly negative in a few cells (-5e-13 in the tumor fraction at t = 60 min)
#     does not show in the sums: the state is checked before each row, so neither the time
#     series nor the summary's final row holds the bad state (both had a row at t = 60 min,
#     from the state the run then called bad; the last good one was at t = 0)
cat > "$work/negative.ini" <<'INI'
[run]
name = negative
duration = 1 d
dt = 0.3 min
scheme = explicit
[grid]
n = 16
spacing = 200 um
[output]
interval = 1 h
timeseries_interval = 1 h
[exercise]
sessions_per_week = 7
[model]
m_ex = 100
rho_E = 100
mu_E = 0
k_ex = 0
mu_CE = 0
INI
expect 3 "numerical failure at step 200 \(t = 60 min\): field 'tumor' has the bad value -.*last good state \(step 0, t = 0 min\)" -- \
  "$tf" run "$work/negative.ini" "${q[@]}" --output "$work/negative"
last_row=$(tail -n 1 "$work/negative/negative.timeseries.csv" | cut -d, -f1)
final_t=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["final"]["time_min"])' \
  "$work/negative/negative.summary.json")
if [ "$last_row" = 0 ] && [ "$final_t" = 0 ]; then
  echo "ok: no row of the bad state (the last row and the summary's final row at t = 0)"
else
  echo "FAIL: after the failure at t = 60 min the last row is at t = $last_row, the summary's at $final_t"; fail=1
fi

# 2. output directory that cannot exist (under a regular file)
touch "$work/plainfile"
expect 4 "plainfile" -- "$tf" run "$here/tiny.ini" "${q[@]}" --output "$work/plainfile/out"

# 3. a good run on a 32^3 grid (checkpoint ~0.9 MB), then a restart under an 800 KB file-size
#    limit: appending to the output fails (exit 4), the final checkpoint cannot be written either,
#    and the old checkpoint stays intact, with no temporary file left behind.
big=(--set grid.n=32 --set grid.spacing=15um)
"$tf" run "$here/tiny.ini" "${q[@]}" "${big[@]}" --set run.duration=1d --output "$work/full" || fail=1
cp "$work/full/tiny.chk.nc" "$work/chk.before"
expect 4 "NetCDF|File too large|cannot" -- bash -c "ulimit -f 800; exec '$tf' run '$here/tiny.ini' --quiet \
  --set grid.n=32 --set grid.spacing=15um --set run.duration=4d --output '$work/full' --restart '$work/full/tiny.chk.nc'"
cmp "$work/full/tiny.chk.nc" "$work/chk.before" || { echo "FAIL: checkpoint changed after I/O failure"; fail=1; }
[ ! -e "$work/full/tiny.chk.nc.tmp" ] || { echo "FAIL: temporary checkpoint left behind"; fail=1; }
ncdump -h "$work/full/tiny.nc" > /dev/null || { echo "FAIL: output unreadable after I/O failure"; fail=1; }

# 3b. disk full during a fresh run: the output written so far stays a readable NetCDF file
expect 4 "NetCDF|File too large|cannot" -- bash -c "ulimit -f 1500; exec '$tf' run '$here/tiny.ini' --quiet \
  --set grid.n=32 --set grid.spacing=15um --set output.interval=2h --output '$work/fill'"
ncdump -h "$work/fill/tiny.nc" > /dev/null || { echo "FAIL: partial output unreadable"; fail=1; }
grep -q '"status": *"io_failure"' "$work/fill/tiny.summary.json" 2>/dev/null || echo "note: summary could not be written under the limit"

# 3b'. limits where the first record and then the checkpoint of its state fail (HDF5 kept the
#      torn checkpoint open and crashed in its exit handler: exit 139): exit 4 at every limit.
for lim in 100 300 500 700; do
  expect 4 "cannot write (record 0|the header)" -- bash -c "ulimit -f $lim; exec '$tf' run '$here/tiny.ini' --quiet \
    --set grid.n=32 --set grid.spacing=15um --set output.interval=2h --output '$work/fill_$lim'"
done

# 3b'''. the first record fails and its state cannot be saved either: a note says there is
#        nothing to restart from (there was no word of the checkpoint at all)
expect 4 "note: the (state of the missing output could not be saved|run failed at its first output).*nothing to restart from" -- \
  bash -c "ulimit -f 2000; exec '$tf' run '$here/tiny.ini' --quiet --set grid.n=48 \
  --set output.compression=0 --set run.duration=1d --output '$work/first_record'"

# 3b''. the output fits but the checkpoint does not: the message names the checkpoint and the
#       limit (HDF5 alone says "HDF error"), and the run exits 4.
expect 4 "cannot write the state to checkpoint '.*tiny.chk.nc.tmp': it needs up to .* file size limit \(ulimit -f\) of 700 KiB; this run has no checkpoint yet" -- \
  bash -c "ulimit -f 700; exec '$tf' run '$here/tiny.ini' --quiet --set grid.n=32 --set grid.spacing=15um \
  --set run.duration=2h --set output.fields=tumor --output '$work/chk_limit'"

# 3c. the output fills up at a record (t = 2 h): the checkpoint holds that record's state, and a
#     restart from it writes the record first, so the files end as an uninterrupted run's
#     (time axis, fields and time series equal; nothing missing, nothing twice).
fill=(--set grid.n=32 --set grid.spacing=15um --set output.interval=2h --set run.duration=8h
      --set output.compression=0)
"$tf" run "$here/tiny.ini" "${q[@]}" "${fill[@]}" --output "$work/gap2" ||
  { echo "FAIL: the uninterrupted run"; fail=1; }
out=$(bash -c 'ulimit -f 1500; exec "$0" "$@"' "$tf" run "$here/tiny.ini" "${fill[@]}" \
      --output "$work/gap" 2>&1)
rc=$?
if [ $rc -eq 4 ] && grep -q "cannot write record 1 (t = 120 min)" <<<"$out" &&
   grep -q "state at step 24 (t = 120 min), whose output is the first missing, is saved" <<<"$out"; then
  echo "ok: exit 4, the failed record's state saved"
else
  echo "FAIL: expected exit 4 naming record 1 and the saved state; got exit $rc:"
  tail -5 <<<"$out" | sed 's/^/    /'; fail=1
fi
grep -q "time_min = 120\." <<<"$(ncdump -h "$work/gap/tiny.chk.nc")" ||
  { echo "FAIL: the checkpoint is not at the failed record (t = 120 min)"; fail=1; }
"$tf" run "$here/tiny.ini" "${q[@]}" "${fill[@]}" --output "$work/gap" \
  --restart "$work/gap/tiny.chk.nc" || { echo "FAIL: restart after the full disk"; fail=1; }
for v in time tumor cortisol vessel; do
  cmp -s <(ncdump -v "$v" "$work/gap2/tiny.nc" | sed -n '/^data:/,$p') \
         <(ncdump -v "$v" "$work/gap/tiny.nc" | sed -n '/^data:/,$p') ||
    { echo "FAIL: '$v' after the restart differs from the uninterrupted run"; fail=1; }
done
cmp -s "$work/gap2/tiny.timeseries.csv" "$work/gap/tiny.timeseries.csv" ||
  { echo "FAIL: time series after the restart differs from the uninterrupted run"; fail=1; }

# 3d. NAME.nc cannot be created (a directory is in the way): the message says so, and an
#     earlier run's summary and checkpoint stay as they were (nothing of this run exists).
mkdir -p "$work/blocked"
"$tf" run "$here/tiny.ini" "${q[@]}" --set run.duration=1h --output "$work/blocked" >/dev/null 2>&1
cp "$work/blocked/tiny.summary.json" "$work/blocked.summary.before"
rm "$work/blocked/tiny.nc" && mkdir "$work/blocked/tiny.nc"
expect 4 "tiny.nc.*is a directory" -- "$tf" run "$here/tiny.ini" "${q[@]}" --output "$work/blocked"
cmp -s "$work/blocked/tiny.summary.json" "$work/blocked.summary.before" ||
  { echo "FAIL: a run that created nothing replaced the earlier summary:"; cat "$work/blocked/tiny.summary.json"; fail=1; }

# 3d'. a fresh run that fails while writing its NetCDF header (a file size limit) leaves the
#      earlier run's NAME.nc whole: it is made as NAME.nc.tmp and renamed once its header is
#      written (it was truncated to a broken file of a few hundred bytes)
mkdir -p "$work/hdr" && "$tf" run "$here/tiny.ini" "${q[@]}" --set run.duration=1h --output "$work/hdr" >/dev/null 2>&1
cksum "$work/hdr/tiny.nc" > "$work/hdr.before"
expect 4 "cannot write the header and the vessel map to NetCDF output '.*tiny.nc.tmp'.*an earlier run's file of this name stays as it was" -- \
  bash -c "ulimit -f 8; exec '$tf' run '$here/tiny.ini' --quiet --set run.duration=1h --output '$work/hdr'"
cksum "$work/hdr/tiny.nc" | cmp -s - "$work/hdr.before" && [ ! -e "$work/hdr/tiny.nc.tmp" ] ||
  { echo "FAIL: the earlier run's NetCDF file changed, or the temporary file was left"; fail=1; }

# 3e. a directory in the way of another of the run's files: run and check refuse it at once,
#     naming it, and nothing is written (the summary's was found only after the whole run, the
#     time series' and the checkpoint's after NAME.nc had been made)
for n in tiny.timeseries.csv tiny.chk.nc tiny.summary.json tiny.lock; do
  rm -rf "$work/nosum" && mkdir -p "$work/nosum/$n"
  expect 4 "output file '.*nosum/$n' exists and is a directory" -- "$tf" run "$here/tiny.ini" \
    "${q[@]}" --set run.duration=1h --output "$work/nosum"
  expect 4 "output file '.*nosum/$n' exists and is a directory" -- "$tf" check "$here/tiny.ini" \
    --set output.dir="$work/nosum"
  [ "$(ls "$work/nosum")" = "$n" ] || { echo "FAIL: $n in the way: files were written: $(ls "$work/nosum")"; fail=1; }
done

# 3f. a directory in the way of the checkpoint's temporary file: refused at the start like the
#     others (it failed the run after all its steps; before that it read "Permission denied")
mkdir -p "$work/nochk/tiny.chk.nc.tmp/x"
expect 4 "output file '.*tiny.chk.nc.tmp' exists and is a directory" -- "$tf" run "$here/tiny.ini" "${q[@]}" \
  --set run.duration=1h --output "$work/nochk"
[ "$(ls "$work/nochk")" = tiny.chk.nc.tmp ] || { echo "FAIL: files written beside the blocked .tmp"; fail=1; }

# 3g. a restart into a directory without the run's files: refused (exit 4) before the directory
#     is made (an empty one was left behind)
expect 4 "cannot reopen NetCDF output '.*elsewhere/tiny.nc' for the restart: No such file or directory \(a restart continues the files" -- \
  "$tf" run "$here/tiny.ini" "${q[@]}" "${big[@]}" --set run.duration=2d --output "$work/elsewhere" \
  --restart "$work/full/tiny.chk.nc"
[ ! -e "$work/elsewhere" ] || { echo "FAIL: the refused restart made its output directory"; fail=1; }

# 4. restart files that are missing, not NetCDF, or not a checkpoint
expect 4 "cannot read checkpoint" -- "$tf" run "$here/tiny.ini" "${q[@]}" --output "$work/r" --restart "$work/missing.chk.nc"
expect 2 "cannot read checkpoint|not a TumorField checkpoint" -- "$tf" run "$here/tiny.ini" "${q[@]}" --output "$work/r" --restart "$here/tiny.ini"
expect 2 "not a TumorField checkpoint" -- "$tf" run "$here/tiny.ini" "${q[@]}" --output "$work/r" --restart "$work/full/tiny.nc"
head -c 4096 /dev/urandom > "$work/garbage.chk.nc"
expect 2 "cannot read checkpoint|not a TumorField checkpoint" -- "$tf" run "$here/tiny.ini" "${q[@]}" --output "$work/r" --restart "$work/garbage.chk.nc"

# 4b. a checkpoint whose values no run saves (a negative cortisol; a variable never written
#     holds the fill value): refused, naming the variable and the cell, nothing overwritten
if /usr/bin/python3 -c 'import netCDF4' 2>/dev/null; then
  cp "$work/full/tiny.chk.nc" "$work/bad_value.chk.nc"
  /usr/bin/python3 -c 'import netCDF4, sys
with netCDF4.Dataset(sys.argv[1], "a") as d: d["cortisol"][3, 2, 1] = -1.0' "$work/bad_value.chk.nc"
  expect 2 "variable 'cortisol' holds -1 at cell \(i,j,k\) = \(1, 2, 3\)" -- "$tf" run "$here/tiny.ini" \
    "${q[@]}" "${big[@]}" --set run.duration=3d --output "$work/full" --restart "$work/bad_value.chk.nc"
else
  echo "note: no python3 netCDF4: the bad-value checkpoint case is skipped"
fi

# 4b. a log reader that goes away (`| head`, a dead tee) does not end the run: SIGPIPE is
#     ignored, the progress lines fail, the run finishes (it died by SIGPIPE, exit 141, leaving
#     no checkpoint, no summary and its lock file)
"$tf" run "$here/tiny.ini" --set run.duration=12h --output "$work/pipe" | head -2 >/dev/null
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 0 ] && grep -q '"status": *"finished"' "$work/pipe/tiny.summary.json" &&
   [ ! -e "$work/pipe/tiny.lock" ]; then
  echo "ok: a run piped into head finished"
else
  echo "FAIL: a run piped into head: exit $rc"; fail=1
fi

# 4b'. SIGHUP stops a run as SIGTERM does, but not one started with nohup (SIGHUP ignored):
#      that one was asked to outlive its terminal
nohup "$tf" run "$here/tiny.ini" "${q[@]}" --set run.duration=400d --set run.dt=1min \
  --set output.interval=400d --set output.timeseries_interval=400d --output "$work/nohup" \
  >/dev/null 2>&1 &
pid=$!
sleep 1
kill -HUP $pid
sleep 0.5
if kill -0 $pid 2>/dev/null; then
  kill -TERM $pid; wait $pid; rc=$?
  [ $rc -eq 75 ] && echo "ok: a nohup run outlived SIGHUP and stopped on SIGTERM (75)" ||
    { echo "FAIL: the nohup run, stopped by SIGTERM: exit $rc, expected 75"; fail=1; }
else
  wait $pid; echo "FAIL: a run started with nohup ended on SIGHUP (exit $?)"; fail=1
fi

# 4c. a checkpoint damaged after it was written (2 KB of zeros inside its data, which passed
#     as a state before): every variable carries a Fletcher-32 checksum, the read fails
size=$(stat -c %s "$work/full/tiny.chk.nc")
for at in $((size / 4)) $((size / 2)) $((size * 3 / 4)); do
  cp "$work/full/tiny.chk.nc" "$work/zeroed.chk.nc"
  dd if=/dev/zero of="$work/zeroed.chk.nc" bs=1 count=2048 seek="$at" conv=notrunc 2>/dev/null
  expect 2 "checkpoint '.*zeroed.chk.nc': variable '[a-z_]+' cannot be read: .*checksum" -- \
    "$tf" run "$here/tiny.ini" "${q[@]}" "${big[@]}" --set run.duration=3d --output "$work/full" \
    --restart "$work/zeroed.chk.nc"
  # `check --restart` reads the whole checkpoint as the run would (it read only its header)
  expect 2 "checkpoint '.*zeroed.chk.nc': variable '[a-z_]+' cannot be read: .*checksum" -- \
    "$tf" check "$here/tiny.ini" "${big[@]}" --set run.duration=3d --output "$work/full" \
    --restart "$work/zeroed.chk.nc"
done
# ... and a checkpoint cut short is called damaged (HDF5 says only "HDF error")
head -c $((size / 2)) "$work/full/tiny.chk.nc" > "$work/cut.chk.nc"
expect 2 "cannot read checkpoint '.*cut.chk.nc': .*a damaged or cut-short one" -- \
  "$tf" check "$here/tiny.ini" "${big[@]}" --set run.duration=3d --output "$work/full" \
  --restart "$work/cut.chk.nc"


# 4c'. data that HDF5's per-chunk checksums pass but that are not what was saved (here rewritten
#      through the library, which updates them; on disk, a damaged chunk index that reads a
#      chunk from the wrong place): the content checksum of each variable refuses it
if /usr/bin/python3 -c 'import netCDF4' 2>/dev/null; then
  cp "$work/full/tiny.chk.nc" "$work/swapped.chk.nc"
  /usr/bin/python3 -c 'import netCDF4, sys
with netCDF4.Dataset(sys.argv[1], "a") as d: d["effector"][1, 2, 3] = d["effector"][1, 2, 3] + 0.125' "$work/swapped.chk.nc"
  expect 2 "checkpoint '.*swapped.chk.nc': the data of variable 'effector' do not match the checksum" -- \
    "$tf" run "$here/tiny.ini" "${q[@]}" "${big[@]}" --set run.duration=3d --output "$work/full" \
    --restart "$work/swapped.chk.nc"
  expect 2 "checkpoint '.*swapped.chk.nc': the data of variable 'effector' do not match the checksum" -- \
    "$tf" check "$here/tiny.ini" "${big[@]}" --set run.duration=3d --output "$work/full" \
    --restart "$work/swapped.chk.nc"
fi

# 4d. a damaged row in the time series is named as such (it was taken for the file's end, and
#     the restart blamed the checkpoint for the rows after it)
cp -r "$work/full" "$work/badrow"
sed -i '5s/^/abc/' "$work/badrow/tiny.timeseries.csv"
expect 2 "time series '.*tiny.timeseries.csv': line 5 \('abc[^']*'\) is not a row of this program" -- \
  "$tf" run "$here/tiny.ini" "${q[@]}" "${big[@]}" --set run.duration=3d --output "$work/badrow" \
  --restart "$work/badrow/tiny.chk.nc"
expect 2 "time series '.*tiny.timeseries.csv': line 5 \('abc[^']*'\) is not a row of this program" -- \
  "$tf" check "$here/tiny.ini" "${big[@]}" --set run.duration=3d --output "$work/badrow" \
  --restart "$work/badrow/tiny.chk.nc"

# 4d'. a time series cut short, or not there, while rows are due before the checkpoint's time:
#      run and check refuse the restart (a missing file was started afresh: the rows before
#      the checkpoint were lost without a word), naming the time; an empty file is the way to
#      ask for a new time series, which then starts with the row of the checkpoint's state
for cut in short missing; do
  rm -rf "$work/rows_$cut" && cp -r "$work/full" "$work/rows_$cut"
  csv="$work/rows_$cut/tiny.timeseries.csv"
  if [ $cut = short ]; then head -n 5 "$csv" > "$csv.x" && mv "$csv.x" "$csv"; re="lacks the row of t = 1380 min"
  else rm "$csv"; re="the time series '.*' is not there, but its rows up to t = 1380 min are due"; fi
  for cmd in run check; do
    expect 2 "$re" -- "$tf" $cmd "$here/tiny.ini" "${q[@]}" "${big[@]}" --set run.duration=3d \
      --output "$work/rows_$cut" --restart "$work/rows_$cut/tiny.chk.nc"
  done
done
: > "$work/rows_missing/tiny.timeseries.csv"
"$tf" run "$here/tiny.ini" "${q[@]}" "${big[@]}" --set run.duration=3d --output "$work/rows_missing" \
  --restart "$work/rows_missing/tiny.chk.nc" || { echo "FAIL: a restart with an empty time series"; fail=1; }
first=$(sed -n 2p "$work/rows_missing/tiny.timeseries.csv" | cut -d, -f1)
[ "$first" = 1440 ] && echo "ok: an emptied time series starts again at the checkpoint (t = 1440 min)" ||
  { echo "FAIL: the emptied time series' first row is at t = $first, expected 1440"; fail=1; }

# ... but damage only after the restart's time (a blank line, a half-written last row) is in
#     rows the restart drops anyway: accepted
cp -r "$work/full" "$work/tailrow"
printf '\n2881,garbage\n' >> "$work/tailrow/tiny.timeseries.csv"
"$tf" run "$here/tiny.ini" "${q[@]}" "${big[@]}" --set run.duration=3d --output "$work/tailrow" \
  --restart "$work/tailrow/tiny.chk.nc" && echo "ok: damage after the restart's time is dropped" ||
  { echo "FAIL: a restart refused damage in rows it drops"; fail=1; }

# 5. the same output directory spelled another way ('dir/', './dir') is the same directory
"$tf" run "$here/tiny.ini" "${q[@]}" "${big[@]}" --output "$work/full/" \
  --restart "$work/full/tiny.chk.nc" && echo "ok: restart with --output DIR/" ||
  { echo "FAIL: a restart with the output directory spelled 'DIR/' was refused"; fail=1; }

# 5a. a run's directory copied elsewhere restarts there (output.dir may differ)
cp -r "$work/full" "$work/moved"
"$tf" run "$here/tiny.ini" "${q[@]}" "${big[@]}" --set run.duration=3d --output "$work/moved" \
  --restart "$work/moved/tiny.chk.nc" && echo "ok: restart in a copied directory" ||
  { echo "FAIL: a restart in a copied directory was refused"; fail=1; }
# ... and its NetCDF file now says how it was made: the restart's run.duration and output.dir
# in the attribute scenario (it kept the first run's), a history line saying so
hdr=$(ncdump -h "$work/moved/tiny.nc")
if grep -qF 'duration = 3 d' <<<"$hdr" && grep -qF "dir = $work/moved\\n" <<<"$hdr" &&
   grep -q 'the attribute scenario is now the restart' <<<"$hdr"; then
  echo "ok: the moved run's NetCDF scenario is the restart's"
else
  echo "FAIL: the NetCDF scenario attribute after a restart with a new duration and directory:"
  ncdump -h "$work/moved/tiny.nc" | grep -E 'duration|history' | cut -c1-200; fail=1
fi

# 5b. a scenario that conflicts with the checkpoint
expect 2 "conflicts with the checkpoint.*\[patient\].*depression" -- "$tf" run "$here/tiny.ini" "${q[@]}" \
  "${big[@]}" --set patient.depression=0.1 --output "$work/full" --restart "$work/full/tiny.chk.nc"

# 5c. keys are compared by name: a boundary face the checkpoint's run left to 'all' is named
#     as such (lines were compared by position: another key was named)
expect 2 "\[boundary\]: the scenario has 'effector.z_lo = dirichlet 0.1', the checkpoint has no 'effector.z_lo' line" -- \
  "$tf" run "$here/tiny.ini" "${q[@]}" "${big[@]}" --set "boundary.effector.z_lo=dirichlet 0.1" \
  --output "$work/full" --restart "$work/full/tiny.chk.nc"

# 5d. the same value in another unit is the same value (0.27 1/h = 0.0045 1/min, printed one
#     ulp apart)
cp -r "$work/full" "$work/units"
"$tf" run "$here/tiny.ini" "${q[@]}" "${big[@]}" --set "model.k_kill=0.27 1/h" --output "$work/units" \
  --restart "$work/units/tiny.chk.nc" && echo "ok: restart with k_kill in 1/h" ||
  { echo "FAIL: a restart with the same k_kill in 1/h was refused"; fail=1; }

# 5d'. ... also where the two print in different units (6 h against 360.00000000000006 min)
cp -r "$work/full" "$work/units2"
"$tf" run "$here/tiny.ini" "${q[@]}" "${big[@]}" --set "output.interval=360.00000000000006 min" \
  --output "$work/units2" --restart "$work/units2/tiny.chk.nc" &&
  echo "ok: restart with output.interval printed in another unit" ||
  { echo "FAIL: a restart with the same output.interval in minutes was refused"; fail=1; }
# ... but whole numbers must match exactly: two seeds 615 apart near 2^64 are 3e-17 apart
# relatively and were taken as one (a checkpoint of another run's vessel network accepted).
"$tf" run "$here/tiny.ini" "${q[@]}" --set grid.n=8 --set run.duration=2h \
  --set run.seed=18446744073709551615 --output "$work/seed" >/dev/null 2>&1
expect 2 "conflicts with the checkpoint in \[run\]: the checkpoint has 'seed = 18446744073709551615'" -- \
  "$tf" run "$here/tiny.ini" "${q[@]}" --set grid.n=8 --set run.duration=4h \
  --set run.seed=18446744073709551000 --output "$work/seed" --restart "$work/seed/tiny.chk.nc"

# 5e. a checkpoint of another version of the program restarts, with a note (the version was
#     compared as part of the scenario text: every requeue after an upgrade failed)
if /usr/bin/python3 -c 'import netCDF4' 2>/dev/null; then
  cp -r "$work/full" "$work/oldver"
  for f in "$work/oldver/tiny.chk.nc" "$work/oldver/tiny.nc"; do
    /usr/bin/python3 -c 'import netCDF4, sys
with netCDF4.Dataset(sys.argv[1], "a") as d:
    t = d.getncattr("scenario"); i = t.index("(tumorfield "); j = t.index(")", i)
    d.setncattr("scenario", t[:i] + "(tumorfield 0.0.9, commit 0123456789ab" + t[j:])' "$f"
  done
  expect 0 "note: the checkpoint was written by tumorfield 0.0.9, commit 0123456789ab, this is tumorfield" -- \
    "$tf" run "$here/tiny.ini" "${big[@]}" --set run.duration=3d --output "$work/oldver" \
    --restart "$work/oldver/tiny.chk.nc"
fi

# 6. another user's files (as root only, where setpriv can drop to nobody): in a directory with
#    the sticky bit (/tmp) a run may not replace them, and check and run refuse it before
#    anything changes (a run had replaced some and failed on the others); in a directory
#    without it a new run replaces them all; a restart that would write into another user's
#    NetCDF file is refused by both, nothing changed
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
chmod o+rx "$work"
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null &&
   "${as_nobody[@]}" "$tf" --version > /dev/null 2>&1 && "${as_nobody[@]}" test -x "$work"; then
  for d in sticky open; do
    mkdir -p "$work/$d" && chmod 1777 "$work/$d"
    [ $d = open ] && chmod 0777 "$work/$d"
    "$tf" run "$here/tiny.ini" "${q[@]}" --set run.duration=6h --output "$work/$d" || fail=1
    before=$(cd "$work/$d" && md5sum tiny.* | md5sum)
    if [ $d = sticky ]; then
      for cmd in check run; do
        expect 4 "output file '.*tiny.nc' belongs to another user \(uid 0\) in a directory with the sticky bit" -- \
          "${as_nobody[@]}" "$tf" $cmd "$here/tiny.ini" "${q[@]}" --set run.duration=6h --output "$work/$d"
      done
      [ "$(cd "$work/$d" && md5sum tiny.* | md5sum)" = "$before" ] && echo "ok: root's files untouched" ||
        { echo "FAIL: a refused run changed root's files"; fail=1; }
    else
      "${as_nobody[@]}" "$tf" run "$here/tiny.ini" "${q[@]}" --set run.duration=6h --output "$work/$d" 2>/dev/null &&
        [ -z "$(find "$work/$d" -name 'tiny.*' -user root)" ] &&
        echo "ok: a run as nobody replaced root's files in a directory without the sticky bit" ||
        { echo "FAIL: a run as nobody in a world-writable directory with root's files"; fail=1; }
    fi
  done
  mkdir -p "$work/theirs" && chmod 0777 "$work/theirs"
  "$tf" run "$here/tiny.ini" "${q[@]}" --set run.duration=6h --output "$work/theirs" || fail=1
  before=$(cd "$work/theirs" && md5sum tiny.* | md5sum)
  for cmd in check run; do
    expect 4 "NetCDF output '.*theirs/tiny.nc' cannot be written: Permission denied \(this run writes into it" -- \
      "${as_nobody[@]}" "$tf" $cmd "$here/tiny.ini" "${q[@]}" --set run.duration=12h --output "$work/theirs" \
      --restart "$work/theirs/tiny.chk.nc"
  done
  [ "$(cd "$work/theirs" && md5sum tiny.* | md5sum)" = "$before" ] || { echo "FAIL: a refused restart changed files"; fail=1; }
else
  echo "SKIP: 6. other users' files: needs root, setpriv, and the program and $work open to nobody"
fi

exit $fail
