#!/usr/bin/python3
"""ncdiff.py A.nc B.nc [--vars v1,v2] [--record K] [--rtol X]: compare variables of two NetCDF
files. Exact (bit-for-bit) by default; with --rtol, relative to each variable's max |value|.
--record K compares record K of A (negative counts from the end) with record K of B for
variables with a time dimension. Exit 0 when equal, 1 with the first difference printed."""
import argparse
import sys

import numpy as np

try:
    from netCDF4 import Dataset
except ImportError:  # a netCDF-4 file is an HDF5 file: h5py reads it (the GPU machine has h5py)
    import h5py

    def Dataset(path):
        f = h5py.File(path, "r")
        f.variables = {k: _H5Var(v) for k, v in f.items() if isinstance(v, h5py.Dataset)}
        return f

    class _H5Var:
        def __init__(self, ds):
            self.ds = ds
            dims = [d[0].name.rsplit("/", 1)[-1] for d in ds.dims if len(d)]
            self.dimensions = tuple(dims)

        def __getitem__(self, key):
            return self.ds[key]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--vars", default="tumor,effector,suppressor,pro_cytokine,anti_cytokine,cortisol")
    ap.add_argument("--record", type=int, default=None)
    ap.add_argument("--rtol", type=float, default=0.0)
    args = ap.parse_args()
    with Dataset(args.a) as da, Dataset(args.b) as db:
        for name in args.vars.split(","):
            if name not in da.variables or name not in db.variables:
                print(f"ncdiff: variable {name} missing in one file")
                return 1
            va, vb = da.variables[name], db.variables[name]
            x, y = va[:], vb[:]
            if args.record is not None and "time" in va.dimensions:
                x, y = x[args.record], y[args.record]
            x = np.asarray(x)
            y = np.asarray(y)
            if x.shape != y.shape:
                print(f"ncdiff: {name}: shapes {x.shape} and {y.shape} differ")
                return 1
            if args.rtol == 0.0:
                bad = np.flatnonzero(x.ravel() != y.ravel())
            else:
                scale = max(np.max(np.abs(x)), np.max(np.abs(y)), 1e-300)
                bad = np.flatnonzero(np.abs(x.ravel() - y.ravel()) > args.rtol * scale)
            if bad.size:
                i = bad[0]
                print(f"ncdiff: {name}: {bad.size} values differ; first at flat index {i}: "
                      f"{x.ravel()[i]!r} vs {y.ravel()[i]!r}")
                return 1
            print(f"ncdiff: {name}: equal ({x.size} values)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
