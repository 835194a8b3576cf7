#!/bin/bash
# sweep_check.sh TUMORFIELD SCENARIOS_DIR: every array task of sweep_intensity.sh passes
# `tumorfield check` with its --set overrides, each with the intensity of its task, and the
# #SBATCH --array range matches the intensities.
set -eu
prog=$1 dir=$2
script=$dir/sweep_intensity.sh
bash -n "$script"
range=$(sed -n 's/^#SBATCH --array=0-\([0-9]*\).*/\1/p' "$script")
count=$(sed -n 's/^intensities=(\([^)]*\)).*/\1/p' "$script" | wc -w)
[[ -n $range && $((range + 1)) == "$count" ]] || { echo "array 0-$range but $count intensities"; exit 1; }
cd "$dir/.."
for ((t = 0; t <= range; ++t)); do
    out=$(SLURM_ARRAY_TASK_ID=$t SWEEP_COMMAND=check TUMORFIELD=$prog bash "$script")
    i=$(sed -n 's/^intensities=(\([^)]*\)).*/\1/p' "$script" | tr -s ' ' '\n' | sed -n "$((t + 1))p")
    grep -qx "intensity = $i" <<<"$out" || { echo "task $t: intensity $i not in the effective scenario"; exit 1; }
    grep -qx "name = sweep_I$i" <<<"$out" || { echo "task $t: name not set"; exit 1; }
done
if SLURM_ARRAY_TASK_ID=$((range + 1)) SWEEP_COMMAND=check TUMORFIELD=$prog bash "$script" 2>/dev/null; then
    echo "task outside the array accepted"; exit 1
fi
echo "ok: $count tasks"
