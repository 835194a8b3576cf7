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
