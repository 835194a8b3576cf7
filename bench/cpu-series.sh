#!/usr/bin/env bash
# cpu-series.sh [TUMORFIELD] [OUTFILE]: the CPU benchmark series of issue 7 on this machine:
# both schemes from 64^3 to the largest grid that fits this machine's memory (time per step
# against grid size; SIZES overrides the list) with the ratios to the two copy
# bandwidths measured in the same run (memcpy, the reference, and the write-allocate STREAM Copy
# loop), three runs each, written as a markdown record with the
# machine, commit, command and load. Run it on an otherwise idle machine. SCHEMES ("lod
# explicit") picks the schemes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
tf=${1:-$(cd "$(dirname "$0")/.." && pwd)/build/tumorfield}
need_tumorfield "$tf"
out=$(record_path cpu-series "${2:-}")
py=/usr/bin/python3
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)} OMP_PROC_BIND=close OMP_WAIT_POLICY=active
record_begin
# The largest n (a multiple of 32) whose peak host memory fits in 85% of this machine's: bench
# holds the solver's arrays and the 7 host arrays it hands over, 14 (LOD) or 20 (explicit)
# arrays of n^3 floats with ghosts and padding (about 5% more at these sizes).
largest() {
  awk -v a="$1" -v kb="$(awk '/MemTotal/ {print $2}' /proc/meminfo)" \
    'BEGIN { n = int(exp(log(0.85 * kb * 1024 / (a * 4 * 1.06)) / 3) / 32) * 32; print n }'
}
for s in ${SCHEMES:-lod explicit}; do
  top=$(largest $([ $s = lod ] && echo 14 || echo 20))
  for n in ${SIZES:-64 128 192 256 320 448 $top}; do
    # An even count for explicit: the CPU runs its steps in pairs (a step left over runs alone).
    big=3; [ "$s" = explicit ] && big=4
    steps=$(( n <= 128 ? 40 : n <= 320 ? 10 : big ))
    for run in 1 2 3; do
      load=$(cut -d' ' -f1 /proc/loadavg)
      "$tf" bench --backend cpu --scheme $s --grid $n --steps $steps --json |
        "$py" -c 'import json,sys; d=json.load(sys.stdin); d["load"]=float(sys.argv[1]); print(json.dumps(d))' "$load" >> "$jsonl"
    done
  done
done
{
  echo "# CPU benchmark series, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  machine_line
  echo "- commit: $("$tf" --version | sed -n 's/.*commit \([^)]*\)).*/\1/p') (the binary's, from --version; \"+changes\": built with uncommitted changes)"
  echo "- command: OMP_NUM_THREADS=$OMP_NUM_THREADS OMP_PROC_BIND=close OMP_WAIT_POLICY=active $tf bench --backend cpu --scheme S --grid N --steps K --json (3 runs each; median shown; K = 40 up to 128^3, 10 up to 320^3, else 3 (LOD) or 4 (explicit): the steps column)"
  arrays=$("$py" -c 'import json,sys; print(", ".join(sorted({"%s %d" % (json.loads(l)["scheme"], json.loads(l)["arrays_per_step"]) for l in open(sys.argv[1])})))' "$jsonl")
  echo "- bytes per step as host/bench.c counts them (docs/performance.md; arrays per step: $arrays), of sizeof(tf_real) bytes per cell"
  echo
  "$py" - "$jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| scheme | n | steps | cells | in cache | ms/step (median) | ns/cell | voxel updates/s | eff. GB/s | copy GB/s | ratio to copy | w.-alloc. copy GB/s | ratio to it | load |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
keys = sorted({(r["scheme"], r["n"]) for r in rows}, key=lambda k: (k[0], k[1]))
for sch, n in keys:
    rs = sorted((r for r in rows if r["scheme"] == sch and r["n"] == n), key=lambda r: r["ms_per_step"])
    m = rs[len(rs) // 2]
    print("| %s | %d | %d | %d | %s | %.2f | %.2f | %.3g | %.2f | %.2f | %.3f | %.2f | %.3f | %.2f |" % (
        sch, n, m["steps"], m["cells"], "yes" if m.get("in_cache") else "no", m["ms_per_step"], 1e6 * m["ms_per_step"] / m["cells"],
        m["voxel_updates_per_s"], m["effective_bandwidth_GBps"], m["copy_bandwidth_GBps"],
        m["ratio_to_copy"], m.get("wa_copy_bandwidth_GBps", 0), m.get("ratio_to_wa_copy", 0),
        max(r["load"] for r in rs)))
PY
  raw_runs "$jsonl"
} > "$out.tmp"
record_end
