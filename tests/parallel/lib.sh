# lib.sh: shared by the MPI end-to-end tests (sourced). usage in a script:
#   source lib.sh "$@"   with arguments TUMORFIELD WORKDIR [ARGS...] -- LAUNCHER...
# The launcher is TF_MPIEXEC of tests/CMakeLists.txt (ending in its -n flag): `launch N ARGS`
# runs ARGS on N ranks. Sets tf, work, here, ini, args (the ARGS before --), launcher.
set -uo pipefail
tf=$1 work=$2
shift 2
case $tf in /*) ;; */*) tf=$PWD/$tf ;; esac   # the runs change directory
case $work in /*) ;; *) work=$PWD/$work ;; esac
args=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
[ $# -gt 0 ] && shift
launcher=("$@")
[ ${#launcher[@]} -gt 0 ] ||
  { echo "usage: $0 TUMORFIELD WORKDIR [ARGS...] -- LAUNCHER..."; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ini=$here/../checkpoint/tiny.ini
# One thread per rank (the ranks share 2 cores); hwloc's OpenGL probe may print X11
# "Authorization required" noise when some X server runs on the machine.
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE OMPI_MCA_mpi_yield_when_idle=1
export HWLOC_COMPONENTS=-gl
# Debian's python3 has netCDF4; elsewhere ncdiff.py falls back to h5py.
py=/usr/bin/python3
"$py" -c 'import netCDF4' 2>/dev/null || py=python3
rm -rf "$work" && mkdir -p "$work" || exit 1
fail=0

# launch N ARGS...: tumorfield ARGS on N ranks.
launch() { local n=$1; shift; "${launcher[@]}" "$n" "$tf" "$@"; }

# same_outputs DIR_A DIR_B [--restarted]: every field of every record of NAME.nc and of
# NAME.chk.nc identical, attributes, time series and summary as compare_out.py says.
same_outputs() { "$py" "$here/compare_out.py" "$@"; }

# note_fail MESSAGE
note_fail() { echo "FAIL: $*"; fail=1; }

# scenario_args SCHEME BOUNDARIES: the options of the runs that the multi-process tests compare,
# in the array `common` (tiny.ini on a 15 x 11 x 9 grid: odd, so blocks of unequal size and
# 1-cell blocks at 8 ranks along z; TF_PAR_GRID="NX NY NZ" sets another). SCHEME lod|explicit; BOUNDARIES noflux (the default
# everywhere), mixed (periodic, Dirichlet and no-flux faces) or still (a periodic field with
# D = 0), below.
scenario_args() {
  common=(--set "grid.n=${TF_PAR_GRID:-15 11 9}" --set run.scheme="$1" --quiet)
  if [ "$1" = explicit ]; then
    # 100 um cells: the explicit limit 1/(6 D_C/h^2 + lambda_C + mu_C) is 0.0999 min; 3 h of
    # 0.06 min steps with an exercise session from 01:00 to 02:30 (the systemic drivers move).
    common+=(--set grid.spacing=100um --set tumor.radius=250um --set run.dt=0.06min
             --set exercise.time_of_day=01:00 --set run.duration=3h --set output.interval=1h
             --set output.timeseries_interval=20min)
  else
    # 20 um cells, 5 min steps, one day with the session at 07:00 (tiny.ini).
    common+=(--set run.duration=1d --set output.interval=6h --set output.timeseries_interval=1h)
  fi
  case $2 in
    noflux) ;;
    mixed)
      # periodic: tumor along every direction (the process grid wraps along x, y and z), cortisol
      # along y only; dirichlet: pro_cytokine on every face, effector on x_lo, anti_cytokine on
      # z_hi; noflux: suppressor and every other face.
      common+=(--set boundary.tumor=periodic
               --set boundary.cortisol.y_lo=periodic --set boundary.cortisol.y_hi=periodic
               --set "boundary.pro_cytokine=dirichlet 5"
               --set "boundary.effector.x_lo=dirichlet 0.01"
               --set "boundary.anti_cytokine.z_hi=dirichlet 3") ;;
    still)
      # a periodic field that does not diffuse (suppressor, D_S = 0): its lines are not solved,
      # so across the cuts nothing may correct them either (the periodic end-row correction once
      # changed plane 0 every step on several processes).
      common+=(--set boundary.suppressor=periodic --set model.D_S=0
               --set boundary.tumor=periodic) ;;
    *) echo "unknown boundary set '$2'"; return 2 ;;
  esac
}
