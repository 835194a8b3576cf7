#!/bin/bash
# sweep_intensity.sh: one exercise intensity per Slurm array task, the rest of the scenario
# from one file, through --set. Which intensity minimises tumor burden for a depressed patient
# training 5 x 30 min a week? Compare the runs' NAME.timeseries.csv (tumor volume at day 28).
#
#   sbatch scenarios/sweep_intensity.sh                 # all intensities
#   SCENARIO=my.ini sbatch scenarios/sweep_intensity.sh
#
# Outputs: OUTDIR (default sweep_intensity/SCENARIO'S BASE NAME)/sweep_I<intensity>.*, so the
# sweeps of two scenarios do not meet.
# A task stopped before its time limit (SIGUSR1 from --signal) writes a checkpoint and exits
# 75; the script then requeues it and the next start continues from the checkpoint.
# SWEEP_COMMAND=check runs `tumorfield check` instead (no Slurm needed; used by the tests).
#SBATCH --job-name=tf-sweep-intensity
#SBATCH --array=0-7
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=4
#SBATCH --time=01:00:00
#SBATCH --signal=B:USR1@120
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=sweep_intensity_%A_%a.log
set -euo pipefail

intensities=(0.3 0.4 0.5 0.6 0.7 0.8 0.9 1)   # fraction of VO2max, one per array task

SCENARIO=${SCENARIO:-scenarios/depressed_moderate_exercise.ini}
TUMORFIELD=${TUMORFIELD:-tumorfield}
OUTDIR=${OUTDIR:-sweep_intensity/$(basename "$SCENARIO" .ini)}
SWEEP_COMMAND=${SWEEP_COMMAND:-run}
task=${SLURM_ARRAY_TASK_ID:?set SLURM_ARRAY_TASK_ID (an index of intensities)}
if (( task < 0 || task >= ${#intensities[@]} )); then
    echo "sweep_intensity.sh: task $task outside 0..$(( ${#intensities[@]} - 1 ))" >&2
    exit 2
fi
intensity=${intensities[$task]}
name="sweep_I${intensity}"
sets=(--set "exercise.intensity=${intensity}" --set "run.name=${name}")

if [[ $SWEEP_COMMAND == check ]]; then
    exec "$TUMORFIELD" check "$SCENARIO" "${sets[@]}"
fi

# The program gets the signal: run it in the background and pass USR1/TERM on. --resume: continue
# from the task's checkpoint when an earlier start (requeued) left one.
"$TUMORFIELD" run "$SCENARIO" "${sets[@]}" --output "$OUTDIR" --resume &
pid=$!
trap 'kill -USR1 "$pid" 2>/dev/null' USR1
trap 'kill -TERM "$pid" 2>/dev/null' TERM
rc=0
wait "$pid" || rc=$?
# `wait` returns early when a trapped signal arrives: wait again for the program's own exit.
while kill -0 "$pid" 2>/dev/null; do
    wait "$pid" || rc=$?
done
# A signal that came as the program ended (already reaped) left 128 + its number: bash keeps the
# program's own status for one more wait.
if (( rc > 128 )); then
    rc=0
    wait "$pid" || rc=$?
fi

if (( rc == 75 )) && [[ -n ${SLURM_JOB_ID:-} ]]; then
    echo "sweep_intensity.sh: intensity $intensity stopped at a checkpoint; requeueing"
    scontrol requeue "$SLURM_JOB_ID"
fi
exit "$rc"
