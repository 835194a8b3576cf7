#!/bin/bash
# sweep_intensity.sh: one exercise intensity per Slurm array task, the rest of the scenario
# from one file, through --set. Which intensity minimises tumor burden for a depressed patient
# training 5 x 30 min a week? (In this model: about 0.9, as sessions this short do not stay in
# the open window long enough to hurt; docs/model.md.) Compare the runs' NAME.timeseries.csv.
#
#   sbatch scenarios/sweep_intensity.sh                 # all intensities
#   SCENARIO=my.ini sbatch scenarios/sweep_intensity.sh
#
# Outputs: OUTDIR/sweep_I<intensity>.*. OUTDIR defaults to sweep_intensity/BASE-HASH: BASE the
# scenario's file name without .ini, HASH the first 8 hex digits of the SHA-256 of its absolute
# path (symbolic links resolved), e.g. sweep_intensity/depressed_moderate_exercise-1f0c9a2e. So
# the sweeps of two scenarios do not meet, also where two share a file name (cases/a/scenario.ini
# and cases/b/scenario.ini), and a requeued task finds its directory again. OUTDIR, like
# SCENARIO, is relative to the working directory (under sbatch the submit directory); each task
# prints its OUTDIR. (Before 2026-11-27 the default was sweep_intensity/BASE: to continue such
# a sweep, set OUTDIR=sweep_intensity/BASE.)
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
if [[ -z ${OUTDIR:-} ]]; then
    scenario_path=$(realpath -m -- "$SCENARIO")
    scenario_hash=$(printf '%s' "$scenario_path" | sha256sum)
    OUTDIR=sweep_intensity/$(basename -- "$SCENARIO" .ini)-${scenario_hash:0:8}
fi
SWEEP_COMMAND=${SWEEP_COMMAND:-run}
# The task index: decimal digits only (bash arithmetic would take 08 for a bad octal number
# and abc for a variable's name).
last=$(( ${#intensities[@]} - 1 ))
task=${SLURM_ARRAY_TASK_ID:-}
if [[ ! $task =~ ^0*([0-9]{1,9})$ ]]; then
    if [[ -z $task ]]; then
        echo "sweep_intensity.sh: SLURM_ARRAY_TASK_ID is not set: submit with sbatch (its" \
             "--array sets it), or set it to a task index from 0 to $last" >&2
    elif [[ $task =~ ^[0-9]+$ ]]; then
        echo "sweep_intensity.sh: task $task outside 0..$last" >&2
    else
        echo "sweep_intensity.sh: SLURM_ARRAY_TASK_ID='$task': expected a task index, a whole" \
             "number from 0 to $last (sbatch --array sets it)" >&2
    fi
    exit 2
fi
task=$(( 10#${BASH_REMATCH[1]} ))
if (( task > last )); then
    echo "sweep_intensity.sh: task $task outside 0..$last" >&2
    exit 2
fi
intensity=${intensities[$task]}
name="sweep_I${intensity}"
sets=(--set "exercise.intensity=${intensity}" --set "run.name=${name}")

if [[ $SWEEP_COMMAND == check ]]; then
    exec "$TUMORFIELD" check "$SCENARIO" "${sets[@]}"
fi

echo "sweep_intensity.sh: task $task, intensity $intensity, into $OUTDIR"
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
