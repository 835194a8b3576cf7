#!/usr/bin/python3
"""compare_out.py A B [--name tiny] [--restarted]: the outputs of two runs of one scenario, one of
them on several MPI ranks (or restarted), must be the same run.

- NAME.nc and NAME.chk.nc: every field of every record, the vessel map and the coordinates are
  compared bit for bit with tests/tools/ncdiff.py; both files hold the same variables; global
  attributes are equal (the checkpoint's step, time and systemic drivers exactly), except the
  .nc's `history` (a date), `tumorfield_processes` (how many processes made it) and, with
  --restarted, its `scenario` (the first part's duration).
  The runs must use the same output.dir text (the scenario records it).
- NAME.timeseries.csv: same header and rows; time and systemic driver columns (computed alike on
  every rank) identical text. The diagnostics are sums over cells, added in another order on
  several ranks (per block, then MPI_Allreduce), so their doubles may differ in the last bits:
  the 9 printed digits may then differ by one unit in the last digit, never more.
- NAME.summary.json: same status, steps and end time; the final drivers exactly, the final
  diagnostics (printed with 17 digits) within 1e-12 relative.
Exit 0 when the runs agree, 1 with every difference printed."""
import argparse
import json
import math
import os
import subprocess
import sys

try:
    from netCDF4 import Dataset
except ImportError:
    sys.exit("compare_out.py needs the Python module netCDF4 (Debian: python3-netcdf4)")

HERE = os.path.dirname(os.path.abspath(__file__))
NCDIFF = os.path.join(HERE, "..", "tools", "ncdiff.py")
FIELDS = ["tumor", "effector", "suppressor", "pro_cytokine", "anti_cytokine", "cortisol"]
# Columns of the time series and keys of the summary's "final" that are sums over cells.
REDUCED = {"tumor_volume_mm3", "effector_infiltration"}


def reduced(name):
    return name in REDUCED or name.startswith("mean_")


def ncdiff(a, b, names):
    r = subprocess.run([sys.executable, NCDIFF, a, b, "--vars", ",".join(names)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return [f"{os.path.basename(a)}: {r.stdout.strip()}"]
    return []


def attrs_and_vars(a, b, skip):
    errs = []
    with Dataset(a) as da, Dataset(b) as db:
        if set(da.variables) != set(db.variables):
            errs.append(f"{a} and {b}: variables {sorted(da.variables)} and {sorted(db.variables)}")
        na, nb = set(da.ncattrs()) - skip, set(db.ncattrs()) - skip
        if na != nb:
            errs.append(f"{os.path.basename(a)}: global attributes {sorted(na ^ nb)} "
                        "in one file only")
        for k in sorted(na & nb):
            x, y = da.getncattr(k), db.getncattr(k)
            if str(x) != str(y) or type(x) is not type(y):
                errs.append(f"{os.path.basename(a)}: attribute {k}: {x!r:.200} vs {y!r:.200}")
        names = sorted(da.variables)
    return errs, names


def digit_unit(text):
    """One unit in the last printed digit of a %.9g number."""
    v = abs(float(text))
    if v == 0.0:
        return 0.0
    mant = text.lower().split("e")[0].lstrip("+-")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    exp = int(text.lower().split("e")[1]) if "e" in text.lower() else 0
    return 10.0 ** (exp - decimals)


def csv_compare(a, b):
    ta, tb = open(a).read(), open(b).read()
    if ta == tb:
        print(f"compare_out: {os.path.basename(a)}: identical text")
        return []
    la, lb = ta.splitlines(), tb.splitlines()
    if len(la) != len(lb) or la[0] != lb[0]:
        return [f"{a}: {len(la)} lines vs {len(lb)}, or the headers differ"]
    head = la[0].split(",")
    errs, near = [], 0
    for n, (ra, rb) in enumerate(zip(la[1:], lb[1:]), start=2):
        ca, cb = ra.split(","), rb.split(",")
        if len(ca) != len(cb):
            errs.append(f"{a}: line {n}: {len(ca)} vs {len(cb)} columns")
            continue
        for h, x, y in zip(head, ca, cb):
            if x == y:
                continue
            unit = max(digit_unit(x), digit_unit(y))
            if reduced(h) and abs(float(x) - float(y)) <= 1.0001 * unit:
                near += 1
                continue
            errs.append(f"{a}: line {n} column {h}: {x} vs {y}")
    if not errs:
        print(f"compare_out: {os.path.basename(a)}: {near} diagnostics differ by one unit "
              f"in the last printed digit (summation order), the rest identical")
    return errs


def summary_compare(a, b):
    with open(a) as fa, open(b) as fb:
        sa, sb = json.load(fa), json.load(fb)
    errs = []
    for k in ("status", "steps", "t_end_min"):
        if sa.get(k) != sb.get(k):
            errs.append(f"summary {k}: {sa.get(k)!r} vs {sb.get(k)!r}")
    fa, fb = sa.get("final", {}), sb.get("final", {})
    if set(fa) != set(fb):
        errs.append(f"summary final: keys {sorted(set(fa) ^ set(fb))} in one only")
    for k in sorted(set(fa) & set(fb)):
        x, y = fa[k], fb[k]
        if reduced(k):
            if not abs(x - y) <= 1e-12 * max(abs(x), abs(y)):
                errs.append(f"summary final {k}: {x!r} vs {y!r} (beyond 1e-12 relative)")
        elif x != y and not (isinstance(x, float) and math.isnan(x) and math.isnan(y)):
            errs.append(f"summary final {k}: {x!r} vs {y!r}")
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--name", default="tiny")
    ap.add_argument("--restarted", action="store_true")
    o = ap.parse_args()
    path = lambda d, suffix: os.path.join(d, o.name + suffix)
    errs = []
    e, names = attrs_and_vars(path(o.a, ".nc"), path(o.b, ".nc"),
                              {"history", "tumorfield_processes", "scenario"} if o.restarted
                              else {"history", "tumorfield_processes"})
    errs += e
    errs += ncdiff(path(o.a, ".nc"), path(o.b, ".nc"), names)
    e, names = attrs_and_vars(path(o.a, ".chk.nc"), path(o.b, ".chk.nc"), set())
    errs += e
    errs += ncdiff(path(o.a, ".chk.nc"), path(o.b, ".chk.nc"), names)
    errs += csv_compare(path(o.a, ".timeseries.csv"), path(o.b, ".timeseries.csv"))
    errs += summary_compare(path(o.a, ".summary.json"), path(o.b, ".summary.json"))
    for m in errs[:20]:
        print("compare_out: DIFFERS:", m)
    if len(errs) > 20:
        print(f"compare_out: ... and {len(errs) - 20} more differences")
    if not errs:
        print(f"compare_out: {o.b} is the same run as {o.a} (fields bit for bit)")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
