#!/usr/bin/env bash
# Bit-for-bit restart: run to 2t in one go; run to t, then restart from the checkpoint to 2t.
# Every field of the final checkpoint and of the last output record must be identical, and the
# output and time series must hold the same records as the uninterrupted run.
# usage: restart_bitwise.sh TUMORFIELD SCHEME WORKDIR [BACKEND]
# BACKEND cpu (default) or cuda; cuda exits 77 (skipped) when no device is present.
set -euo pipefail
tf=$1 scheme=$2 work=$3 backend=${4:-cpu}
if [ "$backend" = cuda ] && ! "$tf" info | grep -Eq '^cuda devices: *[1-9]'; then
  echo "SKIPPED: no CUDA device present (restart_bitwise $scheme on cuda)"
  exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
# Debian's python3 has netCDF4; elsewhere (the GPU machine) ncdiff.py falls back to h5py.
py=/usr/bin/python3
"$py" -c 'import netCDF4' 2>/dev/null || py=python3
ncdiff() { "$py" "$here/../tools/ncdiff.py" "$@"; }
rm -rf "$work" && mkdir -p "$work"
common=(--set run.scheme=$scheme --backend $backend --quiet)
if [ "$scheme" = explicit ]; then
  # explicit limit 1/(6 D_C/h^2 + lambda_C + mu_C) = 0.0999 min at 100 um; 0.075 min puts the
  # half (3200 steps) on the record cadence (1600 steps)
  common+=(--set run.dt=0.075min --set grid.spacing=100um --set tumor.radius=250um
           --set output.interval=2h)
  half=4h full=8h
else
  half=1d full=2d
fi

"$tf" run "$here/tiny.ini" "${common[@]}" --set run.duration=$full --output "$work/whole"
"$tf" run "$here/tiny.ini" "${common[@]}" --set run.duration=$half --output "$work/split"
"$tf" run "$here/tiny.ini" "${common[@]}" --set run.duration=$full --output "$work/split" \
      --restart "$work/split/tiny.chk.nc"

ncdiff "$work/whole/tiny.chk.nc" "$work/split/tiny.chk.nc" --vars tumor,effector,suppressor,pro_cytokine,anti_cytokine,cortisol,vessel
ncdiff "$work/whole/tiny.nc" "$work/split/tiny.nc"
cmp "$work/whole/tiny.timeseries.csv" "$work/split/tiny.timeseries.csv"
echo "restart_bitwise ($scheme, $backend): identical"
