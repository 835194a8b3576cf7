#!/usr/bin/env bash
# The weak-scaling bench under mpirun reports its decomposition (a smoke test of the reporting,
# no timing assertions): `bench --grid 24 --steps 3 --json` on 2 ranks, with the process grid
# chosen and with --procs 1x1x2, prints one JSON object (rank 0 only) with processes = 2, the
# process grid, halo_share in [0, 1] and cells = 2 * 24^3 (each rank holds a 24^3 block).
# usage: bench_ranks.sh TUMORFIELD WORKDIR -- LAUNCHER...
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$@"
cd "$work" || exit 1

for procs in "" 1x1x2 2x1x1; do
  opt=()
  [ -z "$procs" ] || opt=(--procs "$procs")
  for scheme in lod explicit; do
    if ! launch 2 bench --grid 24 --steps 3 --scheme $scheme --json "${opt[@]}" >bench.json; then
      note_fail "bench on 2 ranks ${opt[*]} ($scheme) failed"
      continue
    fi
    "$py" - "${procs:-chosen}" $scheme bench.json <<'EOF' ||
import json, sys
procs, scheme, path = sys.argv[1:]
j = json.load(open(path))  # one object: a second rank printing would make this fail
pg = j.get("process_grid")
grid = [int(x) for x in procs.split("x")] if procs != "chosen" else None
checks = {
    "processes = 2": j.get("processes") == 2,
    "process_grid of 2": isinstance(pg, list) and len(pg) == 3 and pg[0] * pg[1] * pg[2] == 2,
    f"process_grid = {grid}": grid is None or pg == grid,
    "halo_share in [0, 1]": isinstance(j.get("halo_share"), (int, float))
                            and 0 <= j["halo_share"] <= 1,
    "cells = 2 * 24^3": j.get("cells") == 2 * 24 ** 3,
    "n = 24": j.get("n") == 24,
    f"scheme = {scheme}": j.get("scheme") == scheme,
    "device names 2 MPI processes": "2 MPI processes" in j.get("device", ""),
}
bad = [k for k, ok in checks.items() if not ok]
print(f"bench {procs} {scheme}: processes={j.get('processes')} process_grid={pg} "
      f"halo_share={j.get('halo_share'):.3f} cells={j.get('cells')}"
      + (f"; WRONG: {bad}" if bad else ""))
sys.exit(1 if bad else 0)
EOF
      note_fail "bench JSON on 2 ranks ${opt[*]} ($scheme)"
  done
done
[ $fail = 0 ] &&
  echo "bench_ranks: the JSON reports 2 processes, their grid, halo share and 2 x 24^3 cells"
exit $fail
