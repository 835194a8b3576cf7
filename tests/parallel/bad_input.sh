#!/usr/bin/env bash
# Bad input and failures under MPI: the right exit code from mpirun, the message printed once
# (the ranks agree on a failure and rank 0 reports it, not every rank), naming the problem, and
# nothing written on bad input. Without mpirun, --procs asks for it.
# usage: bad_input.sh TUMORFIELD WORKDIR -- LAUNCHER...
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$@"
cd "$work" || exit 1

# expect N|serial CODE REGEX [nowrite] -- ARGS...: run tumorfield ARGS on N ranks (serial: no
# mpirun); exit CODE, exactly one "tumorfield: error:" line on stderr and it matches REGEX, at
# most one hint to --help, no "rank N:" line on stdout; nowrite: ./out must not exist after.
expect() {
  local n=$1 code=$2 re=$3 nowrite=$4; shift 5
  local rc
  rm -rf out
  if [ "$n" = serial ]; then
    "$tf" "$@" >stdout.txt 2>stderr.txt; rc=$?
  else
    launch "$n" "$@" >stdout.txt 2>stderr.txt; rc=$?
  fi
  local errs hints
  errs=$(grep -c "^tumorfield: error:" stderr.txt)
  hints=$(grep -c "^Try 'tumorfield" stderr.txt)
  local why=""
  [ "$rc" -eq "$code" ] || why="exit $rc, expected $code"
  [ "$errs" -eq 1 ] || why="$why; $errs error lines, expected one"
  [ "$hints" -le 1 ] || why="$why; $hints hints to --help"
  grep "^tumorfield: error:" stderr.txt | grep -q -E -- "$re" || why="$why; message lacks /$re/"
  if [ "$nowrite" = nowrite ] && [ -e out ]; then why="$why; ./out was created"; fi
  if [ -n "$why" ]; then
    note_fail "$n: tumorfield $*: $why"
    sed 's/^/    /' stderr.txt | head -20
  else
    echo "ok ($n ranks): exit $code, once: $(grep '^tumorfield: error:' stderr.txt | cut -c1-150)"
  fi
}

run=(run "$ini" --quiet --output out)
# The process grid does not hold the ranks, or cuts a direction into blocks of no cells (checked
# after the count: 0x0x64 on 2 ranks fails on the count; the cells need a grid of 1 or 3 cells).
# (every process meets it: the message names no rank, which would suggest one process alone)
expect 2 2 "error: process grid 3x1x1 .*does not divide the 2 processes" nowrite -- \
  "${run[@]}" --procs 3x1x1
expect 2 2 "process grid 0x0x64 .*does not divide the 2 processes" nowrite -- \
  "${run[@]}" --procs 0x0x64
expect 2 2 "process grid 1x1x2 cuts the 1 cells along z into 2 blocks" nowrite -- \
  "${run[@]}" --set "grid.n=16 12 1" --procs 0x0x2
expect 4 2 "process grid 4x1x1 cuts the 3 cells along x into 4 blocks" nowrite -- \
  "${run[@]}" --set "grid.n=3 12 10" --procs 4x1x1
expect 2 2 "--procs '2x1': expected PXxPYxPZ" nowrite -- "${run[@]}" --procs 2x1
# Counts whose product overflows 32 bits (it once divided by zero), and the same for bench.
expect 2 2 "process grid 65536x65536x1 .*does not divide the 2 processes" nowrite -- \
  "${run[@]}" --procs 65536x65536x1
# A process grid fixed in every direction must hold exactly the processes (MPI_Dims_create
# aborted the job on 1x1x1 for 2 processes, exit 12 without a message).
expect 2 2 "process grid 1x1x1 has 1 processes, but the run has 2" nowrite -- \
  "${run[@]}" --procs 1x1x1
expect 2 2 "process grid 1x1x1 has 1 processes, but the run has 2" - -- \
  bench --grid 8 --steps 1 --procs 1x1x1
expect 2 2 "process grid 3x1x1 .*does not divide the 2 processes" - -- \
  bench --grid 8 --steps 1 --procs 3x1x1
# The host memory of all the processes of a node counts: a bench grid that fits one process
# (0.6 of the memory) but not two is refused before anything is allocated (n from MemTotal:
# 14 float arrays of n^3 cells per process, with about 6% of ghosts and padding).
n_mem=$(awk '/MemTotal/ { printf "%d", exp(log(0.6 * $2 * 1024 / (14 * 4 * 1.06)) / 3) }' /proc/meminfo)
expect 2 2 "bench: --grid $n_mem needs .* GiB of host memory \(2 processes on this node" - -- \
  bench --grid "$n_mem" --steps 1
# check under mpirun applies the same node memory check as a run with those processes (it
# skipped it): a grid of twice the memory in the 20 arrays of the lod cpu run.
n_chk=$(awk '/MemTotal/ { printf "%d", exp(log(2 * $2 * 1024 / (20 * 4)) / 3) }' /proc/meminfo)
expect 2 2 "needs .* GiB of host memory .*for each of the 2 processes of this node" nowrite -- \
  check "$ini" --set "grid.n=$n_chk $n_chk $n_chk"
# Commands that do not run the solver (check, an unknown command): reported once too.
expect 2 2 "run.bogus.*unknown key" nowrite -- check "$ini" --set run.bogus=1
expect 2 2 "unknown command 'frobnicate'" - -- frobnicate
# --backend cuda needs a device on every process (a build without CUDA refuses it first; on a
# machine with GPUs each process takes one, tests/gpu/mpi_ranks.sh).
info=$("$tf" info)
if ! grep -q "cuda not built" <<<"$info"; then
  if grep -q "^cuda devices: *0$" <<<"$info"; then
    expect 2 2 "backend cuda: none of the 2 MPI processes sees a CUDA device" nowrite \
      -- "${run[@]}" --backend cuda
  fi
else
  expect 2 2 "this build has no CUDA backend" nowrite -- "${run[@]}" --backend cuda
fi
# A bad scenario: rank 0 reads it, every rank parses its text, rank 0 reports it.
expect 2 2 "run.bogus.*unknown key" nowrite -- "${run[@]}" --set run.bogus=1
expect 4 2 "model.D_C" nowrite -- "${run[@]}" --set model.D_C=-1
expect 2 4 "cannot read scenario 'missing.ini'" nowrite -- run missing.ini --quiet --output out
# Every process runs the scenario the first one read: from standard input, which mpirun gives
# to rank 0 alone (the others read an empty stdin: MPI_ERR_TRUNCATE, exit 15), the same bits
# as one process.
launch 2 run /dev/stdin --quiet --set run.name=tiny --output stdin2 < "$ini" > stdin2.log 2>&1 ||
  { note_fail "a scenario on standard input, 2 ranks"; cat stdin2.log; }
"$tf" run "$ini" --quiet --output stdin1 ||
  note_fail "the one-process run for the standard-input case"
cmp -s stdin1/tiny.timeseries.csv stdin2/tiny.timeseries.csv ||
  note_fail "a scenario on standard input on 2 ranks: time series differs from one process"
# Processes started with different options (an MPMD launch): refused, not run with different
# physics in different blocks.
"${launcher[@]}" 1 "$tf" run "$ini" --quiet --output out : -n 1 "$tf" run "$ini" --quiet \
  --output out --set model.k_kill=0.1 > stdout.txt 2> stderr.txt
rc=$?
if [ $rc -eq 2 ] && grep -q "processes of this job have different command lines or scenarios (1 of 2" stderr.txt &&
   [ ! -e out ]; then
  echo "ok (2 ranks, MPMD): exit 2: $(grep '^tumorfield: error:' stderr.txt | cut -c1-120)"
else
  note_fail "processes with different --set: exit $rc"; head -5 stderr.txt
fi
# ... with different --procs (a division by zero placing the grid) or --restart on one (a hang),
# and with a bad option on one process only (the others waited in a collective: a hang).
mpmd() { # mpmd EXPECTED_FRAGMENT -- ARGS_OF_THE_SECOND_PROCESS...
  local frag=$1; shift 2
  timeout 120 "${launcher[@]}" 1 "$tf" run "$ini" --quiet --output out : -n 1 "$tf" run "$ini" \
    --quiet --output out "$@" > stdout.txt 2> stderr.txt
  local rc=$?
  if [ $rc -eq 2 ] && grep -q -- "$frag" stderr.txt && [ ! -e out ]; then
    echo "ok (2 ranks, MPMD, $*): exit 2"
  else
    note_fail "MPMD with $* on the second process: exit $rc, expected 2 with '$frag'"
    head -5 stderr.txt
  fi
}
mpmd "different command lines" -- --procs 1x2x1
mpmd "different command lines" -- --restart missing.chk.nc
mpmd "rank 1: run: unknown option '--bogus'" -- --bogus
# Without mpirun: one process.
expect serial 2 "process grid 2x1x1 for a run of one process \(start it with mpirun -n N\)" \
  nowrite -- "${run[@]}" --procs 2x1x1
# A NetCDF file made by one process cannot take records from several (parallel HDF5 would hang
# or fail writing): refused at once; the checkpoint alone would restart on any number.
"$tf" run "$ini" --quiet --set run.duration=2h --output serial_made ||
  note_fail "the one-process run for the restart case"
expect 2 2 "'serial_made/tiny.nc' was written by one process" - -- run "$ini" --quiet \
  --set run.duration=4h --output serial_made --restart serial_made/tiny.chk.nc
# Failures while running: a missing checkpoint (exit 4) and a numerical blow-up (exit 3, the
# last good state saved): reported once.
expect 2 4 "cannot read checkpoint" - -- "${run[@]}" --restart missing.chk.nc
expect 2 3 "numerical failure at step [0-9]+.*last good state.*is saved in" - -- "${run[@]}" \
  --set run.scheme=explicit --set grid.spacing=100um --set run.dt=0.09min --set model.k_kill=100 --set model.rho_E=100 \
  --set run.duration=2h --set output.interval=30min
[ -f out/tiny.chk.nc ] || note_fail "no checkpoint after the numerical failure on 2 ranks"
grep -q '"status": *"numerical_failure"' out/tiny.summary.json 2>/dev/null ||
  note_fail "summary status after the numerical failure"
[ $fail = 0 ] && echo "bad_input: every failure reported once with its exit code"
exit $fail
