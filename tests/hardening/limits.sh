#!/usr/bin/env bash
# Limits on absurd input that the one-file catalogue (tests/bad_inputs/) cannot hold: huge,
# endless and binary scenario streams; huge garbage, mismatched and damaged restart files; a
# restart past the end of the run; a dt so small that interval / dt overflows an integer. Each
# must end with its exit code and message, quickly, without a crash or a hang.
# usage: limits.sh TUMORFIELD WORKDIR
set -uo pipefail
tf=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
tiny=$here/../checkpoint/tiny.ini
rm -rf "$work" && mkdir -p "$work"
cd "$work" || exit 1
py=/usr/bin/python3
"$py" -c 'import netCDF4' 2>/dev/null || py=python3
fail=0
# expect CODE FRAGMENT -- COMMAND...: exit CODE within 120 s, FRAGMENT (fixed string) in the
# output, the message starting with "tumorfield: error:" when CODE != 0, and no sanitizer report.
expect() {
  local code=$1 frag=$2; shift 3
  local out rc
  out=$(timeout 120 "$@" 2>&1); rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -qF -- "$frag" <<<"$out" ||
     { [ "$code" -ne 0 ] && ! grep -q '^tumorfield: error: ' <<<"$out"; } ||
     grep -q 'AddressSanitizer\|runtime error\|Segmentation' <<<"$out"; then
    echo "FAIL: expected exit $code and '$frag' from: $*"
    echo "  got exit $rc:"; sed 's/^/    /' <<<"$out" | tail -8
    fail=1
  else
    echo "ok: exit $code '$frag'"
  fi
}

# 1. Scenario streams: no newline for ever, a 3 GiB sparse file (no byte of it is text), an
#    endless stream of comment lines, a syntax error in a pipe followed by zeros.
expect 2 "/dev/zero:1: line longer than 65536 bytes" -- "$tf" check /dev/zero
truncate -s 3G huge.ini
expect 2 "huge.ini:1: line longer than 65536 bytes" -- "$tf" check huge.ini
rm -f huge.ini
expect 2 "larger than 16 MiB" -- bash -c "yes '# comment' | '$tf' check /dev/stdin"
expect 2 "expected [section], key = value" -- bash -c "{ echo garbage; head -c 200000 /dev/zero; } | '$tf' check /dev/stdin"
head -c 65536 /dev/urandom > random.ini
expect 2 "random.ini:" -- "$tf" check random.ini

# 2. Restart files: an 8 GiB sparse file of zeros, the program itself, a directory.
truncate -s 8G huge.chk.nc
expect 2 "cannot read checkpoint 'huge.chk.nc'" -- "$tf" run "$tiny" --quiet --output out --restart huge.chk.nc
rm -f huge.chk.nc
expect 2 "cannot read checkpoint" -- "$tf" run "$tiny" --quiet --output out --restart "$tf"
mkdir -p adir
expect 2 "cannot read checkpoint 'adir'" -- "$tf" run "$tiny" --quiet --output out --restart adir

# 3. Checkpoints that are readable but wrong: another grid under this scenario's text, a
#    negative step, a NaN driver. Made from real checkpoints with netCDF4.
"$tf" run "$tiny" --quiet --output a --set run.duration=12h || fail=1
"$tf" run "$tiny" --quiet --output b --set run.duration=1h --set "grid.n=17 12 10" || fail=1
cp a/tiny.chk.nc step.chk.nc && cp a/tiny.chk.nc nan.chk.nc
"$py" - <<'EOF' || fail=1
import netCDF4, numpy
with netCDF4.Dataset('a/tiny.chk.nc') as a:
    text = a.getncattr('scenario')
with netCDF4.Dataset('b/tiny.chk.nc', 'a') as d:
    d.setncattr('scenario', text)
with netCDF4.Dataset('step.chk.nc', 'a') as d:
    d.setncattr('step', numpy.int64(-5))
with netCDF4.Dataset('nan.chk.nc', 'a') as d:
    d.setncattr('driver_L', float('nan'))
EOF
r=("$tf" run "$tiny" --quiet --output a --set run.duration=1d)
expect 2 "grid dimension x is 17, the scenario has 16" -- "${r[@]}" --restart b/tiny.chk.nc
expect 2 "step -5" -- "${r[@]}" --restart step.chk.nc
expect 2 "L nan are not a saved state" -- "${r[@]}" --restart nan.chk.nc

# 4. A restart past the end of the run (run.duration shortened) is refused; at the end, it
#    finishes at once.
expect 2 "past the end of this run" -- "$tf" run "$tiny" --quiet --output a --set run.duration=6h --restart a/tiny.chk.nc
expect 0 "" -- "$tf" run "$tiny" --quiet --output a --set run.duration=12h --restart a/tiny.chk.nc

# 5. dt = 1e-299 min: 3 steps, but interval / dt = 1e299 steps between records. The run
#    writes the first and the last record (the sanitizer build catches an overflowing cast).
expect 0 "" -- "$tf" run "$tiny" --quiet --output tinydt --set "run.duration=3e-299 min" \
  --set "run.dt=1e-299 min" --set grid.n=4 --set checkpoint.interval=1min
"$py" - <<'EOF' || { echo "FAIL: records of the tiny-dt run"; fail=1; }
import netCDF4
with netCDF4.Dataset('tinydt/tiny.nc') as d:
    n = len(d.dimensions['time'])
    assert n == 2, f"{n} records, expected 2 (first and last)"
print("ok: tiny dt run wrote 2 records")
EOF

# 6. Step count and memory: run.duration / run.dt above 1e12 steps; a grid that passes the
#    state limit (1 TiB) but not this machine's memory (unless it has over 2.6 TiB).
expect 2 "steps, above the limit of 1e+12" -- "$tf" check "$tiny" --set run.duration=1e8min --set run.dt=1e-5min
mem_kib=$(awk '/MemTotal/ {print $2}' /proc/meminfo)
if [ "${mem_kib:-0}" -lt 2500000000 ]; then
  expect 2 "of host memory" -- "$tf" run "$tiny" --quiet --backend cpu --output big --set grid.n=3300
  [ ! -e big ] || { echo "FAIL: output directory created for a grid over memory"; fail=1; }
fi

[ "$fail" -eq 0 ] && echo "limits: all cases refused or handled as expected"
exit $fail
