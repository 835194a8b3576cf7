#!/usr/bin/env bash
# prepare-bundle.sh: build, on a machine with nvcc and the project's libraries (NetCDF, inih,
# cJSON, cmocka), the sm_90 binaries that tests/gpu/run-on-device.sh runs on the GPU machine,
# and pack them with the shared libraries they need (except the C runtime and the CUDA
# libraries, which the GPU machine has) into .bundle/tumorfield-gpu.tar.xz (.bundle/ is
# ignored by git; the device tool carries it with `carry: [".bundle"]`).
#
#   bash tests/gpu/prepare-bundle.sh            # build dir build-gpu, CUDA architecture 90
#   BUILD_DIR=build-E CUDA_ARCH=90 JOBS=2 bash tests/gpu/prepare-bundle.sh
#
# The bundle holds bin/ (tumorfield, test_gpu_float, test_gpu_double; tumorfield-mpi where
# this machine has Open MPI), lib/ and MANIFEST (commit, date, compilers, sizes); with MPI also
# .bundle/openmpi.tar.xz, Open MPI's runtime made relocatable by tests/gpu/mpi-bundle.sh (the
# GPU machine has no MPI), for the multi-process checks (tests/gpu/mpi_ranks.sh).
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$root"
build=${BUILD_DIR:-build-gpu}
arch=${CUDA_ARCH:-90}
bundle_libs=${BUNDLE_LIBS:-/work/shared/tools/bundle-libs}
export PATH=/usr/local/cuda/bin:$PATH

# The one-process checks without MPI (the binaries run without any MPI runtime); a second
# build with MPI for the checks across processes, where this machine has Open MPI.
cmake -S . -B "$build" -DTF_CUDA=ON -DTF_MPI=OFF -DCMAKE_CUDA_ARCHITECTURES="$arch" \
  -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"${JOBS:-2}" --target tumorfield test_gpu_float test_gpu_double
mpi=0
if command -v mpicc >/dev/null && command -v ompi_info >/dev/null; then
  mpi=1
  cmake -S . -B "$build-mpi" -DTF_CUDA=ON -DTF_MPI=ON -DCMAKE_CUDA_ARCHITECTURES="$arch" \
    -DCMAKE_BUILD_TYPE=Release -DTF_BUILD_TESTS=OFF
  cmake --build "$build-mpi" -j"${JOBS:-2}" --target tumorfield
  cp "$build-mpi/tumorfield" "$build-mpi/tumorfield-mpi"
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/tumorfield-gpu/bin" "$stage/tumorfield-gpu/lib"
bins=("$build/tumorfield" "$build/tests/test_gpu_float" "$build/tests/test_gpu_double")
[ $mpi = 1 ] && bins+=("$build-mpi/tumorfield-mpi")
for b in "${bins[@]}"; do
  cp "$b" "$stage/tumorfield-gpu/bin/"
  b=$(basename "$b")
  "$bundle_libs" "$stage/tumorfield-gpu/bin/$b" "$stage/libs-$b" >/dev/null
  cp -n "$stage/libs-$b"/* "$stage/tumorfield-gpu/lib/"
done
# The binaries must hold sm_90 machine code (not only PTX): cuobjdump where it is installed,
# else the ptxas options nvcc embeds in the fat binary.
if command -v cuobjdump >/dev/null; then
  cuobjdump --list-elf "$build/tumorfield" | grep "sm_${arch}" >/dev/null
else
  strings -a "$build/tumorfield" | grep -- "-arch sm_${arch}" >/dev/null
fi || { echo "prepare-bundle: no sm_${arch} code in $build/tumorfield" >&2; exit 1; }
{
  echo "commit:  $(git rev-parse HEAD)$(git diff --quiet HEAD -- . ':!.bundle' || echo ' (with local changes)')"
  echo "sources: $(bash tests/gpu/source-hash.sh)"
  echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nvcc:    $(nvcc --version | tail -1)"
  echo "cc:      $(cc --version | head -1)"
  echo "arch:    sm_${arch}"
  echo "libs:    $(ls "$stage/tumorfield-gpu/lib" | tr '\n' ' ')"
} > "$stage/tumorfield-gpu/MANIFEST"
rm -rf .bundle
mkdir -p .bundle
tar -cJf .bundle/tumorfield-gpu.tar.xz -C "$stage" tumorfield-gpu
if [ $mpi = 1 ]; then
  bash tests/gpu/mpi-bundle.sh pack "$stage/openmpi" >/dev/null
  cp "$stage/openmpi.tar.xz" .bundle/
fi
cp "$stage/tumorfield-gpu/MANIFEST" .bundle/MANIFEST
echo "prepare-bundle: $(du -ch .bundle/*.tar.xz | tr '\n\t' '  ')"
cat .bundle/MANIFEST
