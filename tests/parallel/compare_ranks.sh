#!/usr/bin/env bash
# One scenario run by one process (no mpirun) and by N MPI ranks on several process grids: the
# decomposed run must be the same run, field for field and bit for bit. The code promises the
# same bits: each cell's update reads the same neighbour values (ghost layers exchanged; LOD
# line solves pipelined across ranks with the factors of the whole line), in the same order of
# operations, whatever the blocks. Only sums over cells (time series diagnostics) may differ in
# their last bits, see compare_out.py.
# usage: compare_ranks.sh TUMORFIELD WORKDIR SCHEME BOUNDARIES N:PXxPYxPZ... -- LAUNCHER...
#   SCHEME lod|explicit; BOUNDARIES noflux, mixed or still (scenario_args in lib.sh);
#   N:PXxPYxPZ a rank count and its --procs (0 = chosen by MPI_Dims_create).
# The grid is 15 x 11 x 9 (odd: blocks of unequal size, 1-cell blocks at 8 ranks along z).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$@"
scheme=${args[0]} bounds=${args[1]}
specs=("${args[@]:2}")

scenario_args "$scheme" "$bounds" || exit 2

if [ "$scheme" = explicit ]; then
  # The step must stay below the limit the program prints.
  check=()
  for a in "${common[@]}"; do [ "$a" = --quiet ] || check+=("$a"); done
  lim=$("$tf" check "$ini" "${check[@]}" |
        sed -n 's/^# explicit stability limit: dt <= \([0-9.e+-]*\) min$/\1/p')
  awk -v l="$lim" 'BEGIN { exit !(l > 0.06) }' ||
    { echo "FAIL: dt = 0.06 min is not below the printed stability limit '$lim' min"; exit 1; }
fi

# Every run writes to ./out of its own directory: the stored scenario (output.dir) is the same.
# The CPU backend (on an MPI+CUDA build with a GPU, auto would take CUDA: tests/gpu/mpi_ranks.sh).
t0=$SECONDS
mkdir -p "$work/serial"
(cd "$work/serial" && "$tf" run "$ini" "${common[@]}" --backend cpu --output out) ||
  { echo "FAIL: the one-process run failed"; exit 1; }
for spec in "${specs[@]}"; do
  n=${spec%%:*} procs=${spec#*:}
  d=$work/np${n}_$procs
  mkdir -p "$d"
  t1=$SECONDS
  if ! (cd "$d" && launch "$n" run "$ini" "${common[@]}" --backend cpu --procs "$procs" --output out); then
    note_fail "$n ranks as $procs: the run failed"
    continue
  fi
  echo "== $n ranks, --procs $procs ($((SECONDS - t1)) s)"
  # The summary names the decomposition: N processes, and the process grid when fixed.
  want="$n MPI processes as"
  [[ $procs == *0* ]] || want="$want $procs"
  [ "$n" = 1 ] || grep -q "\"device\": \"cpu ($want" "$d/out/tiny.summary.json" ||
    note_fail "$n ranks as $procs: the summary's backend is not '$want...'"
  same_outputs "$work/serial/out" "$d/out" || note_fail "$n ranks as $procs differ from one process"
done
[ $fail = 0 ] && echo "compare_ranks ($scheme, $bounds): every decomposition is the one-process" \
                      "run ($((SECONDS - t0)) s)"
exit $fail
