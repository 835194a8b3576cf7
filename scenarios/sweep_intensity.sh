#!/bin/bash
# sweep_intensity.sh: one value of one scenario key per Slurm array task, the rest of the
# scenario from one file, through --set. By default the exercise intensity: which intensity
# minimises tumor burden for a depressed patient training 5 x 30 min a week? (In this model:
# about 0.9, as sessions this short do not stay in the open window long enough to hurt;
# docs/model.md.) Compare the runs' NAME.timeseries.csv.
#
#   sbatch scenarios/sweep_intensity.sh                 # all intensities
#   SCENARIO=my.ini sbatch scenarios/sweep_intensity.sh --set grid.n=32   # other options too
#   SWEEP_KEY=exercise.session_duration SWEEP_VALUES="30min 60min 90min 120min" \
#     sbatch --array=0-3 scenarios/sweep_intensity.sh --set exercise.intensity=0.9
#
# SWEEP_KEY (default exercise.intensity) and SWEEP_VALUES (default 0.3 0.4 ... 1, one per
# array task, separated by blanks: write 90min, not 90 min; the --array range must match their
# count: sbatch --array=0-N-1). Arguments after the script's name go to every run (--set
# KEY=VALUE, --backend ...); the script's own options (--output, --resume, --restart, --set
# output.dir, run.name or SWEEP_KEY) are refused there. Outputs: OUTDIR/sweep_I<value>.* for
# the intensity, OUTDIR/sweep_<key>_<value>.* for another key (the value with all but letters,
# digits, '.', '_' and '-' removed: 60% gives sweep_I60). OUTDIR defaults to sweep_intensity/BASE-HASH: BASE
# the scenario's file name without .ini, HASH the first 8 hex digits of the SHA-256 of its
# absolute path (symbolic links resolved), its contents, SWEEP_KEY, SWEEP_VALUES and the
# arguments, e.g. sweep_intensity/depressed_moderate_exercise-1f0c9a2e. So the sweeps of two
# scenarios do not meet, also where two share a file name (cases/a/scenario.ini and
# cases/b/scenario.ini); a scenario edited or other options start a sweep of their own (the
# tasks continue from checkpoints, which another scenario's refuse); a requeued task finds its
# directory again. OUTDIR, like SCENARIO, is relative to the working directory (under sbatch
# the submit directory; the default SCENARIO is scenarios/ there, else the one installed beside
# this script); each task prints its OUTDIR. (Sweeps begun before 2026-11-27 used
# sweep_intensity/BASE, and until the same day's later change a hash of the path alone: to
# continue such a sweep, set OUTDIR to its directory.)
# A task stopped before its time limit (SIGUSR1 from --signal) writes a checkpoint and exits
# 75; the script then requeues it and the next start continues from the checkpoint. SIGTERM
# (scancel, preemption) stops it with a checkpoint too, but does not requeue it.
# SWEEP_COMMAND=check runs `tumorfield check` with the task's command line instead (its output
# directory and --resume; no Slurm needed; used by the tests).
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
SWEEP_KEY=${SWEEP_KEY:-exercise.intensity}
if [[ -n ${SWEEP_VALUES:-} ]]; then
    read -r -a values <<<"$SWEEP_VALUES"
else
    values=("${intensities[@]}")
fi
if [[ ! $SWEEP_KEY =~ ^[a-z_]+\.[A-Za-z_]+$ ]] || (( ${#values[@]} == 0 )); then
    echo "sweep_intensity.sh: SWEEP_KEY='$SWEEP_KEY' SWEEP_VALUES='${SWEEP_VALUES:-}': expected" \
         "a key SECTION.KEY and at least one value" >&2
    exit 2
fi

# The default scenario: scenarios/ of the working directory (a source tree), else the one
# installed beside this script (share/tumorfield/scenarios of an install; under sbatch the
# script runs from a copy, so that one is found only when run with bash).
if [ -z "${SCENARIO:-}" ]; then
    SCENARIO=scenarios/depressed_moderate_exercise.ini
    beside=$(dirname -- "$0")/depressed_moderate_exercise.ini
    [ -e "$SCENARIO" ] || [ ! -e "$beside" ] || SCENARIO=$beside
fi
TUMORFIELD=${TUMORFIELD:-tumorfield}
# The program, as the job scripts find it (before any run starts: bash's own "No such file",
# exit 127, said nothing of TUMORFIELD).
tf=$TUMORFIELD
if ! tf_path=$(command -v "$tf") || [ ! -f "$tf_path" ] || [ ! -x "$tf_path" ]; then
    why="not found"; [ -e "$tf" ] && why="is not an executable file"
    echo "tumorfield: '$tf' $why: put tumorfield on PATH or set TUMORFIELD=/path/to/tumorfield" >&2
    exit 2
fi
# The arguments: passed to every run; the script's own options refused (the program would take
# the last of two).
set_value=0
for a in "$@"; do
    msg=
    if (( set_value )); then
        set_value=0
        v=$a
    else
        case $a in
            --set) set_value=1; continue ;;
            --set=*) v=${a#--set=} ;;
            --output|--output=*) v=; msg="$a: the output directory is this script's; set OUTDIR=PATH instead" ;;
            --resume|--restart|--restart=*) v=; msg="$a: this script passes --resume itself; each task continues from its checkpoint in OUTDIR" ;;
            *) v= ;;
        esac
    fi
    key=${v%%=*}
    key=${key//[[:space:]]/}
    case $key in
        output.dir) msg="--set $v: set OUTDIR=PATH instead" ;;
        run.name) msg="--set $v: the script names each task's run (sweep_...)" ;;
        "$SWEEP_KEY") msg="--set $v: SWEEP_KEY is the key the sweep sets; its values are SWEEP_VALUES" ;;
    esac
    if [[ -n $msg ]]; then echo "sweep_intensity.sh: $msg" >&2; exit 2; fi
done
if [[ -z ${OUTDIR:-} ]]; then
    scenario_path=$(realpath -m -- "$SCENARIO")
    scenario_hash=$( { printf '%s\0' "$scenario_path" "$SWEEP_KEY" "${values[@]}" "$@";
                       cat -- "$SCENARIO" 2>/dev/null || true; } | sha256sum)
    OUTDIR=sweep_intensity/$(basename -- "$SCENARIO" .ini)-${scenario_hash:0:8}
fi
SWEEP_COMMAND=${SWEEP_COMMAND:-run}
if [[ $SWEEP_COMMAND != run && $SWEEP_COMMAND != check ]]; then
    echo "sweep_intensity.sh: SWEEP_COMMAND='$SWEEP_COMMAND': expected run (the default) or check" >&2
    exit 2
fi
# The task index: decimal digits only (bash arithmetic would take 08 for a bad octal number
# and abc for a variable's name).
last=$(( ${#values[@]} - 1 ))
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
value=${values[$task]}
# A run name: letters, digits, '.', '_' and '-' (60% -> 60, 90min -> 90min).
if [[ $SWEEP_KEY == exercise.intensity ]]; then
    name="sweep_I${value//[^A-Za-z0-9._-]/}"
else
    name="sweep_${SWEEP_KEY#*.}_${value//[^A-Za-z0-9._-]/}"
fi
sets=(--set "${SWEEP_KEY}=${value}" --set "run.name=${name}")

if [[ $SWEEP_COMMAND == check ]]; then
    # The task's own command line: its output directory and --resume (the checkpoint it would
    # continue from, or files it would refuse to replace).
    exec "$TUMORFIELD" check "$SCENARIO" "$@" "${sets[@]}" --output "$OUTDIR" --resume
fi

echo "sweep_intensity.sh: task $task, $SWEEP_KEY = $value, into $OUTDIR"
# The program gets the signal: run it in the background and pass USR1/TERM on. --resume: continue
# from the task's checkpoint when an earlier start (requeued) left one.
"$TUMORFIELD" run "$SCENARIO" "$@" "${sets[@]}" --output "$OUTDIR" --resume &
pid=$!
# Which signal came decides the requeue: USR1 (the time limit) requeues, TERM (scancel,
# preemption) stops with a checkpoint but does not.
stop=
trap 'stop=USR1; kill -USR1 "$pid" 2>/dev/null' USR1
trap 'stop=TERM; kill -TERM "$pid" 2>/dev/null' TERM
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

# 138 = 128 + SIGUSR1: the time-limit warning came while the program loaded (nothing written).
if (( rc == 138 )) && [[ $stop == USR1 ]]; then
    rc=75
fi
if (( rc == 75 )) && [[ $stop == TERM ]]; then
    echo "sweep_intensity.sh: $SWEEP_KEY = $value stopped by SIGTERM (scancel or preemption) at a checkpoint; not requeued: submit the task again to continue it"
elif (( rc == 75 )) && [[ -n ${SLURM_JOB_ID:-} ]]; then
    echo "sweep_intensity.sh: $SWEEP_KEY = $value stopped at a checkpoint; requeueing"
    scontrol requeue "$SLURM_JOB_ID"
fi
exit "$rc"
