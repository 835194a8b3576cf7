#!/usr/bin/env bash
# bench/profile-cpu.sh: where a CPU step spends its time, by sampling. `perf record -e cpu-clock`
# works without hardware counters (virtual machines, containers often have none; `perf stat -e
# cycles` then says "<not supported>"), so this profile shows time, not cache misses: which
# function of a step holds the samples, and inside the hottest row kernel which instructions
# (divisions, the arithmetic, loads and stores). Sampling skid puts a stalled load's time on
# the instruction after it, so "arithmetic" includes waiting for memory.
#
#   bench/profile-cpu.sh [TUMORFIELD] [GRID] [STEPS]      (defaults: build/tumorfield 192 60)
#
# For each scheme: the bench's own lines (time per step, copy, ratio to copy), the samples by function
# (share of the whole bench: setup and the copy measurement are in it too, which is why the
# step's functions are listed with their share of the step's samples as well), and the two
# hottest functions' samples by instruction class. Needs perf (Debian: linux-perf) and
# kernel.perf_event_paranoid <= 2 (the default) for a process of one's own.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
tf=${1:-build/tumorfield}
n=${2:-192}
steps=${3:-60}
command -v perf >/dev/null || { echo "profile-cpu.sh: perf not found (Debian: linux-perf)" >&2; exit 2; }
[ -x "$tf" ] || { echo "profile-cpu.sh: $tf is not an executable" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OMP_PROC_BIND=${OMP_PROC_BIND:-close}

# The functions of a step (the rest of the bench is set-up, the final check and the copy
# measurement; lod_pass_xy is the fused LOD pass's own loop); libgomp's samples are threads
# waiting at barriers, in the steps and in the set-up and copy regions alike.
step_re='explicit|pair|stream_row|react|lines|thomas|tile|transpose|solve|ghost|fused|diffuse|_step|lod_pass|x_block|line_pass|periodic_pass|face_copy|halo|forward|backward|ahead|prefetch_row|ring_|flush_deferred|tf_nbr6|tf_explicit_voxel|tf_react_voxel'

echo "# CPU profile, $(date -u +%Y-%m-%dT%H:%MZ), $(ncpus) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "# $("$tf" --version), grid $n^3, $steps steps, OMP_NUM_THREADS=$OMP_NUM_THREADS"
for scheme in explicit lod; do
  echo
  echo "## $scheme"
  perf record -q -e cpu-clock -F 4000 -o "$work/$scheme.data" \
    "$tf" bench --backend cpu --scheme "$scheme" --grid "$n" --steps "$steps" > "$work/$scheme.txt" 2>&1 ||
    { cat "$work/$scheme.txt"; echo "profile-cpu.sh: perf record failed" >&2; exit 1; }
  grep -E "^time per step|^ratio to copy|^copy bandwidth" "$work/$scheme.txt"
  perf report -q -i "$work/$scheme.data" --stdio --sort dso,symbol 2>/dev/null |
    awk -v re="$step_re" '
      { pct = $1; sub(/%/, "", pct); dso = $2; sym = $4
        if (dso ~ /libgomp/) { omp += pct; next }
        ++k; all[k] = pct; name[k] = sym " (" dso ")"
        if (dso == "tumorfield" && sym ~ re) { step += pct; in_step[k] = 1 } }
      END {
        printf "samples: %.1f%% in the functions of a step, %.1f%% in the OpenMP runtime (waiting at barriers), the rest set-up, check and copy measurement\n", step, omp
        printf "%-8s %-8s %s\n", "bench%", "step%", "function"
        for (i = 1; i <= k && i <= 12; ++i)
          printf "%-8.2f %-8s %s\n", all[i], in_step[i] ? sprintf("%.1f", 100 * all[i] / step) : "-", name[i]
      }'
  # The two hottest functions of the step, instruction by instruction.
  for hot in $(perf report -q -i "$work/$scheme.data" --stdio --sort dso,symbol 2>/dev/null |
               awk -v re="$step_re" '$2 == "tumorfield" && $4 ~ re { print $4; if (++k == 2) exit }'); do
  echo "instructions of $hot (share of its samples):"
  perf annotate -i "$work/$scheme.data" --stdio -s "$hot" 2>/dev/null |
    awk '/^ +[0-9]+\.[0-9]+ +: +[0-9a-f]+:/ {
           pct = $1; ins = $4
           if (ins ~ /div|sqrt|rcp/) c = "division"
           else if ($0 ~ /\(%/ && ins ~ /^(vmov|mov|vbroadcast|vpbroadcast)/) c = "load or store"
           else if (ins ~ /^v?(add|sub|mul|fmadd|fnmadd|fmsub|max|min|and|or|xor|cmp|blend)/) c = "arithmetic (and waiting on its operands)"
           else c = "other (address, loop, branch, shuffles)"
           share[c] += pct; tot += pct
         }
         END { for (c in share) printf "  %5.1f%%  %s\n", 100 * share[c] / tot, c }' | sort -rn
  done
done
