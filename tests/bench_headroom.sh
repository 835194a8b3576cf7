#!/usr/bin/env bash
# bench and run plan their arrays within 90% of the physical memory (TF_HOST_MEMORY_SHARE): a
# bench grid at about 95% is refused, exit 2 (it passed and was killed by the OOM killer). A
# broken check must not fill the machine: the run is capped at half the memory, by ulimit -v
# or, for an AddressSanitizer build (whose shadow memory needs the address space), by ASan's
# hard_rss_limit_mb. usage: bench_headroom.sh TUMORFIELD
set -uo pipefail
tf=$1
kb=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)
n=$(awk -v kb="$kb" 'BEGIN { printf "%d", exp(log(0.95 * kb * 1024 / (14 * 4 * 1.06)) / 3) }')
# (ldd's whole output first: `ldd | grep -q` under pipefail fails when grep stops reading early
# and ldd dies of SIGPIPE, and this test then took an ASan build for a plain one.)
libs=$(ldd "$tf" 2>/dev/null || true)
if grep -q libasan <<<"$libs"; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=$((kb / 2048))"
else
  ulimit -v $((kb / 2))
fi
err=$("$tf" bench --grid "$n" --steps 1 2>&1 >/dev/null)
rc=$?
echo "$err"
[ $rc -eq 2 ] && grep -q "more than 90% of the" <<<"$err" ||
  { echo "FAIL: bench --grid $n (about 95% of the memory): exit $rc, expected 2 and the 90% message"; exit 1; }
echo "ok: bench --grid $n refused within the 90% plan"
