#!/bin/bash
# sweep_check.sh TUMORFIELD SCENARIOS_DIR: the batch scripts' own checks, run without Slurm.
# - sweep_intensity.sh: every array task passes `tumorfield check` with its --set overrides, each
#   with the intensity of its task, and the #SBATCH --array range matches the intensities; a
#   task index that is not a decimal number, or outside the array, is refused with the script's
#   own message (exit 2, no bash error); the default OUTDIR differs for two scenarios of the same
#   file name in different directories and is the same for one scenario spelled two ways; the
#   default scenario is scenarios/ of the working directory, else the one beside the script.
# - jobs/*.sbatch: an option that the script passes to tumorfield itself (--output, --procs,
#   --backend, --resume; also --restart and --set output.dir) is refused among the arguments
#   (exit 2) with a message naming the script's environment variable, before anything starts;
#   other arguments reach the program unchanged.
# The run commands are tried with a stand-in program (and srun) that records its arguments.
set -eu
prog=$1 dir=$(cd "$2" && pwd)
script=$dir/sweep_intensity.sh
jobs=$dir/../jobs
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
# A leading zero is still a decimal index (bash would read 07 as octal, 08 not at all).
out=$(SLURM_ARRAY_TASK_ID=0$range SWEEP_COMMAND=check TUMORFIELD=$prog bash "$script")
grep -qx "name = sweep_I$(sed -n 's/^intensities=(\([^)]*\)).*/\1/p' "$script" | tr -s ' ' '\n' | sed -n "$((range + 1))p")" <<<"$out" ||
    { echo "task 0$range: not task $range"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/cases/a" "$tmp/cases/b"
# The stand-ins: each writes its arguments, one per line, to $STUB_LOG and exits 0.
for stub in tumorfield srun; do
    printf '#!/bin/bash\nprintf "%%s\\n" "$@" >>"$STUB_LOG"\n' >"$tmp/bin/$stub"
    chmod +x "$tmp/bin/$stub"
done
export STUB_LOG=$tmp/log

# expect_refused WHAT FRAGMENT COMMAND...: exit 2, stderr has FRAGMENT, no bash error, and the
# program was not started.
expect_refused() {
    local what=$1 frag=$2 rc=0
    shift 2
    rm -f "$STUB_LOG"
    "$@" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
    if [[ $rc != 2 ]] || ! grep -qF -- "$frag" "$tmp/stderr" ||
        grep -qE 'line [0-9]+:|unbound variable|syntax error|value too great' "$tmp/stderr" ||
        [[ -e $STUB_LOG ]]; then
        echo "$what: expected exit 2 with '$frag' and nothing started; got exit $rc"
        cat "$tmp/stderr"
        [[ ! -e $STUB_LOG ]] || { echo "started:"; cat "$STUB_LOG"; }
        exit 1
    fi
}

for t in abc 08 -1 " 3" 3x 1.0 99999999999999999999 ""; do
    expect_refused "SLURM_ARRAY_TASK_ID='$t'" "sweep_intensity.sh: " \
        env SLURM_ARRAY_TASK_ID="$t" SWEEP_COMMAND=check TUMORFIELD="$tmp/bin/tumorfield" bash "$script"
done

# The output directory a run task of the sweep would use (the value after --output).
sweep_outdir() {
    rm -f "$STUB_LOG"
    (cd "$1" && SCENARIO=$2 SLURM_ARRAY_TASK_ID=0 TUMORFIELD=$tmp/bin/tumorfield bash "$script" >/dev/null)
    sed -n '/^--output$/{n;p;}' "$STUB_LOG"
}
cp "$dir/quick_demo.ini" "$tmp/cases/a/scenario.ini"
cp "$dir/quick_demo.ini" "$tmp/cases/b/scenario.ini"
# Without SCENARIO: scenarios/depressed_moderate_exercise.ini of the working directory, else the
# one beside the script (an install's share/tumorfield/scenarios; run there from elsewhere it
# named a scenario that was not there, exit 4).
rm -f "$STUB_LOG"
(cd "$tmp" && SLURM_ARRAY_TASK_ID=0 TUMORFIELD=$tmp/bin/tumorfield bash "$script" >/dev/null)
used=$(sed -n '/^run$/{n;p;}' "$STUB_LOG")
[[ $used == "$dir/depressed_moderate_exercise.ini" ]] ||
    { echo "default scenario from $tmp: '$used', expected the one beside the script"; exit 1; }
a=$(sweep_outdir "$tmp" cases/a/scenario.ini)
b=$(sweep_outdir "$tmp" cases/b/scenario.ini)
[[ $a == sweep_intensity/scenario-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f] ]] ||
    { echo "default OUTDIR '$a': expected sweep_intensity/scenario-HASH"; exit 1; }
[[ $a != "$b" ]] || { echo "cases/a/scenario.ini and cases/b/scenario.ini share OUTDIR $a"; exit 1; }
for spelling in "$tmp/cases ./a//scenario.ini" "$tmp/cases/a scenario.ini" "/ $tmp/cases/a/scenario.ini"; do
    read -r wd path <<<"$spelling"
    [[ $(sweep_outdir "$wd" "$path") == "$a" ]] || { echo "$path from $wd: not OUTDIR $a"; exit 1; }
done
rm -f "$STUB_LOG"
out=$(cd "$tmp" && OUTDIR=mine SCENARIO=cases/a/scenario.ini SLURM_ARRAY_TASK_ID=0 \
      TUMORFIELD=$tmp/bin/tumorfield bash "$script")
[[ $(sed -n '/^--output$/{n;p;}' "$STUB_LOG") == mine ]] || { echo "OUTDIR=mine not used"; exit 1; }
grep -qF "into mine" <<<"$out" || { echo "the sweep task does not say its OUTDIR"; exit 1; }

# Another key and its values (SWEEP_KEY, SWEEP_VALUES), options passed to every run, the
# script's own options refused, and a sweep of its own for an edited scenario or other options.
out=$(SWEEP_KEY=exercise.session_duration SWEEP_VALUES="30min 90min" SLURM_ARRAY_TASK_ID=1 \
      SWEEP_COMMAND=check TUMORFIELD=$prog bash "$script" --set grid.n=16)
grep -qx "session_duration = 90 min" <<<"$out" || { echo "SWEEP_VALUES: 90 min not set"; exit 1; }
grep -qx "name = sweep_session_duration_90min" <<<"$out" || { echo "SWEEP_KEY: run name"; exit 1; }
grep -qx "n = 16 16 16" <<<"$out" || { echo "the script's arguments do not reach the run"; exit 1; }
# An intensity written as a percentage (as the key table allows) gives a valid run name.
out=$(SWEEP_VALUES="50% 60%" SLURM_ARRAY_TASK_ID=1 SWEEP_COMMAND=check TUMORFIELD=$prog \
      bash "$script")
grep -qx "name = sweep_I60" <<<"$out" || { echo "SWEEP_VALUES 60%: run name not sweep_I60"; exit 1; }
grep -qx "intensity = 0.6" <<<"$out" || { echo "SWEEP_VALUES 60%: intensity not 0.6"; exit 1; }
expect_refused "SWEEP_COMMAND=bogus" "SWEEP_COMMAND='bogus': expected run (the default) or check" \
    env SLURM_ARRAY_TASK_ID=0 SWEEP_COMMAND=bogus TUMORFIELD="$tmp/bin/tumorfield" bash "$script"
for bad in "--output x" "--resume" "--set run.name=x" "--set exercise.intensity=0.5" "--set=output.dir=x"; do
    # shellcheck disable=SC2086 # the words of each case
    expect_refused "sweep_intensity.sh $bad" "sweep_intensity.sh: " \
        env SLURM_ARRAY_TASK_ID=0 TUMORFIELD="$tmp/bin/tumorfield" bash "$script" $bad
done
expect_refused "SWEEP_KEY=bad" "SWEEP_KEY='bad'" \
    env SWEEP_KEY=bad SLURM_ARRAY_TASK_ID=0 TUMORFIELD="$tmp/bin/tumorfield" bash "$script"
# The program not there, or not a program: the scripts' own message (bash's "No such file",
# exit 127, was all the sweep said), for the sweep and the job scripts alike.
for job in "$script" "$dir/../jobs/requeue.sbatch" "$dir/../jobs/mpi.sbatch"; do
    expect_refused "$(basename "$job") TUMORFIELD=missing" "'$tmp/none' not found: put tumorfield on PATH or set TUMORFIELD" \
        env SLURM_ARRAY_TASK_ID=0 TUMORFIELD="$tmp/none" bash "$job" "$dir/quick_demo.ini"
    expect_refused "$(basename "$job") TUMORFIELD=a directory" "'$tmp/bin' is not an executable file" \
        env SLURM_ARRAY_TASK_ID=0 TUMORFIELD="$tmp/bin" bash "$job" "$dir/quick_demo.ini"
done
echo "depression = 0.6" >> "$tmp/cases/a/scenario.ini"
[[ $(sweep_outdir "$tmp" cases/a/scenario.ini) != "$a" ]] ||
    { echo "an edited scenario keeps the sweep directory of the old one ($a)"; exit 1; }

# The job scripts. Common to all: the output directory and the checkpoint to continue from.
scen=$dir/quick_demo.ini
refused_all=("--output x|OUTDIR" "--output=x|OUTDIR" "--set output.dir=x|OUTDIR"
             "--set=output.dir=x|OUTDIR" "--set|output.dir = x|OUTDIR" "--resume|OUTDIR"
             "--restart|x.chk.nc|OUTDIR" "--restart=x.chk.nc|OUTDIR")
for job in requeue mpi mpi-gpu; do
    refused=("${refused_all[@]}")
    allowed=(--set grid.n=8 --set "run.name=a b" --quiet --set "output.fields=tumor")
    case $job in
      requeue) allowed+=(--backend cpu) ;;
      mpi)     allowed+=(--backend=cpu); refused+=("--procs 2x1x1|PROCS" "--procs=2x1x1|PROCS") ;;
      mpi-gpu) refused+=("--procs 2x1x1|PROCS" "--procs=2x1x1|PROCS"
                         "--backend cpu|jobs/mpi.sbatch" "--backend=cuda|jobs/mpi.sbatch") ;;
    esac
    for c in "${refused[@]}"; do
        # "A B|FRAG" is the arguments A B; "A|B|FRAG" the arguments A and "B".
        IFS='|' read -r -a parts <<<"$c"
        frag=${parts[-1]}
        unset 'parts[-1]'
        if (( ${#parts[@]} == 1 )); then read -r -a parts <<<"${parts[0]}"; fi
        expect_refused "$job.sbatch ${parts[*]}" "$job.sbatch: ${parts[0]%%=*}" \
            env OUTDIR="$tmp/o" TUMORFIELD="$tmp/bin/tumorfield" PATH="$tmp/bin:$PATH" \
            bash "$jobs/$job.sbatch" "$scen" --set grid.n=8 "${parts[@]}"
        grep -qF -- "$frag" "$tmp/stderr" || { echo "$job.sbatch ${parts[*]}: message lacks $frag"; exit 1; }
    done
    # No scenario at all: the script's own message, exit 2.
    expect_refused "$job.sbatch without a scenario" "$job.sbatch: missing SCENARIO" \
        env OUTDIR="$tmp/o" TUMORFIELD="$tmp/bin/tumorfield" PATH="$tmp/bin:$PATH" \
        bash "$jobs/$job.sbatch"
    # Before the scenario too (a misplaced option is still the script's).
    expect_refused "$job.sbatch --output first" "OUTDIR" \
        env OUTDIR="$tmp/o" TUMORFIELD="$tmp/bin/tumorfield" PATH="$tmp/bin:$PATH" \
        bash "$jobs/$job.sbatch" --output x "$scen"
    # Other arguments pass unchanged, in order, before the script's own options.
    rm -f "$STUB_LOG"
    OUTDIR=$tmp/o TUMORFIELD=$tmp/bin/tumorfield PATH=$tmp/bin:$PATH \
        bash "$jobs/$job.sbatch" "$scen" "${allowed[@]}" >"$tmp/stdout" 2>"$tmp/stderr" ||
        { echo "$job.sbatch ${allowed[*]}: failed"; cat "$tmp/stderr"; exit 1; }
    want=$(printf '%s\n' run "$scen" "${allowed[@]}" --output "$tmp/o")
    [[ $(<"$STUB_LOG") == *"$want"* ]] || { echo "$job.sbatch: the program got"; cat "$STUB_LOG"; exit 1; }
done
echo "ok: $count tasks, task index and OUTDIR checks, job script options"
