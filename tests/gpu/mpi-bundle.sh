#!/usr/bin/env bash
# mpi-bundle.sh: make Debian 12's Open MPI 4.1 (openmpi-bin, libopenmpi3, libpmix2) relocatable,
# so that `mpirun -n 2 ./tumorfield ...` runs on the GPU machine, which has CUDA but no MPI, no
# network and runs as root.
#
#   bash tests/gpu/mpi-bundle.sh pack DIR   # here: copy the runtime into DIR, pack DIR.tar.xz
#   eval "$(bash tests/gpu/mpi-bundle.sh env DIR)"   # there, after unpacking DIR
#   mpirun -n 2 ./build-gpu/tumorfield info
#
# pack copies into DIR (about 2.5 MB as tar.xz):
#   bin/            orterun (mpirun, mpiexec: links to it), orted, ompi_info
#   lib/            libmpi, libopen-rte, libopen-pal, libmca_common_{sm,ompio}, libpmix and every
#                   library these and the plugins need (ldd), except the C runtime (libc, libm,
#                   libpthread, libdl, librt, libresolv, ld-linux) and CUDA's, which the GPU
#                   machine has
#   lib/openmpi3/   Open MPI's MCA plugins, less those that need hardware or libraries the GPU
#                   machine lacks (ucx, ofi, psm, openib/verbs, netlink), the OpenSHMEM ones, the
#                   monitoring ones and the Slurm/Flux/JSM/Grid Engine launchers
#   lib/pmix/       PMIx's plugins (less Slurm's); lib/hwloc/: empty (no hwloc plugins)
#   share/openmpi/, share/pmix/   help texts (error messages are unreadable without them)
#   etc/            openmpi-mca-params.conf, openmpi-default-hostfile, pmix-mca-params.conf
# env prints `export` lines: PATH, LD_LIBRARY_PATH, Open MPI's (OPAL_*) and PMIx's (PMIX_*)
# install directories, the plugin paths, root permission, oversubscription, and a shared-memory
# only transport (btl self,vader; pml ob1; no CMA single copy; the backing files in /dev/shm if
# it is writable, else in $TMPDIR or /tmp), no binding (tumorfield's OpenMP threads would all
# run on one core under the default --bind-to core), PMIx's hash store. Variables already set in
# the caller's environment win (e.g. OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo, the
# fallback where shared memory does not work).
# Needs glibc >= 2.36 there (Debian 12's libraries, as the rest of .bundle). Two ranks of an
# OpenMP binary: set OMP_NUM_THREADS to $(nproc)/2. Diagnose with `ompi_info`, `mpirun
# --mca btl_base_verbose 100 ...`, `mpirun --report-bindings ...`.
#
# Sources (Debian 12 layout; override for another): OMPI_PKGLIBDIR, OMPI_PKGDATADIR,
# OMPI_SYSCONFDIR (default: what `ompi_info --path` says), PMIX_ROOT
# (/usr/lib/x86_64-linux-gnu/pmix2).
set -eu

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1 dir=${2%/}

# Plugins left out (shell patterns on the file name).
SKIP_PLUGINS='*ucx* *ofi* *psm* *openib* *verbs* *netlink* *monitoring* *slurm* *flux* *jsm*
  *gridengine* mca_atomic_* mca_memheap_* mca_scoll_* mca_spml_* mca_sshmem_* mca_vprotocol_*
  mca_crs_* mca_compress_* mca_ras_simulator.so'

# copy_deps FILE...: copy the libraries FILE needs (as named by their soname) into $dir/lib.
copy_deps() {
  ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
  while read -r name path; do
    case "$name" in
      libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libresolv.so*) continue ;;
      libcuda.so*|libcudart.so*|libcublas*|libnvidia*|libcusparse*|libnvToolsExt*) continue ;;
    esac
    [ -e "$dir/lib/$name" ] || cp -L "$path" "$dir/lib/$name"
  done
  if ldd "$@" 2>/dev/null | grep -q 'not found'; then
    echo "mpi-bundle: unresolved libraries:" >&2
    ldd "$@" 2>/dev/null | grep 'not found' | sort -u >&2
    return 1
  fi
}

skipped() {
  local f=$1 p
  for p in $SKIP_PLUGINS; do
    case "$f" in $p) return 0 ;; esac
  done
  return 1
}

pack() {
  command -v ompi_info >/dev/null || { echo "mpi-bundle: no ompi_info (openmpi-bin)" >&2; exit 1; }
  local path
  path() { ompi_info --parsable --path "$1" | awk -F: -v k="$1" '$2 == k {print $3; exit}'; }
  local pkglib=${OMPI_PKGLIBDIR:-$(path pkglibdir)}
  local pkgdata=${OMPI_PKGDATADIR:-$(path pkgdatadir)}
  local sysconf=${OMPI_SYSCONFDIR:-$(path sysconfdir)}
  local bindir; bindir=$(path bindir)
  local pmix=${PMIX_ROOT:-/usr/lib/x86_64-linux-gnu/pmix2}
  local libdir; libdir=$(dirname "$(ldd "$bindir/orterun" | awk '/libopen-rte/ {print $3}')")
  [ -d "$pkglib" ] && [ -d "$pmix/lib" ] || { echo "mpi-bundle: no $pkglib or $pmix/lib" >&2; exit 1; }

  rm -rf "$dir" "$dir.tar.xz"
  mkdir -p "$dir"/{bin,lib/openmpi3,lib/pmix,lib/hwloc,share/openmpi,share/pmix,etc}
  local b f n
  for b in orterun orted ompi_info; do cp -L "$bindir/$b" "$dir/bin/"; done
  ln -s orterun "$dir/bin/mpirun"
  ln -s orterun "$dir/bin/mpiexec"
  for f in "$libdir"/libmpi.so.40 "$libdir"/libopen-rte.so.40 "$libdir"/libopen-pal.so.40 \
           "$libdir"/libmca_common_sm.so.40 "$libdir"/libmca_common_ompio.so.41 \
           "$pmix"/lib/libpmix.so.2; do
    cp -L "$f" "$dir/lib/"
  done
  for f in "$pkglib"/mca_*.so; do
    n=$(basename "$f")
    skipped "$n" || cp "$f" "$dir/lib/openmpi3/"
  done
  for f in "$pmix"/lib/pmix/*.so; do
    n=$(basename "$f")
    skipped "$n" || cp "$f" "$dir/lib/pmix/"
  done
  copy_deps "$dir"/bin/orterun "$dir"/bin/orted "$dir"/bin/ompi_info "$dir"/lib/*.so* \
    "$dir"/lib/openmpi3/*.so "$dir"/lib/pmix/*.so
  cp -r "$pkgdata"/. "$dir/share/openmpi/"
  rm -f "$dir"/share/openmpi/*-wrapper-data.txt "$dir"/share/openmpi/*.supp
  cp "$pmix"/share/pmix/help-*.txt "$dir/share/pmix/"
  cp "$sysconf"/openmpi-default-hostfile "$dir/etc/" 2>/dev/null || : > "$dir/etc/openmpi-default-hostfile"
  # Debian's files name plugins we leave out and the system's plugin directory: our own.
  cat > "$dir/etc/openmpi-mca-params.conf" <<'EOF'
# mpi-bundle.sh: relocated Open MPI; settings are in the environment (mpi-bundle.sh env DIR)
btl_base_warn_component_unused = 0
EOF
  echo "# mpi-bundle.sh: relocated PMIx; plugin path set by PMIX_MCA_mca_base_component_path" \
    > "$dir/etc/pmix-mca-params.conf"
  {
    echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "openmpi:  $(dpkg-query -W -f '${Version}' openmpi-bin 2>/dev/null || ompi_info --version | head -1)"
    echo "pmix:     $(dpkg-query -W -f '${Version}' libpmix2 2>/dev/null || echo unknown)"
    echo "libs:     $(cd "$dir/lib" && find . -maxdepth 1 -type f | sed 's|^\./||' | sort | tr '\n' ' ')"
    echo "plugins:  $(ls "$dir/lib/openmpi3" | wc -l) open mpi, $(ls "$dir/lib/pmix" | wc -l) pmix"
  } > "$dir/MANIFEST"
  tar -cJf "$dir.tar.xz" -C "$(dirname "$dir")" "$(basename "$dir")"
  echo "mpi-bundle: $dir ($(du -sh "$dir" | cut -f1)); packed: $dir.tar.xz ($(du -h "$dir.tar.xz" | cut -f1))"
}

env_lines() {
  [ -x "$dir/bin/orterun" ] || { echo "mpi-bundle: no $dir/bin/orterun (unpack the bundle)" >&2; exit 1; }
  local d; d=$(cd "$dir" && pwd)
  # var NAME VALUE: export NAME=VALUE unless NAME is set already.
  var() { if [ -z "$(printenv "$1")" ]; then printf "export %s='%s'\n" "$1" "$2"; fi; }
  printf 'export PATH=%q"${PATH:+:$PATH}"\n' "$d/bin"
  printf 'export LD_LIBRARY_PATH=%q"${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"\n' "$d/lib"
  # Open MPI's install directories (OPAL_PREFIX alone leaves the Debian-specific ones absolute).
  local k v kv
  for kv in PREFIX=. EXEC_PREFIX=. BINDIR=bin SBINDIR=bin LIBEXECDIR=bin LIBDIR=lib \
            PKGLIBDIR=lib/openmpi3 DATAROOTDIR=share DATADIR=share PKGDATADIR=share/openmpi \
            SYSCONFDIR=etc; do
    k=${kv%%=*} v=${kv#*=}
    [ "$v" = . ] && v=$d || v=$d/$v
    printf 'export OPAL_%s=%q\n' "$k" "$v"
  done
  printf 'export OMPI_MCA_mca_base_component_path=%q\n' "$d/lib/openmpi3"
  # PMIx's (Debian installs it under its own prefix, /usr/lib/x86_64-linux-gnu/pmix2).
  for kv in PREFIX=. EXEC_PREFIX=. BINDIR=bin LIBDIR=lib PKGLIBDIR=lib/pmix DATAROOTDIR=share \
            DATADIR=share PKGDATADIR=share/pmix SYSCONFDIR=etc; do
    k=${kv%%=*} v=${kv#*=}
    [ "$v" = . ] && v=$d || v=$d/$v
    printf 'export PMIX_%s=%q\n' "$k" "$v"
  done
  printf 'export PMIX_MCA_mca_base_component_path=%q\n' "$d/lib/pmix"
  # hwloc plugins: none (an empty directory), never the machine's, built for another hwloc
  printf 'export HWLOC_PLUGINS_PATH=%q\n' "$d/lib/hwloc"
  var PMIX_MCA_gds hash               # PMIx 4.2's gds/shmem maps at fixed addresses
  var OMPI_ALLOW_RUN_AS_ROOT 1
  var OMPI_ALLOW_RUN_AS_ROOT_CONFIRM 1
  var OMPI_MCA_rmaps_base_oversubscribe 1
  var OMPI_MCA_hwloc_base_binding_policy none
  var OMPI_MCA_plm isolated           # one node; plm/rsh aborts mpirun where there is no ssh
  var OMPI_MCA_pml ob1
  var OMPI_MCA_osc sm,rdma
  var OMPI_MCA_btl self,vader
  var OMPI_MCA_btl_vader_single_copy_mechanism none   # CMA (process_vm_readv) needs ptrace rights
  if ! { [ -d /dev/shm ] && [ -w /dev/shm ] && touch /dev/shm/.mpi-bundle.$$ 2>/dev/null &&
         rm -f /dev/shm/.mpi-bundle.$$; }; then
    var OMPI_MCA_btl_vader_backing_directory "${TMPDIR:-/tmp}"
  fi
  var OMPI_MCA_btl_tcp_if_include lo  # only used where btl is set to self,tcp
  var OMPI_MCA_oob_tcp_if_include lo
}

case "$cmd" in
  pack) pack ;;
  env) env_lines ;;
  *) usage ;;
esac
