#!/usr/bin/env bash
# A real signal: start a run, send SIGNAL once it has written a few time-series rows, expect
# exit 75 and a checkpoint; restart to the end; the result must equal the uninterrupted run
# bit for bit. usage: signal_stop.sh TUMORFIELD SIGNAL WORKDIR
set -uo pipefail
tf=$1 sig=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
# Debian's python3 has netCDF4; elsewhere (the GPU machine) ncdiff.py falls back to h5py.
py=/usr/bin/python3
"$py" -c 'import netCDF4' 2>/dev/null || py=python3
ncdiff() { "$py" "$here/../tools/ncdiff.py" "$@"; }
rm -rf "$work" && mkdir -p "$work"
args=(--set grid.n=32 --set grid.spacing=15um --set run.duration=4d --set run.dt=1min
      --set output.interval=1d --set output.timeseries_interval=30min --quiet)

"$tf" run "$here/tiny.ini" "${args[@]}" --output "$work/stop" &
pid=$!
wait_rows "$work/stop/tiny.timeseries.csv" 4
kill -s "$sig" "$pid"
wait "$pid"; rc=$?
if [ "$rc" -ne 75 ]; then echo "expected exit 75 after SIG$sig, got $rc"; exit 1; fi
[ -f "$work/stop/tiny.chk.nc" ] || { echo "no checkpoint after SIG$sig"; exit 1; }
grep -q '"status": *"stopped"' "$work/stop/tiny.summary.json" || { echo "summary not 'stopped'"; exit 1; }

set -e
"$tf" run "$here/tiny.ini" "${args[@]}" --output "$work/stop" --restart "$work/stop/tiny.chk.nc"
"$tf" run "$here/tiny.ini" "${args[@]}" --output "$work/whole"
ncdiff "$work/whole/tiny.chk.nc" "$work/stop/tiny.chk.nc"
ncdiff "$work/whole/tiny.nc" "$work/stop/tiny.nc"
cmp "$work/whole/tiny.timeseries.csv" "$work/stop/tiny.timeseries.csv"
echo "signal_stop (SIG$sig): exit 75, restarted, identical to the uninterrupted run"
