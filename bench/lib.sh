# lib.sh: pieces the benchmark record scripts share (sourced, not run).

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench_script=$(basename "$0")

# record_path NAME [OUTFILE]: OUTFILE, else bench/results/DATE-NAME.md of this repository
# (wherever it is run from), or DATE-NAME-2.md, -3.md ... where a record of that name exists: a
# second run of a day does not replace the first (an OUTFILE given is the caller's to choose,
# and is replaced). Exits 2 before any run when the record could not be written there.
record_path() {
  local p
  if [ -n "${2:-}" ]; then
    p=$2
  else
    local base=$bench_dir/results/$(date -u +%Y-%m-%d)-$1 k=2
    p=$base.md
    while [ -e "$p" ]; do p=$base-$k.md; k=$((k + 1)); done
  fi
  local dir
  dir=$(dirname "$p")
  if [ ! -d "$dir" ] || [ ! -w "$dir" ] || [ -d "$p" ] || { [ -e "$p" ] && [ ! -w "$p" ]; }; then
    echo "$bench_script: cannot write the record '$p' (a directory, or its directory is" \
         "missing or not writable); nothing was run" >&2
    exit 2
  fi
  echo "$p"
}

# need_tumorfield EXE...: each an executable tumorfield, a path or a command on PATH (its
# --version answers), else exit 2 before any run.
need_tumorfield() {
  local e
  for e in "$@"; do
    if ! command -v "$e" > /dev/null 2>&1 || ! "$e" --version > /dev/null 2>&1; then
      echo "$bench_script: '$e' is not a tumorfield executable (build one: scripts/setup," \
           "or cmake --build build); nothing was run" >&2
      exit 2
    fi
  done
}

# record_begin: a temporary file for the runs' JSON lines ($jsonl), removed however the script
# ends, like the record's temporary ($out.tmp, renamed onto $out by record_end when whole).
record_begin() {
  jsonl=$(mktemp)
  trap 'rm -f "$jsonl" "$jsonl.1" "$out.tmp"' EXIT
}
record_end() {
  mv "$out.tmp" "$out"
  echo "wrote $out"
}

# mpi_run: the mpirun command line the MPI records use (each process bound to a core; as root
# Open MPI wants --allow-run-as-root), into the array mpi.
mpi_run() {
  mpi=(mpirun --bind-to core --oversubscribe)
  if [ "$(id -u)" = 0 ]; then mpi+=(--allow-run-as-root); fi
}

# The CPUs this process may use, whatever OMP_NUM_THREADS says (GNU nproc reports that
# variable's value when it is set).
ncpus() { env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc; }

# The machine, as a record's first list item.
machine_line() {
  # x86 names family and model; other CPUs (aarch64: no such lines) get lscpu's model name.
  local name fam mod simd=no
  name=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //' || true)
  [ -n "$name" ] || name=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1 || true)
  fam=$(grep -m1 '^cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ' || true)
  mod=$(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' ' || true)
  grep -qw avx512f /proc/cpuinfo && simd=yes
  echo "- machine: ${name:-unknown CPU} ($(uname -m)${fam:+, family $fam}${mod:+, model $mod}, AVX-512 $simd), nproc $(ncpus), $(free -g | awk '/Mem:/{print $2}') GiB"
}

# A record's last section: every run's --json object, one per line, from the file $1.
raw_runs() {
  printf '\nRaw --json objects, one per run:\n\n```json\n'
  cat "$1"
  printf '```\n'
}
