#!/usr/bin/env bash
# mpi-weak.sh [TUMORFIELD] [OUTFILE] [N] [RANKS]: the weak-scaling benchmark of issue 9 on this
# machine: both schemes with one process (no mpirun) and with RANKS processes (default: nproc)
# under mpirun, an N^3 block per process (default 128), each process one OpenMP thread bound
# to a core, the process grid cut along z, y and x in turn; three runs each, median shown. The
# halo share is the part of a step a process spends waiting for the others. Written as a
# markdown record with the machine, commit and command. Run it on an otherwise idle machine.
# BACKEND (default cpu) is passed to every run, so that the one-process baseline and the runs
# across processes measure the same backend (auto would take a GPU for one process and the CPU
# where processes share one).
set -euo pipefail
tf=${1:-$(cd "$(dirname "$0")/.." && pwd)/build/tumorfield}
source "$(dirname "$0")/lib.sh"
need_tumorfield "$tf"
out=$(record_path mpi-weak "${2:-}")
backend=${BACKEND:-cpu}
n=${3:-128}
cores=$(ncpus)
ranks=${4:-$cores}
py=/usr/bin/python3
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE HWLOC_COMPONENTS=-gl
mpi_run
grids=("1x1x$ranks" "1x${ranks}x1" "${ranks}x1x1")
# bench_json COMMAND...: run COMMAND (a bench with --json) and append its object as one line.
bench_json() {
  "$@" > "$jsonl.1"
  "$py" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$jsonl.1" >> "$jsonl"
  rm -f "$jsonl.1"
}
record_begin
for s in lod explicit; do
  one=("$tf" bench --backend "$backend" --scheme $s --grid "$n" --steps 30 --json)
  for run in 1 2 3; do
    bench_json "${one[@]}"
    # One process runs explicit steps in pairs (one pass for two steps); processes run them
    # one at a time. The single-step baseline separates that from the cost of the cut.
    [ $s = explicit ] && bench_json env TF_CPU_EXPLICIT=single "${one[@]}"
    for p in "${grids[@]}"; do
      bench_json "${mpi[@]}" -n "$ranks" "${one[@]}" --procs "$p"
    done
  done
done
{
  echo "# MPI weak scaling, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "$(machine_line); $(mpirun --version | head -1)"
  echo "- commit: $("$tf" --version | sed -n 's/.*commit \([^)]*\)).*/\1/p') (the binary's, from --version; \"+changes\": built with uncommitted changes)"
  echo "- command: OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE HWLOC_COMPONENTS=-gl ${mpi[*]} -n $ranks $tf bench --backend $backend --scheme S --grid $n --steps 30 --procs P --json, and the same without mpirun for one process (3 runs each; median of ms/step shown)"
  echo "- a $n^3 block per process; stage times are averages over the processes; efficiency = one-process ms/step / ms/step (explicit: one process runs steps in pairs, processes one at a time; \"vs single steps\": against one process running them one at a time, TF_CPU_EXPLICIT=single, which isolates the cost of the cut); in cache: bench found the step's or the copy's arrays within the last-level cache (its ratio to copy then measures the cache, not memory)"
  echo
  "$py" - "$jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = {}
for r in rows:
    g = "x".join(map(str, r.get("process_grid", [1, 1, 1])))
    if r["scheme"] == "explicit" and r.get("processes", 1) == 1 and not r.get("explicit_paired"):
        g += " single steps"
    k = (r["scheme"], r.get("processes", 1), g)
    keys.setdefault(k, []).append(r)
print("| scheme | processes | grid | ms/step | efficiency | vs single steps | halo share | cut direction's diffusion ms | ratio to copy | in cache |")
print("|---|---|---|---|---|---|---|---|---|---|")
base = {}
single = None
for (s, p, g), rs in sorted(keys.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
    ms = statistics.median(r["ms_per_step"] for r in rs)
    med = min(rs, key=lambda r: abs(r["ms_per_step"] - ms))
    if p == 1 and s not in base:
        base[s] = ms
    if p == 1 and g.endswith("single steps"):
        single = ms
    dims = [int(x) for x in g.split()[0].split("x")]
    cutd = [d for d in range(3) if dims[d] > 1]
    st = med["stages"]
    dif = "; ".join("%s %.2f" % ("xyz"[d], st["diffusion_" + "xyz"[d]]["ms_per_step"])
                    for d in cutd
                    if st.get("diffusion_" + "xyz"[d], {}).get("calls_per_step")) or "-"
    eff = base.get(s, ms) / ms
    vs_single = "%.2f" % (single / ms) if s == "explicit" and single else "-"
    print("| %s | %d | %s | %.2f | %.2f | %s | %.3f | %s | %.3f | %s |" % (
        s, p, g, ms, eff, vs_single, med.get("halo_share", 0.0), dif, med["ratio_to_copy"],
        "yes" if med.get("in_cache") else "no"))
PY
  echo
  echo "Raw JSON (one line per run):"
  echo
  echo '```'
  cat "$jsonl"
  echo '```'
} > "$out.tmp"
record_end
