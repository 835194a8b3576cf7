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
expect 2 "checkpoint 'adir' is a directory" -- "$tf" run "$tiny" --quiet --output out --restart adir

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

# 7. Inputs that are no fields (QA 2026-11-27): FIFOs (a run blocked on them for good, and no
#    signal stopped it), values past the float range or never written, packed values, x, y
#    and z in the wrong order, a fourth dimension that is not time, text, a classic file cut
#    short; checkpoints with a variable of another shape, a step that is text, a step that
#    contradicts time_min. Each refused with exit 2 naming the problem (an output file that is
#    a FIFO: exit 4), by check too where check reads the file.
mkfifo fifo.nc
expect 2 "vessels.file 'fifo.nc' is a FIFO" -- "$tf" run "$tiny" --quiet --output f --set vessels.file=fifo.nc
expect 2 "initial.file 'fifo.nc' is a FIFO" -- "$tf" check "$tiny" --set initial.file=fifo.nc
expect 2 "checkpoint 'fifo.nc' is a FIFO" -- "$tf" run "$tiny" --quiet --output f --restart fifo.nc
mkdir -p fo && mkfifo fo/tiny.timeseries.csv
expect 4 "output file 'fo/tiny.timeseries.csv' exists and is a FIFO" -- "$tf" run "$tiny" --quiet --output fo
"$tf" run "$tiny" --quiet --output base --set run.duration=1h || fail=1
# a run's NAME.nc with some fields only, given as initial.file: named as such, with what it needs
"$tf" run "$tiny" --quiet --output some --set run.duration=1h --set "output.fields=tumor, cortisol" || fail=1
expect 2 "initial.file 'some/tiny.nc' has no variable 'effector': an initial file holds all six fields" -- \
  "$tf" check "$tiny" --set initial.file=some/tiny.nc
"$py" - <<'PY' || fail=1
import shutil
import numpy as np, netCDF4
F = ["tumor", "effector", "suppressor", "pro_cytokine", "anti_cytokine", "cortisol"]
def make(name, dims=("z", "y", "x"), shape=(10, 12, 16), fmt="NETCDF4", names=("vessel",),
         value=0.1, dtype="f8", edit=None):
    with netCDF4.Dataset(name, "w", format=fmt) as d:
        for n, l in zip(dims, shape):
            d.createDimension(n, l)
        for v in names:
            x = d.createVariable(v, dtype, dims)
            x.set_auto_maskandscale(False)
            x[:] = np.full(shape, value, dtype=dtype)
            if edit:
                edit(v, x)
def put_fill(v, x):
    if v == "effector":
        x[0, 0, 0] = netCDF4.default_fillvals["f8"]
make("v_big.nc", names=F, value=1e39)
make("v_fill.nc", names=F, edit=put_fill)
make("v_packed.nc", edit=lambda v, x: x.setncattr("scale_factor", 0.01))
make("v_xyz.nc", dims=("x", "y", "z"), shape=(16, 12, 10))
make("v_species.nc", dims=("species", "z", "y", "x"), shape=(2, 10, 12, 16), names=F)
make("v_text.nc", dtype="S1", value=b"a")
make("v3.nc", fmt="NETCDF3_CLASSIC")
data = open("v3.nc", "rb").read()
open("v3_cut.nc", "wb").write(data[:len(data) // 2])
for n in ("c_step_text", "c_time"):
    shutil.copy("base/tiny.chk.nc", n + ".chk.nc")
with netCDF4.Dataset("c_step_text.chk.nc", "a") as d:
    d.setncattr("step", "twelve")
with netCDF4.Dataset("c_time.chk.nc", "a") as d:
    d.setncattr("step", np.int64(3))
# effector on (time, z, y, x), without the checksums
with netCDF4.Dataset("base/tiny.chk.nc") as a, netCDF4.Dataset("c_shape.chk.nc", "w") as d:
    d.setncatts({k: a.getncattr(k) for k in a.ncattrs()})
    for n, dim in a.dimensions.items():
        d.createDimension(n, len(dim))
    d.createDimension("time", 1)
    for n, v in a.variables.items():
        dims = ("time",) + v.dimensions if n == "effector" else v.dimensions
        x = d.createVariable(n, v.dtype, dims)
        x.set_auto_maskandscale(False)
        x[:] = v[:].reshape(x.shape)
PY
c=("$tf" check "$tiny")
r=("$tf" run "$tiny" --quiet --output f)
expect 2 "holds 1e+39" -- "${c[@]}" --set initial.file=v_big.nc
expect 2 "holds its fill value" -- "${r[@]}" --set initial.file=v_fill.nc
expect 2 "is packed (it has a scale_factor attribute)" -- "${c[@]}" --set vessels.file=v_packed.nc
expect 2 "has the dimensions (x, y, z); expected (z, y, x)" -- "${c[@]}" --set vessels.file=v_xyz.nc
expect 2 "a fourth dimension must be time" -- "${c[@]}" --set initial.file=v_species.nc
expect 2 "is not numeric" -- "${c[@]}" --set vessels.file=v_text.nc
expect 0 "" -- "${c[@]}" --set vessels.file=v3.nc
expect 2 "is cut short" -- "${r[@]}" --set vessels.file=v3_cut.nc
rr=("$tf" run "$tiny" --quiet --output base --set run.duration=2h)
expect 2 "attribute 'step' missing or not one number" -- "${rr[@]}" --restart c_step_text.chk.nc
expect 2 "the checkpoint's step 3 is at t = 15 min" -- "${rr[@]}" --restart c_time.chk.nc
expect 2 "variable 'effector' is not on the dimensions (z, y, x)" -- "${rr[@]}" --restart c_shape.chk.nc

[ "$fail" -eq 0 ] && echo "limits: all cases refused or handled as expected"
exit $fail
