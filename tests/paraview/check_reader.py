"""check_reader.py: open a TumorField NAME.nc with ParaView's NetCDF CF reader and check that
ParaView sees exactly what the file holds. Run with pvbatch (reading needs no X display).

    check_reader.py FILE.nc --n NX NY NZ --spacing H --times T0 T1 ...

Checks, each against an independent answer:
  - the file's CF layout (netCDF4 module): Conventions, coordinate units and axes, time units,
    units and long_name on every field;
  - the reader (NetCDFReader, vtkNetCDFCFReader, Dimensions '(z, y, x)', OutputType 'Image')
    offers every field and the vessel map;
  - TimestepValues equal the expected record times (minutes) and the file's time variable;
  - at every time: a vtkImageData with extent 0..n-1 per axis, spacing H um, origin at the first
    cell centre H/2, every field a point array of nx*ny*nz values equal bit for bit to the
    netCDF4 values (which also fixes the axis order: x fastest), the vessel map the same at
    every time.
Exit status 0 when all hold, 1 with every failed check listed otherwise.
"""
import argparse
import sys

import netCDF4
import numpy as np
from paraview import servermanager
from paraview.simple import NetCDFReader
from vtkmodules.util.numpy_support import vtk_to_numpy

FIELDS = ["tumor", "effector", "suppressor", "pro_cytokine", "anti_cytokine", "cortisol"]
STATIC = ["vessel"]

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


def check_cf_layout(ds, n, h):
    conv = getattr(ds, "Conventions", None)
    check(conv == "CF-1.10", "global attribute Conventions is %r, expected 'CF-1.10'" % conv)
    for name, m, axis in (("x", n[0], "X"), ("y", n[1], "Y"), ("z", n[2], "Z")):
        if not check(name in ds.variables, "coordinate variable %s missing" % name):
            continue
        v = ds.variables[name]
        check(getattr(v, "units", None) == "um", "%s:units is %r, expected 'um'"
              % (name, getattr(v, "units", None)))
        check(getattr(v, "axis", None) == axis, "%s:axis is %r, expected %r"
              % (name, getattr(v, "axis", None), axis))
        centres = (np.arange(m) + 0.5) * h
        check(v.shape == (m,) and np.allclose(v[:], centres, rtol=1e-12, atol=0),
              "%s holds %s, expected cell centres %s" % (name, list(v[:]), list(centres)))
    t = ds.variables.get("time")
    if check(t is not None, "coordinate variable time missing"):
        check(str(getattr(t, "units", "")).startswith("minutes since "),
              "time:units is %r, expected 'minutes since ...'" % getattr(t, "units", None))
        check(ds.dimensions["time"].isunlimited(), "dimension time is not unlimited")
    for name in FIELDS + STATIC:
        if not check(name in ds.variables, "variable %s missing from the file" % name):
            continue
        v = ds.variables[name]
        dims = ("z", "y", "x") if name in STATIC else ("time", "z", "y", "x")
        check(v.dimensions == dims,
              "%s has dimensions %s, expected %s" % (name, v.dimensions, dims))
        check(v.dtype == np.float32, "%s is %s, expected float" % (name, v.dtype))
        for att in ("units", "long_name"):
            check(bool(getattr(v, att, "")), "%s has no %s attribute" % (name, att))


def open_cf(path):
    r = NetCDFReader(FileName=[path])
    r.Dimensions = "(z, y, x)"
    r.OutputType = "Image"
    r.SphericalCoordinates = 0
    r.ReplaceFillValueWithNan = 0
    r.UpdatePipelineInformation()
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--n", type=int, nargs=3, required=True)
    ap.add_argument("--spacing", type=float, required=True)
    ap.add_argument("--times", type=float, nargs="+", required=True)
    a = ap.parse_args()
    n, h = a.n, a.spacing
    ds = netCDF4.Dataset(a.file)
    ds.set_auto_mask(False)
    check_cf_layout(ds, n, h)

    r = open_cf(a.file)
    obj = r.GetClientSideObject()        # vtkFileSeriesReader around the real reader
    vtk_class = obj.GetReader().GetClassName() if hasattr(obj, "GetReader") else obj.GetClassName()
    check(vtk_class == "vtkNetCDFCFReader", "reader is %s, expected vtkNetCDFCFReader" % vtk_class)
    offered = list(r.GetPropertyValue("VariableArrayInfo"))
    for name in FIELDS + STATIC:
        check(name in offered, "the reader does not offer %s (offers %s)" % (name, offered))
    dims_offered = r.GetPropertyValue("DimensionInfo")
    dims_offered = [dims_offered] if isinstance(dims_offered, str) else list(dims_offered)
    check("(z, y, x)" in dims_offered,
          "the reader offers dimensions %s, not (z, y, x)" % dims_offered)

    times = list(r.TimestepValues)
    file_times = [float(t) for t in ds.variables["time"][:]]
    check(len(times) == len(a.times) and np.allclose(times, a.times, rtol=0, atol=1e-9),
          "TimestepValues are %s, expected %s (minutes)" % (times, a.times))
    check(times == file_times,
          "TimestepValues %s differ from the file's time %s" % (times, file_times))

    npts = n[0] * n[1] * n[2]
    vessel0 = None
    probe = (n[0] // 2, n[1] // 3, n[2] - 2)   # an interior, asymmetric point (i, j, k)
    for it, t in enumerate(times[:len(file_times)]):
        r.UpdatePipeline(t)
        d = servermanager.Fetch(r)
        if not check(d.GetClassName() == "vtkImageData",
                     "t=%g: output is %s, expected vtkImageData" % (t, d.GetClassName())):
            continue
        ext = tuple(d.GetExtent())
        check(ext == (0, n[0] - 1, 0, n[1] - 1, 0, n[2] - 1),
              "t=%g: extent %s, expected %s" % (t, ext, (0, n[0] - 1, 0, n[1] - 1, 0, n[2] - 1)))
        check(np.allclose(d.GetSpacing(), (h, h, h), rtol=1e-12, atol=0),
              "t=%g: spacing %s, expected %g um on every axis" % (t, d.GetSpacing(), h))
        check(np.allclose(d.GetOrigin(), (h / 2, h / 2, h / 2), rtol=1e-12, atol=0),
              "t=%g: origin %s, expected the first cell centre (%g, %g, %g) um"
              % (t, d.GetOrigin(), h / 2, h / 2, h / 2))
        check(abs(d.GetFieldData().GetArray("time").GetValue(0) - t) < 1e-9
              if d.GetFieldData().GetArray("time") else True, "t=%g: field data time differs" % t)
        pd = d.GetPointData()
        for name in FIELDS + STATIC:
            arr = pd.GetArray(name)
            if not check(arr is not None, "t=%g: no point array %s" % (t, name)):
                continue
            got = vtk_to_numpy(arr)
            check(got.shape == (npts,), "t=%g: %s has %s values, expected %d"
                  % (t, name, got.shape, npts))
            want = ds.variables[name][:] if name in STATIC else ds.variables[name][it]
            want = np.asarray(want).reshape(-1)    # (z, y, x) C order: x fastest, as VTK
            if got.shape == want.shape:
                bad = np.flatnonzero(got != want)
                if bad.size:
                    check(False, "t=%g: %s differs from the file at %d of %d points (first at "
                          "flat index %d: %r vs %r)" % (t, name, bad.size, npts, bad[0],
                                                        got[bad[0]], want[bad[0]]))
                i, j, k = probe
                pid = d.ComputePointId([i, j, k])
                var = ds.variables[name]
                nc_value = var[k, j, i] if name in STATIC else var[it, k, j, i]
                check(got[pid] == nc_value, "t=%g: %s at (i,j,k)=%s is %r in ParaView, %r in the "
                      "file" % (t, name, probe, got[pid], nc_value))
            if name in STATIC:
                if vessel0 is None:
                    vessel0 = got.copy()
                else:
                    check(np.array_equal(vessel0, got), "t=%g: vessel map changed with time" % t)
        print("t = %g min: %s, %d point arrays, extent %s, spacing %s, origin %s"
              % (t, d.GetClassName(), pd.GetNumberOfArrays(), ext, d.GetSpacing(), d.GetOrigin()))

    if failures:
        print("FAILED: %d check(s):" % len(failures))
        for f in failures:
            print("  - " + f)
        return 1
    print("OK: %s opens in ParaView's NetCDF CF reader as %d records of %dx%dx%d image data"
          % (a.file, len(times), n[0], n[1], n[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
