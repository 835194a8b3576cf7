#!/usr/bin/python3
"""make_sample.py: write a small NAME.nc and NAME.timeseries.csv in the layout of CONTRACT.md.

Used by the paraview tests to exercise tf_render.py and tf_plot.py on a file whose every value is
known, independently of the solver. Layout (CONTRACT.md, include/tf_io.h): netCDF-4 CF-1.10,
dimensions time (unlimited), z, y, x; coordinates x, y, z in um at cell centres (i + 0.5) h;
time in "minutes since 2000-01-01 00:00:00"; float fields over (time, z, y, x); vessel (z, y, x).

    make_sample.py OUTDIR NAME [--n NX NY NZ] [--spacing H] [--times T0 T1 ...]
                   [--depression D] [--csv-only] [--drop-column COL]
"""
import argparse
import math
import os
import sys

FIELDS = [  # name, units, long_name
    ("tumor", "1", "tumor cell volume fraction"),
    ("effector", "1", "effector cell (NK, CD8+ T) volume fraction"),
    ("suppressor", "1", "immunosuppressive myeloid cell volume fraction"),
    ("pro_cytokine", "pg/mL", "pro-inflammatory cytokine (IL-6, TNF-alpha) concentration"),
    ("anti_cytokine", "pg/mL", "anti-inflammatory cytokine (IL-10) concentration"),
    ("cortisol", "nmol/L", "tissue cortisol concentration"),
]
CSV_UNITS = {"1": "1", "pg/mL": "pg_per_mL", "nmol/L": "nmol_per_L"}


def value(field, t, x, y, z, c, r0):
    """Known analytic sample: a growing sphere of tumor around the centre c, and smooth fields."""
    r = math.sqrt((x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2)
    radius = r0 * (1.0 + t / 20160.0)
    tumor = 0.8 / (1.0 + math.exp((r - radius) / (0.5 * r0 / 4)))
    if field == "tumor":
        return tumor
    if field == "effector":
        return 0.05 * (1.0 - tumor) * (1.0 + x / (4 * c[0]))
    if field == "suppressor":
        return 0.02 * tumor
    if field == "pro_cytokine":
        return 40.0 * tumor + 0.001 * t
    if field == "anti_cytokine":
        return 2.0 + 3.0 * (y / (2 * c[1]))
    return 250.0 + 50.0 * (z / (2 * c[2])) + 0.01 * t


def write_nc(path, n, h, times):
    import netCDF4
    nx, ny, nz = n
    c = (nx * h / 2, ny * h / 2, nz * h / 2)
    r0 = min(c) / 2
    ds = netCDF4.Dataset(path, "w", format="NETCDF4")
    ds.Conventions = "CF-1.10"
    ds.title = "TumorField sample output (tests/paraview/make_sample.py)"
    ds.createDimension("time", None)
    ds.createDimension("z", nz)
    ds.createDimension("y", ny)
    ds.createDimension("x", nx)
    for name, m, axis in (("x", nx, "X"), ("y", ny, "Y"), ("z", nz, "Z")):
        v = ds.createVariable(name, "f8", (name,))
        v.units = "um"
        v.axis = axis
        v.long_name = name + " coordinate of the cell centre"
        v[:] = [(i + 0.5) * h for i in range(m)]
    tv = ds.createVariable("time", "f8", ("time",))
    tv.units = "minutes since 2000-01-01 00:00:00"
    tv.axis = "T"
    tv.calendar = "standard"
    tv.long_name = "time"
    out = {}
    for name, units, long_name in FIELDS:
        v = ds.createVariable(name, "f4", ("time", "z", "y", "x"))
        v.units = units
        v.long_name = long_name
        out[name] = v
    vv = ds.createVariable("vessel", "f4", ("z", "y", "x"))
    vv.units = "1"
    vv.long_name = "local vascular density"
    vv[:] = [[[((i + 2 * j + 3 * k) % 7) / 7.0 for i in range(nx)] for j in range(ny)]
             for k in range(nz)]
    for it, t in enumerate(times):
        tv[it] = t
        for name, _, _ in FIELDS:
            out[name][it] = [[[value(name, t, (i + .5) * h, (j + .5) * h, (k + .5) * h, c, r0)
                               for i in range(nx)] for j in range(ny)] for k in range(nz)]
    ds.close()


def write_csv(path, times, depression, drop):
    cols = ["time_min", "time_d", "tumor_volume_mm3"]
    cols += ["mean_%s_in_tumor_%s" % (f, CSV_UNITS[u]) for f, u, _ in FIELDS]
    cols += ["effector_infiltration", "x", "z", "L", "I", "B", "O", "D", "C_b", "M_E", "A_b"]
    cols = [c for c in cols if c != drop]
    with open(path, "w") as fh:
        fh.write(",".join(cols) + "\n")
        for t in times:
            x = 0.6 if (t % 1440) < 30 else 0.0
            L = 3.0 * (1 - math.exp(-t / 20160.0))
            row = {"time_min": t, "time_d": t / 1440.0,
                   "tumor_volume_mm3": 0.03 * math.exp(t * (1 + depression) / 40000.0),
                   "effector_infiltration": 0.2, "x": x, "z": 0.0, "L": L, "I": x,
                   "B": min(L / 1.5, 1), "O": 0.0, "D": depression, "A_b": 2.0,
                   "C_b": 250 * (1 + 0.4 * depression)
                          * (1 + 0.4 * math.cos(2 * math.pi * (t - 480) / 1440)),
                   "M_E": 1 + 2 * x}
            for f, u, _ in FIELDS:
                row["mean_%s_in_tumor_%s" % (f, CSV_UNITS[u])] = {
                    "tumor": 0.7, "effector": 0.01, "suppressor": 0.01,
                    "pro_cytokine": 20 + 10 * depression + t / 4000.0,
                    "anti_cytokine": 3.0, "cortisol": 260 + 40 * depression}[f]
            fh.write(",".join("%.9g" % row[c] for c in cols) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("name")
    ap.add_argument("--n", type=int, nargs=3, default=[12, 10, 8])
    ap.add_argument("--spacing", type=float, default=10.0)
    ap.add_argument("--times", type=float, nargs="+", default=[0.0, 60.0, 120.0])
    ap.add_argument("--depression", type=float, default=0.5)
    ap.add_argument("--csv-only", action="store_true")
    ap.add_argument("--drop-column", default="")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    if not a.csv_only:
        write_nc(os.path.join(a.outdir, a.name + ".nc"), a.n, a.spacing, a.times)
    series_times = [a.times[0] + i * (a.times[-1] - a.times[0]) / 20 for i in range(21)]
    write_csv(os.path.join(a.outdir, a.name + ".timeseries.csv"), series_times, a.depression,
              a.drop_column)
    return 0


if __name__ == "__main__":
    sys.exit(main())
