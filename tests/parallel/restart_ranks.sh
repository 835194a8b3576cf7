#!/usr/bin/env bash
# Restart on another number of processes: 4 ranks (2x1x2) run to a checkpoint in the middle of
# an exercise session; the run is restarted from it on 2 ranks (1x2x1), on 8 ranks (2x2x2) and
# on one process without mpirun, each to the full duration. Each must be the uninterrupted
# one-process run bit for bit: every field of every output record and of the final checkpoint,
# the checkpoint's step and drivers, the time series (compare_out.py --restarted).
# usage: restart_ranks.sh TUMORFIELD WORKDIR SCHEME -- LAUNCHER...
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$@"
scheme=${args[0]}

# Mixed boundaries: periodic (tumor everywhere, cortisol along y), dirichlet and noflux.
common=(--set "grid.n=15 11 9" --set run.scheme="$scheme" --quiet
        --set boundary.tumor=periodic
        --set boundary.cortisol.y_lo=periodic --set boundary.cortisol.y_hi=periodic
        --set "boundary.pro_cytokine=dirichlet 5" --set "boundary.effector.x_lo=dirichlet 0.01")
# The first part ends on the record and row cadence: a run's last step always gets a record
# and a row, which a restart keeps (docs/output.md), so a part ending off the cadence would
# leave one record more than the uninterrupted run.
if [ "$scheme" = explicit ]; then
  # explicit limit 0.0999 min at 100 um; 0.05 min puts 100 min on the cadences; session
  # 01:00-02:30, stopped at 01:40
  common+=(--set grid.spacing=100um --set tumor.radius=250um --set run.dt=0.05min
           --set exercise.time_of_day=01:00 --set output.interval=50min
           --set output.timeseries_interval=20min)
  half=100min full=3h
else
  # session 07:00-08:30 (tiny.ini), stopped at 08:00
  common+=(--set output.interval=2h --set output.timeseries_interval=1h)
  half=8h full=1d
fi

# run DIR N|serial [ARGS...]: tumorfield run in DIR, writing DIR/out (same output.dir text).
run() {
  local d=$1 n=$2; shift 2
  mkdir -p "$d"
  if [ "$n" = serial ]; then
    (cd "$d" && "$tf" run "$ini" "${common[@]}" --output out "$@")
  else
    (cd "$d" && launch "$n" run "$ini" "${common[@]}" --output out "$@")
  fi
}

run "$work/whole" serial --set run.duration=$full ||
  { echo "FAIL: the one-process run failed"; exit 1; }
run "$work/part" 4 --procs 2x1x2 --set run.duration=$half ||
  { echo "FAIL: the 4-rank part failed"; exit 1; }
step=$(ncdump -h "$work/part/out/tiny.chk.nc" | sed -n 's/^.*:step = \([0-9]*\)LL ;$/\1/p')
echo "== 4 ranks (2x1x2) stopped at step $step ($half)"
[ -n "$step" ] && [ "$step" -gt 0 ] || note_fail "no step in the 4-rank checkpoint"

for target in 2:1x2x1 8:2x2x2 serial; do
  d=$work/restart_${target/:/_}
  cp -r "$work/part" "$d"
  n=${target%%:*} procs=()
  [ "$target" = serial ] || procs=(--procs "${target#*:}")
  if ! run "$d" "$n" "${procs[@]}" --set run.duration=$full --restart out/tiny.chk.nc; then
    note_fail "restart on $target failed"
    continue
  fi
  echo "== restarted on $target"
  same_outputs "$work/whole/out" "$d/out" --restarted ||
    note_fail "4 ranks restarted on $target differ from the one-process run"
done
[ $fail = 0 ] && echo "restart_ranks ($scheme): 4 ranks, restarted on 2, 8 and 1 process," \
                      "equal the one-process run bit for bit"
exit $fail
