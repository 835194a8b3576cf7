#!/usr/bin/env bash
# The review's claims on the shipped scenarios, on a reduced grid (16^3 at 25 um, dt 5 min, the
# full 28 days): depression ends with more tumor than health; moderate exercise ends with less
# tumor than sedentary depression and than extreme exercise (the J-curve).
# usage: jcurve.sh TUMORFIELD SCENARIO_DIR WORKDIR
set -euo pipefail
tf=$1 scen=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
declare -A vol
for s in healthy_sedentary depressed_sedentary depressed_moderate_exercise depressed_extreme_exercise; do
  "$tf" run "$scen/$s.ini" --quiet --output "$work" --set run.name=$s --set grid.n=16 \
        --set grid.spacing=25um --set run.dt=5min --set output.interval=28d --set output.fields=tumor
  # final tumor volume (mm^3): column tumor_volume_mm3 of the last row
  vol[$s]=$(awk -F, 'NR==1{for(i=1;i<=NF;i++) if($i=="tumor_volume_mm3") c=i} END{print $c}' \
            "$work/$s.timeseries.csv")
  echo "$s: final tumor volume ${vol[$s]} mm^3"
done
lt() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a < b)}'; }
fail=0
check() { if lt "${vol[$1]}" "${vol[$2]}"; then echo "ok: $1 < $2"; else echo "FAIL: expected $1 < $2"; fail=1; fi; }
check healthy_sedentary depressed_sedentary
check healthy_sedentary depressed_moderate_exercise
check healthy_sedentary depressed_extreme_exercise
check depressed_moderate_exercise depressed_sedentary
check depressed_moderate_exercise depressed_extreme_exercise
exit $fail
