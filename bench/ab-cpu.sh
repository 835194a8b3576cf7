#!/usr/bin/env bash
# ab-cpu.sh OLD NEW [OUTFILE]: a before/after record of two tumorfield builds on this machine's
# CPU. Runs `bench --json` for both schemes at 128^3 and 256^3, OLD and NEW in pairs (5 rounds,
# which runs first alternating; the copy bandwidth of each run is measured in that run), and
# writes a markdown record (OUTFILE, else bench/results/DATE-cpu-ab.md of this repository) with
# the machine, both builds' commits, the command, the load, every run, the medians and the
# spread of the pairs. On a shared machine only such interleaved pairs say whether a change helped.
# Set AB_ROUNDS, AB_GRIDS ("128 256") or AB_SCHEMES ("explicit lod") to change the plan.
# AB_PROCS (process grids, e.g. "1x1x2 2x1x1"; a build with MPI): each run under mpirun with
# that many processes, one OpenMP thread each bound to a core, an N^3 block per process
# (bench --procs), instead of one process on every core.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: ab-cpu.sh OLD NEW [OUTFILE] (two tumorfield builds to compare)" >&2
  exit 2
fi
old=$1 new=$2
need_tumorfield "$old" "$new"
out=$(record_path cpu-ab "${3:-}")
rounds=${AB_ROUNDS:-5}
py=/usr/bin/python3
if [ -n "${AB_PROCS:-}" ]; then
  mpi_run
  export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE HWLOC_COMPONENTS=-gl
  env_line="OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE HWLOC_COMPONENTS=-gl ${mpi[*]} -n PROCESSES"
else
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(ncpus)} OMP_PROC_BIND=close OMP_WAIT_POLICY=active
  env_line="OMP_NUM_THREADS=$OMP_NUM_THREADS OMP_PROC_BIND=close OMP_WAIT_POLICY=active"
fi
commit_of() { # the commit a build came from, as the binary names it (cmake/build_info.cmake)
  "$1" --version 2>/dev/null | sed -n 's/.*commit \([^)]*\)).*/\1/p' | grep . || printf unknown
}
record_begin
for p in ${AB_PROCS:-one}; do
 for n in ${AB_GRIDS:-128 256}; do
  for s in ${AB_SCHEMES:-explicit lod}; do
    steps=40
    [ "$n" -le 128 ] || { steps=20; [ "$s" = lod ] && steps=5; }
    for r in $(seq "$rounds"); do
      # Each round a pair; which build runs first alternates, so that a drift of the machine
      # within a pair does not favour one build.
      order="old new"; [ $((r % 2)) = 0 ] && order="new old"
      for which in $order; do
        exe=$old; [ $which = new ] && exe=$new
        load=$(cut -d' ' -f1 /proc/loadavg)
        run=("$exe" bench --backend cpu --scheme "$s" --grid "$n" --steps $steps --json)
        [ "$p" = one ] || run=("${mpi[@]}" -n $((${p//x/*})) "${run[@]}" --procs "$p")
        "${run[@]}" |
          "$py" -c 'import json,sys; d=json.load(sys.stdin); d["build"]=sys.argv[1]; d["load"]=float(sys.argv[2]); print(json.dumps(d))' "$which" "$load" >> "$jsonl"
      done
    done
  done
 done
done
{
  echo "# CPU before/after, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  machine_line
  echo "- old: $old (commit $(commit_of "$old")); new: $new (commit $(commit_of "$new"))"
  echo "- command: $env_line EXE bench --backend cpu --scheme S --grid N --steps K --json${AB_PROCS:+ --procs P (an N^3 block per process; P: the procs column)}, old and new alternating, $rounds round(s), old first in odd rounds, new first in even ones; K = 40 up to 128^3, else 20 (explicit) or 5 (lod): the steps column"
  echo "- new/old: the ratio of the medians; pairs: the lowest and highest new/old of the rounds' pairs (their spread is this machine's noise: a difference inside it is none); in cache: whether bench said the step's or the copy's arrays fit the last-level cache (then the ratios to copy measure the cache, not memory)"
  echo "- stages: only those the scheme runs; load: the 1-minute load average before each run of the row, lowest and highest"
  echo
  "$py" - "$jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = statistics.median
def procs(r):  # "1" for one process, else its process grid
    return "x".join(map(str, r.get("process_grid") or [1])) if r.get("processes", 1) > 1 else "1"
for r in rows:
    r["procs"] = procs(r)
keys = sorted({(r["scheme"], r["n"], r["procs"]) for r in rows})
print("| scheme | n | procs | steps | in cache | old ms/step (median) | new ms/step (median) | new/old | pairs new/old | old ratio to copy | new ratio to copy | stages old -> new (ms, medians) | load |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for sch, n, pg in keys:
    o = [r for r in rows if (r["scheme"], r["n"], r["procs"], r["build"]) == (sch, n, pg, "old")]
    w = [r for r in rows if (r["scheme"], r["n"], r["procs"], r["build"]) == (sch, n, pg, "new")]
    mo, mw = med(r["ms_per_step"] for r in o), med(r["ms_per_step"] for r in w)
    ran = [k for k in o[0]["stages"]
           if any(r["stages"].get(k, {}).get("calls_per_step") for r in o + w)]
    st = ", ".join("%s %.2f -> %.2f" % (k, med(r["stages"][k]["ms_per_step"] for r in o),
                                      med(r["stages"][k]["ms_per_step"] for r in w))
                   for k in ran)
    pairs = [b["ms_per_step"] / a["ms_per_step"] for a, b in zip(o, w)]
    cache = {r.get("in_cache") for r in o + w}
    print("| %s | %d | %s | %d | %s | %.2f | %.2f | %.3f | %.3f-%.3f | %.3f | %.3f | %s | %.1f-%.1f |" % (
        sch, n, pg, o[0]["steps"], "yes" if cache == {True} else "no" if cache == {False}
        else "n/a (a build without in_cache)" if None in cache else "mixed",
        mo, mw, mw / mo, min(pairs), max(pairs), med(r["ratio_to_copy"] for r in o),
        med(r["ratio_to_copy"] for r in w), st, min(r["load"] for r in o + w),
        max(r["load"] for r in o + w)))
print()
print("Every run (ms/step, in the order run):")
print()
for sch, n, pg in keys:
    for b in ("old", "new"):
        print("- %s %d%s %s: %s" % (sch, n, "" if pg == "1" else " procs " + pg, b,
              ", ".join("%.2f" % r["ms_per_step"] for r in rows
                        if (r["scheme"], r["n"], r["procs"], r["build"]) == (sch, n, pg, b))))
PY
  raw_runs "$jsonl"
} > "$out.tmp"
record_end
