#!/usr/bin/env bash
# run-on-device.sh: every GPU check of TumorField in one call of the device tool, on the GPU
# machine, in a copy of the repository whose .bundle/ was made here by
# tests/gpu/prepare-bundle.sh (that machine has CUDA and cuBLAS but no NetCDF, inih, cJSON,
# cmocka or network). See tests/gpu/README.md for the call.
#
# Groups, in the order they run (what a session needs first comes first), each step with its own
# time limit, each continuing after a failure; the whole inside BUDGET seconds (default 540: one
# long call, timeout_s 570, leaves room in the session's 15 device minutes for the machine's
# start and a short second call on the warm machine; set BUDGET from status's budget_left_s for
# that second call):
#   env        nvidia-smi, library resolution, tumorfield info
#   tests      test_gpu_float, test_gpu_double (CPU vs CUDA, determinism, check_state, diagnostics)
#   bench      cuda, both schemes, 256^3 (the targets of issue 7)
#   variants   the line kernels side by side (TF_CUDA_LINES classic and global, LOD), 256^3
#              and 512^3, 3 rounds, the order alternating
#   mpi        with .bundle/openmpi.tar.xz: the CUDA backend on 2 and 4 processes sharing the GPU,
#              cut along x, y, z (4 along z: middle ranks of the pipeline), against one process
#              (tests/gpu/mpi_ranks.sh), both schemes; each launch limited to 60 s
#   restart    bit-for-bit restart on cuda for both schemes
#   sanitizer  compute-sanitizer memcheck (bench, both schemes, small grid) and racecheck (the
#              shared-memory x-line tiles), if compute-sanitizer is there and accepts the device
#              (on gVisor machines it refuses: "Device not supported"; then SKIPPED, not failed)
#   profile    Nsight Compute (ncu --clock-control none): one step of each scheme at 256^3,
#              speed of light, memory workload, occupancy, launch statistics (profile.log)
#   series     cuda scaling series 64..512, both schemes
#   cpu        cpu benches, both schemes, 256^3 (this machine's CPU, for comparison)
#   memcheck   compute-sanitizer memcheck of test_gpu_float's smaller tests (TF_GPU_TESTS)
# ONLY="mpi sanitizer" (any of the group names, in any order) runs only those, e.g. for a second call
# after the first ran out of time; the summary names the groups that were skipped.
# The bundle must have been built from the sources of this tree (a hash of host/, include/,
# kernels/, tests/*.c and the CMake files, in .bundle/MANIFEST): else the script stops (exit 2)
# before spending device time on old binaries (FORCE=1 runs them anyway).
# Logs go to $OUT (at most 8 files come back): env.log, tests.log, sanitizer.log, bench.log,
# bench.jsonl, profile.log, summary.txt. The summary table is printed last. Exit status: 0 when
# every step that ran passed (skips aside), 1 when one failed or timed out, 2 when the bundle is
# missing or stale. Where nvidia-smi names a GPU, a test that skips for want of a device (exit 77)
# counts as failed, and a `tumorfield info` that finds no CUDA device ends the run at once.
# The bundle's libraries (Debian 12's) are on LD_LIBRARY_PATH for the bundle's programs only in
# effect: tar and python3 run with the machine's own libraries (wrapper in $WORK/sys).
set -u
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
T0=$(date +%s)
BUNDLE=.bundle/tumorfield-gpu.tar.xz
WORK=$(mktemp -d /tmp/tfgpu.XXXXXX)
SUMMARY=$OUT/summary.txt
: > "$SUMMARY"

note() { echo "$*" | tee -a "$SUMMARY"; }

# run_step NAME LOG LIMIT_S CMD...: run CMD with a time limit, append its output to LOG,
# record its exit status and time in the summary.
BUDGET=${BUDGET:-540} # seconds for the whole script; the device call's timeout_s 30 more
GROUPS_RUN=${ONLY:-env tests bench variants mpi restart sanitizer profile series cpu memcheck}
FAILED=0
SKIPPED_GROUPS=""
want() { [[ " $GROUPS_RUN " == *" $1 "* ]]; }
run_step() {
  local name=$1 log=$2 limit=$3; shift 3
  local t0=$(date +%s)
  local left=$(( BUDGET - (t0 - T0) ))
  if [ $left -lt 20 ]; then
    printf '%-44s %-8s\n' "$name" "SKIPPED (out of time)" | tee -a "$SUMMARY"
    [[ " $SKIPPED_GROUPS " == *" $GROUP "* ]] || SKIPPED_GROUPS="$SKIPPED_GROUPS $GROUP"
    return 75
  fi
  local cut=0
  [ $limit -gt $left ] && limit=$left && cut=1
  echo "=== $name: $* (limit ${limit}s)" >> "$log"
  timeout --kill-after=10 "$limit" "$@" >> "$log" 2>&1
  local rc=$?
  local dt=$(( $(date +%s) - t0 ))
  local word=ok
  [ $rc -eq 77 ] && word=SKIPPED
  # A GPU is there (nvidia-smi): a test that finds no device has found the failure to report.
  [ $rc -eq 77 ] && [ -n "${gpu:-}" ] && word=FAILED
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && word=TIMEOUT
  if [ "$word" = TIMEOUT ] && [ $cut = 1 ]; then
    # Stopped by the script's budget, not by its own limit: to be run again, not a failure.
    word="OUT-OF-TIME"
    [[ " $SKIPPED_GROUPS " == *" $GROUP "* ]] || SKIPPED_GROUPS="$SKIPPED_GROUPS $GROUP"
  fi
  [ $rc -ne 0 ] && [ "$word" = ok ] && word=FAILED
  [ "$word" = FAILED ] || [ "$word" = TIMEOUT ] && FAILED=1
  printf '%-44s %-8s rc=%-3s %4ss\n' "$name" "$word" "$rc" "$dt" | tee -a "$SUMMARY"
  return $rc
}

if [ ! -f "$BUNDLE" ]; then
  note "no $BUNDLE: run tests/gpu/prepare-bundle.sh before the call and carry .bundle"
  exit 2
fi
if ! fresh=$(bash tests/gpu/bundle-fresh.sh); then
  note "$fresh"
  if [ "${FORCE:-0}" != 1 ]; then
    note "FORCE=1 runs the old binaries"
    exit 2
  fi
else
  note "$fresh"
fi
# The machine's own environment for its own tools (python3, xz): the bundle's Debian 12
# libraries, exported below for the bundle's programs, must not shadow the newer ones there.
SYS_LD=${LD_LIBRARY_PATH-}
SYS_PY=$(command -v python3 || command -v python || true)
mkdir -p "$WORK/sys"
if [ -n "$SYS_PY" ]; then
  # (an absolute path: a wrapper that exec'd "python3" by name would find itself first)
  printf '#!/bin/sh\nLD_LIBRARY_PATH="%s" exec "%s" "$@"\n' "$SYS_LD" "$SYS_PY" > "$WORK/sys/python3"
else
  printf '#!/bin/sh\necho "no python3 on this machine" >&2\nexit 127\n' > "$WORK/sys/python3"
fi
chmod +x "$WORK/sys/python3"
export PATH=$WORK/sys:$PATH
# unpack TARBALL DIR: GNU tar runs an xz program for .xz, which a machine may lack; Python's
# tarfile reads it with its own lzma module (links and modes kept).
unpack() {
  LD_LIBRARY_PATH=$SYS_LD tar -xJf "$1" -C "$2" 2>> "$OUT/env.log" ||
    "$WORK/sys/python3" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
      "$1" "$2"
}
unpack "$BUNDLE" "$WORK" || { note "cannot unpack $BUNDLE (tar -xJf and python3 tarfile failed)"; exit 2; }
B=$WORK/tumorfield-gpu
cat "$B/MANIFEST" >> "$OUT/env.log"
note "bundle: $(grep '^commit:' "$B/MANIFEST")"

# CUDA runtime and cuBLAS (not bundled): the loader's list, the toolkit, or pip's wheels.
cuda_dirs=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -d "$d" ] && cuda_dirs="$cuda_dirs:$d"
done
if ! ldconfig -p 2>/dev/null | grep -q 'libcublas.so.13'; then
  for pat in libcublas.so.13 libcudart.so.13; do
    f=$(find /usr/local /opt /usr/lib -name "$pat*" 2>/dev/null | head -1)
    [ -n "$f" ] && cuda_dirs="$cuda_dirs:$(dirname "$f")"
  done
fi
export LD_LIBRARY_PATH=$B/lib$cuda_dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}
TF=$B/bin/tumorfield
# compute-sanitizer: on the PATH, in the toolkit's bin/, or in its own folder (CUDA 13 layout).
CS=$(command -v compute-sanitizer ||
     ls /usr/local/cuda*/bin/compute-sanitizer /usr/local/cuda*/compute-sanitizer/compute-sanitizer \
        /opt/nvidia/*/compute-sanitizer/compute-sanitizer 2>/dev/null | head -1)

GROUP=env
if want env; then
  {
    echo "=== host: $(uname -a); $(nproc) cores; OMP_NUM_THREADS=$OMP_NUM_THREADS"
    grep -m1 'model name' /proc/cpuinfo
    echo "=== nvidia-smi"
    nvidia-smi
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.limit --format=csv
    echo "=== LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
    for b in "$B"/bin/*; do echo "--- ldd $b"; ldd "$b"; done
    echo "=== compute-sanitizer: ${CS:-none}"
    echo "=== glibc: $(LD_LIBRARY_PATH=$SYS_LD ldd --version 2>&1 | head -1); xz: $(command -v xz || echo none); python3: $SYS_PY"
  } >> "$OUT/env.log" 2>&1
  if grep -q '=> not found' "$OUT/env.log"; then
    note "missing libraries (see env.log):"
    grep '=> not found' "$OUT/env.log" | sort -u | tee -a "$SUMMARY"
  fi
fi
gpu=$(LD_LIBRARY_PATH=$SYS_LD nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)
note "device: ${gpu:-none found by nvidia-smi}"
if want env; then
  run_step "tumorfield info" "$OUT/env.log" 60 "$TF" info
  info_rc=$?
  # nvidia-smi sees a GPU that CUDA does not: every later step would skip or fail; say why now
  # (info's own output is in env.log; its status says whether it ran at all).
  if [ -n "$gpu" ] && [ "${BACKEND:-cuda}" = cuda ] &&
     ! sed -n '/^=== tumorfield info/,$p' "$OUT/env.log" | grep -Eq '^cuda devices: +[1-9]'; then
    if [ $info_rc -ne 0 ]; then
      note "nvidia-smi names a GPU, but tumorfield info did not run (exit $info_rc: a missing library above, or a hang):"
    else
      note "nvidia-smi names a GPU, but tumorfield finds no CUDA device:"
    fi
    sed -n '/^=== tumorfield info/,$p' "$OUT/env.log" | grep -E '^cuda|error' | tee -a "$SUMMARY"
    LD_LIBRARY_PATH=$SYS_LD ldconfig -p 2>/dev/null | grep -E 'libcuda\.so|libcudart|libcublas' | tee -a "$SUMMARY"
    # The machine's side: the device files a container must pass in, the kernel driver.
    { ls -l /dev/nvidia* 2>&1 | head -8; cat /proc/driver/nvidia/version 2>&1 | head -2; } | tee -a "$SUMMARY"
    note "stopping here (nothing later could pass); see env.log"
    exit 1
  fi
fi

# ---- tests: CPU vs CUDA, determinism, check_state, diagnostics --------------------------
GROUP=tests
if want tests; then
  run_step "test_gpu_float" "$OUT/tests.log" 150 "$B/bin/test_gpu_float"
  float_rc=$?
  run_step "test_gpu_double" "$OUT/tests.log" 150 "$B/bin/test_gpu_double"
  # A fault inside a kernel surfaces at the next synchronisation, named after that call, and
  # every later test of the program then fails with it: run the float test again with
  # synchronous launches, so that the check after each launch names the faulting kernel.
  if [ $float_rc -ne 0 ] && [ $float_rc -ne 77 ] && [ $float_rc -ne 75 ] &&
     grep -qiE "illegal|misaligned|cudaError|unspecified launch|an illegal" "$OUT/tests.log"; then
    run_step "test_gpu_float (CUDA_LAUNCH_BLOCKING=1)" "$OUT/tests.log" 120 \
      env CUDA_LAUNCH_BLOCKING=1 "$B/bin/test_gpu_float"
  fi
fi

# ---- benches -----------------------------------------------------------------------------
JSONL=$OUT/bench.jsonl
touch "$JSONL"
bench() { # bench BACKEND SCHEME N STEPS LIMIT (TF_CUDA_LINES: a variant)
  local j=$WORK/bench-$1-$2-$3.json v=""
  [ -n "${TF_CUDA_LINES:-}" ] && v=" lines=$TF_CUDA_LINES"
  run_step "bench $1 $2 $3^3$v" "$OUT/bench.log" "$5" bash -c 'out=$1; shift; exec "$@" > "$out"' _ \
    "$j" "$TF" bench --backend "$1" --scheme "$2" --grid "$3" --steps "$4" --json
  local rc=$?
  if [ -s "$j" ]; then
    cat "$j" >> "$OUT/bench.log"
    [ $rc -eq 0 ] && python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' \
      "$j" >> "$JSONL" 2>> "$OUT/bench.log"
  fi
}
bench_both() { # bench_both BACKEND N STEPS LIMIT: both schemes
  bench "$1" lod "$2" "$3" "$4"
  bench "$1" explicit "$2" "$3" "$4"
}
GROUP=bench
want bench && bench_both cuda 256 50 60

# ---- line-kernel variants, A/B in one binary (TF_CUDA_LINES) ------------------------------
# Rounds of both in turn, the order alternating by round, at 256^3 and 512^3: the chunked line
# solves against the classic ones on the same card in the same minute. The JSON's `device`
# names the variant (the backend's description).
GROUP=variants
if want variants; then
  for n in 256 512; do
    for round in 1 2 3; do
      lines="classic global"
      [ $round = 2 ] && lines="global classic"
      for v in $lines; do
        TF_CUDA_LINES=$v bench cuda lod $n 30 60
      done
    done
  done
fi

# ---- across processes: Open MPI from the bundle, the GPU shared by the processes ----------
GROUP=mpi
if ! want mpi; then
  :
elif [ -f .bundle/openmpi.tar.xz ] && [ -x "$B/bin/tumorfield-mpi" ] &&
     unpack .bundle/openmpi.tar.xz "$WORK"; then
  label=${BACKEND:-cuda}
  # A subshell for the bundle's environment: its failures and skips come back in its status.
  (
    eval "$(bash tests/gpu/mpi-bundle.sh env "$WORK/openmpi")"
    probe() { run_step "mpirun -n 2 tumorfield info$1" "$OUT/tests.log" 60 \
                mpirun -n 2 -x OMP_NUM_THREADS=1 "$B/bin/tumorfield-mpi" info; }
    # A probe that mpirun cannot pass is the machine's limit (a sandbox), not a finding: the
    # group is skipped with a note (tests.log says why); out of time (75), it is named below.
    failed_before=$FAILED
    probe ""; prc=$?
    [ $prc = 75 ] && exit 0
    if [ $prc != 0 ]; then
      # Shared-memory transport refused in a sandbox: TCP over loopback instead, once.
      export OMPI_MCA_btl=self,tcp
      probe " (OMPI_MCA_btl=self,tcp)"; prc=$?
      [ $prc = 75 ] && exit 0
      FAILED=$failed_before
      if [ $prc != 0 ]; then
        note "mpirun cannot start 2 processes on this machine (tests.log): the mpi group SKIPPED, not failed"
        exit 0
      fi
      note "mpirun: the probe over the default transport failed (the row above), over TCP it passed: mpi_ranks run with OMPI_MCA_btl=self,tcp"
    fi
    for s in lod explicit; do
      # 4:1x1x4: ranks in the middle of the line-solve relay
      run_step "mpi_ranks $label $s mixed" "$OUT/tests.log" 150 \
        bash tests/gpu/mpi_ranks.sh "$B/bin/tumorfield-mpi" "$WORK/mpi_$s" $s mixed \
        2:2x1x1 2:1x2x1 2:1x1x2 4:2x2x1 4:1x1x4 -- timeout --foreground 60 mpirun --oversubscribe -n
    done
    exit $(( FAILED ? 1 : 0 ))
  ) || FAILED=1
  grep -qE "SKIPPED \(out of time\)|OUT-OF-TIME" <(grep -E "^(mpirun|mpi_ranks)" "$SUMMARY") &&
    SKIPPED_GROUPS="$SKIPPED_GROUPS mpi"
else
  note "no .bundle/openmpi.tar.xz or tumorfield-mpi: the checks across processes not run"
fi

# ---- bit-for-bit restart on the GPU (the CTest tests gpu_restart_bitwise_*) ---------------
GROUP=restart
if want restart; then
  for s in lod explicit; do
    run_step "restart bitwise cuda $s" "$OUT/tests.log" 90 \
      bash tests/checkpoint/restart_bitwise.sh "$TF" $s "$WORK/restart_$s" cuda
  done
fi

# ---- compute-sanitizer -----------------------------------------------------------------
# One probe first: on gVisor machines compute-sanitizer refuses the device ("Device not
# supported", then error 999); that is the machine's limit, not a defect, and skips both
# sanitizer groups instead of failing them. Any other failure of the probe (an error it found,
# a time-out) is a failure; out of time, the groups are named for a second call.
cs_ok=0
if [ -n "$CS" ] && [ -x "$CS" ] && { want sanitizer || want memcheck; }; then
  GROUP=sanitizer
  probe=$WORK/cs-probe.log
  : > "$probe"
  FAILED_BEFORE_PROBE=$FAILED
  run_step "compute-sanitizer probe (memcheck of info)" "$probe" 60 \
    "$CS" --tool memcheck --error-exitcode 9 "$TF" info
  probe_rc=$?
  cat "$probe" >> "$OUT/sanitizer.log"
  if [ $probe_rc -eq 0 ]; then
    cs_ok=1
  elif [[ " $SKIPPED_GROUPS " == *" sanitizer "* ]]; then
    # out of the script's time before or during the probe: both groups for a second call
    want memcheck && SKIPPED_GROUPS="$SKIPPED_GROUPS memcheck"
  elif grep -qE "Device not supported|error 999" "$probe"; then
    # The row above says FAILED; it is the machine's refusal, not a finding.
    FAILED=$FAILED_BEFORE_PROBE
    note "compute-sanitizer refused this device (\"Device not supported\": gVisor): sanitizer and memcheck SKIPPED"
  fi
fi
GROUP=sanitizer
if ! want sanitizer; then
  :
elif [ $cs_ok = 1 ]; then
  for s in lod explicit; do
    run_step "memcheck bench 40^3 $s" "$OUT/sanitizer.log" 90 \
      "$CS" --tool memcheck --leak-check full --error-exitcode 9 \
      "$TF" bench --grid 40 --steps 3 --scheme $s --backend cuda
  done
  run_step "racecheck bench 40^3 lod" "$OUT/sanitizer.log" 90 \
    "$CS" --tool racecheck --error-exitcode 9 "$TF" bench --grid 40 --steps 2 --scheme lod --backend cuda
elif [ -z "$CS" ]; then
  note "compute-sanitizer not found: sanitizer checks not run"
fi

# ---- Nsight Compute: one step of each scheme at 256^3, the kernels' speed of light, memory
# workload, occupancy (profile.log); --clock-control none leaves the card's clocks alone.
NCU=$(command -v ncu || ls /usr/local/cuda*/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
GROUP=profile
if want profile; then
  if [ -n "$NCU" ] && [ -x "$NCU" ]; then
    # ncu_step SCHEME KERNELS SKIP COUNT LIMIT: the launches of one timed step (SKIP: those of
    # the 3 warm-up steps, counted among the kernels the regex selects)
    ncu_step() {
      run_step "ncu $1 256^3 (one step)" "$OUT/profile.log" "$5" \
        "$NCU" --clock-control none --section SpeedOfLight --section MemoryWorkloadAnalysis \
        --section Occupancy --section LaunchStats -k "regex:$2" --launch-skip "$3" \
        --launch-count "$4" "$TF" bench --grid 256 --steps 2 --scheme "$1" --backend cuda
    }
    ncu_step lod '^k_(react|lines)' 15 5 120
    ncu_step explicit '^k_explicit' 3 1 90
  else
    note "ncu not found: profile not run"
  fi
fi

GROUP=series
if want series; then
  for n in 64 128 192 384 512; do
    bench_both cuda $n 30 60
  done
fi
GROUP=cpu
want cpu && bench_both cpu 256 5 90

# Last, as it may be slow: the float test's smaller cases under memcheck (check_state's planted
# values and its reductions, two solvers on one device; the comparisons' 200-step runs and long
# lines would not finish under it).
GROUP=memcheck
if want memcheck && [ $cs_ok = 1 ]; then
  for t in "check_state*" "two_solvers*" "line_kernels*"; do
    run_step "memcheck test_gpu_float $t" "$OUT/sanitizer.log" 150 \
      env TF_GPU_TESTS="$t" "$CS" --tool memcheck --error-exitcode 9 "$B/bin/test_gpu_float"
  done
fi

# ---- summary -----------------------------------------------------------------------------
{
  echo
  echo "bench (ms/step host clock; arrays = minimum arrays a step moves (docs/performance.md);"
  echo "GB/s = their bytes / time; copy = same-device copy; stages that ran, ms/step)"
  python3 - "$JSONL" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("%-5s %-8s %-8s %5s %10s %11s %6s %8s %8s %6s  %s" % ("back", "scheme", "kernels", "n",
      "ms/step", "Mvox/s", "arrays", "GB/s", "copy", "ratio", "stages ms/step"))
import re
def variant(r):  # the line kernels, from the backend's description (TF_CUDA_LINES)
    m = re.search(r"; (\w+) line solves", r.get("device", ""))
    return m.group(1) if m else "-"
for r in rows:
    st = " ".join("%s=%.3g" % (k, v["ms_per_step"]) for k, v in r["stages"].items()
                  if v.get("calls_per_step"))
    note = " (in cache)" if r.get("in_cache") else ""
    print("%-5s %-8s %-8s %5d %10.3f %11.1f %6d %8.1f %8.1f %6.3f  %s%s" % (r["backend"],
          r["scheme"], variant(r), r["n"], r["ms_per_step"], 1e-6 * r["voxel_updates_per_s"], r["arrays_per_step"],
          r["effective_bandwidth_GBps"], r["copy_bandwidth_GBps"], r["ratio_to_copy"], st, note))
PY
  echo
  [ -n "$SKIPPED_GROUPS" ] &&
    echo "out of time before:$SKIPPED_GROUPS; run them in a second call: ONLY=\"${SKIPPED_GROUPS# }\""
  echo "total $(( $(date +%s) - T0 ))s; $( [ $FAILED = 1 ] && echo 'SOME STEPS FAILED' || echo 'no step failed'); logs in \$OUT: $(ls "$OUT" | tr '\n' ' ')"
} 2>&1 | tee -a "$SUMMARY"
rm -rf "$WORK"
exit $FAILED
