#!/usr/bin/env bash
# mpi_ranks.sh TUMORFIELD WORKDIR SCHEME BOUNDARIES N:PXxPYxPZ... -- LAUNCHER...: the CUDA backend
# on several MPI processes (each takes one GPU of its node by node-local rank; on a machine with
# one GPU they share it) against the same scenario on one process:
#   1. the one-process CUDA run: every field of every record of NAME.nc bit for bit. Explicit:
#      the same kernel reads the same ghost values (exchanged or filled). LOD: the cut
#      directions run tf_thomas_forward/backward/periodic on slices in the order of the whole
#      line; the uncut ones the same kernels. A difference is reported with its size (rtol
#      1e-5 of float round-off, else a bug at the cuts).
#   2. the one-process CPU run, last record, within the tolerance of the GPU tests
#      (tests/test_gpu.c): 8 N eps of each field's largest value after N steps (float: LOD 288
#      steps, 2.7e-4; explicit 3000 steps, 2.9e-3).
# The scenarios are those of tests/parallel/compare_ranks.sh (scenario_args in its lib.sh).
# Run by tests/gpu/run-on-device.sh with an MPI build and the launcher
# `mpirun --oversubscribe -n`; needs no netCDF4 module (ncdiff.py reads with h5py).
# BACKEND=cpu runs the same comparisons with the CPU backend: a dry run of this script on a
# machine without a GPU.
here_gpu=$(cd "$(dirname "$0")" && pwd)
source "$here_gpu/../parallel/lib.sh" "$@"
scheme=${args[0]} bounds=${args[1]}
specs=("${args[@]:2}")
ncdiff=$here_gpu/../tools/ncdiff.py
scenario_args "$scheme" "$bounds" || exit 2
backend=${BACKEND:-cuda}
steps=288 # one day of 5 min steps (lod); 3 h of 0.06 min steps (explicit)
[ "$scheme" = explicit ] && steps=3000
rtol=$(awk -v n=$steps 'BEGIN { printf "%.3g", 8 * n * 1.1920929e-7 }')

one() { # one DIR BACKEND: the one-process run into DIR/out (through the launcher: the MPI
  # runtime may be a bundle that a process started without it does not find)
  mkdir -p "$1" && (cd "$1" && launch 1 run "$ini" "${common[@]}" --backend "$2" --output out)
}
one "$work/cuda1" "$backend" || { echo "FAIL: the one-process $backend run failed"; exit 1; }
one "$work/cpu1" cpu || { echo "FAIL: the one-process cpu run failed"; exit 1; }
nrec=$("$py" - "$work/cuda1/out/tiny.nc" <<'PY'
import sys
try:
    from netCDF4 import Dataset
    print(len(Dataset(sys.argv[1]).dimensions["time"]))
except ImportError:
    import h5py
    print(h5py.File(sys.argv[1], "r")["time"].shape[0])
PY
) || { echo "FAIL: cannot read the record count of $work/cuda1/out/tiny.nc"; exit 1; }

for spec in "${specs[@]}"; do
  n=${spec%%:*} procs=${spec#*:}
  d=$work/np${n}_$procs
  mkdir -p "$d"
  if ! (cd "$d" && launch "$n" run "$ini" "${common[@]}" --backend "$backend" --procs "$procs" \
        --output out); then
    note_fail "$n ranks as $procs: the $backend run failed"
    continue
  fi
  grep -q "\"backend\": \"$backend" "$d/out/tiny.summary.json" ||
    note_fail "$n ranks as $procs: the summary does not name the $backend backend"
  for ((k = 0; k < nrec; ++k)); do
    if ! "$py" "$ncdiff" "$work/cuda1/out/tiny.nc" "$d/out/tiny.nc" --record $k; then
      "$py" "$ncdiff" "$work/cuda1/out/tiny.nc" "$d/out/tiny.nc" --record $k --rtol 1e-5 &&
        note_fail "$n ranks as $procs, record $k: not bit for bit the one-process cuda run" \
                  "(within 1e-5: round-off)" ||
        note_fail "$n ranks as $procs, record $k: differs from the one-process cuda run"
      break
    fi
  done
  "$py" "$ncdiff" "$work/cpu1/out/tiny.nc" "$d/out/tiny.nc" --record -1 --rtol "$rtol" ||
    note_fail "$n ranks as $procs: last record differs from the cpu run beyond $rtol"
  echo "== $n ranks as $procs checked"
done
[ $fail = 0 ] && echo "mpi_ranks ($scheme, $bounds): every decomposition on $backend is the" \
                      "one-process $backend run, and within $rtol of the cpu run"
exit $fail
