#!/usr/bin/env bash
# A bounded libFuzzer run of fuzz_scenario: SECONDS of fuzzing from the seed directories, new
# inputs into a fresh corpus under WORKDIR (the seeds are only read). A crash, leak, timeout or
# violated property fails the test and leaves the input in WORKDIR/artifacts/: copy it into
# tests/fuzz/regressions/ (the replay test then runs it in every build) and fix the cause.
# usage: run_fuzz.sh FUZZER SECONDS WORKDIR SEED_DIR...
set -uo pipefail
fuzzer=$1 secs=$2 work=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts" "$work/tmp" || exit 1
cd "$work" || exit 1
export TMPDIR=$work/tmp
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$fuzzer" -max_total_time="$secs" -max_len=8192 -timeout=20 -rss_limit_mb=2048 \
  -dict="$here/scenario.dict" -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
  "$work/corpus" "$@" > "$work/fuzz.log" 2>&1
rc=$?
tail -n 25 "$work/fuzz.log"
if [ "$rc" -ne 0 ]; then
  echo "FAIL: fuzz_scenario exited $rc; the input is in $work/artifacts/:"
  ls -l "$work/artifacts/"
  echo "replay it with: fuzz_scenario_replay FILE; add it to tests/fuzz/regressions/ and fix the cause"
  exit 1
fi
echo "fuzz_scenario: ${secs} s without a crash; corpus of $(ls "$work/corpus" | wc -l) new inputs"
