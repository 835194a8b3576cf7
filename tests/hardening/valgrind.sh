#!/usr/bin/env bash
# Valgrind memcheck on short runs of the CPU backend: a fresh run, a restart that extends it,
# `check` of a good and of a bad scenario, and a restart from a damaged checkpoint. Each must
# exit with its usual code and show no memcheck error: no invalid read or write, no use of
# uninitialised values, no definite leak. Valgrind's own exit code for an error is 99, apart
# from the program's codes. Library noise (HDF5, NetCDF, OpenMP) is suppressed only by
# tests/hardening/valgrind.supp; our own code is never suppressed.
# usage: valgrind.sh TUMORFIELD WORKDIR
set -uo pipefail
tf=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
cd "$work" || exit 1
export OMP_NUM_THREADS=1
vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-origins=yes --num-callers=30
    --suppressions="$here/valgrind.supp" --gen-suppressions=all)
fail=0
# expect CODE NAME -- ARGS...: the program under valgrind exits CODE (99: a memcheck error).
expect() {
  local code=$1 name=$2; shift 3
  local rc
  "${vg[@]}" --log-file="$work/$name.vg.log" "$tf" "$@" >"$work/$name.out" 2>&1
  rc=$?
  if [ "$rc" -ne "$code" ] || [ -s "$work/$name.vg.log" ]; then
    echo "FAIL: $name: exit $rc (expected $code): $tf $*"
    sed 's/^/    /' "$work/$name.out" | tail -5
    echo "  valgrind:"; sed 's/^/    /' "$work/$name.vg.log" | head -120
    fail=1
  else
    echo "ok: $name (exit $rc, memcheck clean)"
  fi
}
q=(--quiet --backend cpu)
expect 0 run -- run "$here/valgrind.ini" "${q[@]}" --output "$work/out"
expect 0 restart -- run "$here/valgrind.ini" "${q[@]}" --output "$work/out" \
  --set run.duration=3h --restart "$work/out/vg.chk.nc"
expect 0 run_explicit -- run "$here/valgrind.ini" "${q[@]}" --output "$work/expl" \
  --set run.scheme=explicit --set run.dt=0.004min --set run.duration=0.02min \
  --set output.interval=0.008min --set checkpoint.interval=0 --set grid.n=6
expect 0 check -- check "$here/valgrind.ini" --set exercise.intensity=0.7
expect 2 check_bad -- check "$here/../bad_inputs/unknown_key.ini"
head -c 4096 /dev/urandom > "$work/garbage.chk.nc"
expect 2 restart_garbage -- run "$here/valgrind.ini" "${q[@]}" --output "$work/out" \
  --set run.duration=4h --restart "$work/garbage.chk.nc"
[ "$fail" -eq 0 ] && echo "valgrind: all runs memcheck clean"
exit $fail
