#!/usr/bin/python3
"""test_render.py: tools/tf_render.py on a real output file makes the images asked for.

    test_render.py TF_RENDER FILE.nc WORKDIR --times T0 T1 ...   (the file's record times, min)

Checks (PNG pixels read with matplotlib):
  - --times all --size 400x300: one PNG per record, named after its time, each 400x300 pixels,
    not blank: over 200 distinct colours, a pixel standard deviation over 0.05 and over 5% of the
    pixels differing from the background corner;
  - the pictures differ between the first and the last record only where the data changed,
    so they are not one image repeated: checked as "not identical" when the fields changed;
  - --times last makes exactly the last record's image;
  - a time list with units picks the nearest records, and a time far from every record is
    refused (tf_render's functions, called without ParaView);
  - bad input exits 2 with a message naming the problem (missing file, bad --size, bad --times,
    with --flat a run with one cell along z, which ParaView's reader cannot place, --novars a
    file without fields, --checkpoint a checkpoint) and makes no image;
  - a file the NetCDF library cannot open, cut short (head -c) or held by a writer's HDF5 lock,
    exits 2 with one line, `'FILE': cannot read it as NetCDF`, with netCDF4 and without it
    (then ParaView's reader is the first to open it); a held file's message names
    HDF5_USE_FILE_LOCKING=FALSE, and with that set the file renders;
  - an --outdir that is a file, lies under a file or cannot be created exits 2 with one line;
  - --notumor: a file without tumor gets the slices alone and a note;
  - the note when no isosurface exists at the level (T below it everywhere, or above it), and
    exit 2 naming the field where a field has no finite value;
  - image names tell records less than a minute apart from each other.
The script runs with DISPLAY unset, so tf_render.py's private Xvfb is exercised.
"""
import argparse
import fcntl
import glob
import os
import shutil
import sys

import numpy as np
from matplotlib.image import imread

from checks import check, report
from checks import run as run_python


def run(tool, args, env):
    return run_python(tool, args, env=env, timeout=120)


def one_line(log):
    """A failure's output is one line, 'tf_render: error: ...' (no traceback, no VTK errors)."""
    return log.startswith("tf_render: error: ") and log.count("\n") == 1


def check_image(path, size):
    img = imread(path)
    w, h = size
    if not check(img.shape[:2] == (h, w), "%s is %dx%d pixels, expected %dx%d"
                 % (path, img.shape[1], img.shape[0], w, h)):
        return None
    rgb = img[:, :, :3]
    colours = np.unique((rgb * 255).round().astype(np.uint8).reshape(-1, 3), axis=0).shape[0]
    std = float(rgb.std())
    drawn = float(np.mean(np.any(np.abs(rgb - rgb[0, 0]) > 0.02, axis=2)))
    check(colours > 200, "%s has only %d distinct colours (blank?)" % (path, colours))
    check(std > 0.05, "%s has pixel standard deviation %.4f (blank?)" % (path, std))
    check(drawn > 0.05,
          "%s: only %.1f%% of the pixels differ from the background" % (path, 100 * drawn))
    print("%s: %dx%d, %d colours, std %.3f, %.0f%% drawn" % (os.path.basename(path), w, h, colours,
                                                            std, 100 * drawn))
    return rgb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("file")
    ap.add_argument("workdir")
    ap.add_argument("--times", type=float, nargs="+", required=True)
    ap.add_argument("--flat", help="an output with one cell along z")
    ap.add_argument("--notumor", help="an output without tumor (output.fields): slices alone")
    ap.add_argument("--novars", help="an output with no field (output.fields = none)")
    ap.add_argument("--checkpoint", help="a checkpoint (NAME.chk.nc)")
    a = ap.parse_args()
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.pop("TF_RENDER_UNDER_XVFB", None)
    env.pop("HDF5_USE_FILE_LOCKING", None)
    shutil.rmtree(a.workdir, ignore_errors=True)
    base = os.path.splitext(os.path.basename(a.file))[0]
    name = lambda t: "%s_t%07dmin.png" % (base, int(round(t)))  # noqa: E731

    out = os.path.join(a.workdir, "all")
    rc, log = run(a.tool, [a.file, "--times", "all", "--size", "400x300", "--outdir", out], env)
    print(log)
    if check(rc == 0, "tf_render --times all exited %d:\n%s" % (rc, log)):
        got = sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "*.png")))
        want = sorted(name(t) for t in a.times)
        check(got == want, "--times all made %s, expected %s" % (got, want))
        imgs = [check_image(os.path.join(out, f), (400, 300)) for f in want if f in got]
        if len(imgs) >= 2 and imgs[0] is not None and imgs[-1] is not None:
            check(not np.array_equal(imgs[0], imgs[-1]),
                  "the first and last records render to identical images (title time missing?)")

    if a.notumor:
        out = os.path.join(a.workdir, "notumor")
        rc, log = run(a.tool, [a.notumor, "--times", "last", "--size", "320x240", "--outdir", out],
                      env)
        if check(rc == 0, "tf_render on a file without tumor exited %d:\n%s" % (rc, log)):
            check("tumor is not in the file" in log, "no note about the missing tumor:\n%s" % log)
            pngs = glob.glob(os.path.join(out, "*.png"))
            check(len(pngs) == 1, "tf_render on a file without tumor made %s" % pngs)
            if pngs:
                check_image(pngs[0], (320, 240))

    out = os.path.join(a.workdir, "last")
    rc, log = run(a.tool, [a.file, "--times", "last", "--size", "320x240", "--outdir", out], env)
    if check(rc == 0, "tf_render --times last exited %d:\n%s" % (rc, log)):
        got = sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "*.png")))
        check(got == [name(a.times[-1])], "--times last made %s, expected %s"
              % (got, [name(a.times[-1])]))
        if got:
            check_image(os.path.join(out, got[0]), (320, 240))

    # Choosing records, without ParaView: tf_render imports paraview only to draw.
    sys.path.insert(0, os.path.dirname(os.path.abspath(a.tool)))
    sys.dont_write_bytecode = True          # no __pycache__ in the source tree
    import tf_render
    recs = list(a.times)
    check(tf_render.parse_times("0, 1h,1.5d ,90min") == [0.0, 60.0, 2160.0, 90.0],
          "parse_times('0, 1h,1.5d ,90min') is %s" % tf_render.parse_times("0, 1h,1.5d ,90min"))
    check(tf_render.choose_records(recs, "last") == recs[-1:], "choose_records last")
    check(tf_render.choose_records(recs, "all") == recs, "choose_records all")
    if len(recs) >= 2:
        near = [recs[1] + 0.2 * (recs[1] - recs[0]), recs[0], recs[1]]
        check(tf_render.choose_records(recs, near) == [recs[1], recs[0]],
              "choose_records(%s) is %s, expected %s" % (near, tf_render.choose_records(recs, near),
                                                         [recs[1], recs[0]]))
        try:
            tf_render.choose_records(recs, [recs[-1] + 0.75 * (recs[-1] - recs[-2])])
            check(False, "choose_records took a time far after the last record")
        except tf_render.UsageError as e:
            check("no record near" in str(e), "choose_records message: %s" % e)
    check(tf_render.image_names("r", [0.0, 1440.0]) == ["r_t0000000min.png", "r_t0001440min.png"],
          "image_names of whole minutes: %s" % tf_render.image_names("r", [0.0, 1440.0]))
    sub = tf_render.image_names("r", [0.0, 0.5, 1.0])
    check(len(set(sub)) == 3 and sub[1] == "r_t0000000.500min.png",
          "image_names of records 0.5 min apart: %s" % sub)
    close = tf_render.image_names("r", [0.0, 0.0002, 0.0004])
    check(len(set(close)) == 3 and close[1] == "r_t0000000.000min_r00001.png",
          "image_names of records 0.0002 min apart: %s" % close)
    # The note when no isosurface exists at the level: T below it everywhere, or above it (a
    # tumor that fills the box drew an empty picture without a word).
    check(tf_render.iso_note(0.0, 0.3, 0.5).startswith("no tumor isosurface: T < 0.5"),
          "iso_note below: %s" % tf_render.iso_note(0.0, 0.3, 0.5))
    check(tf_render.iso_note(0.39, 0.42, 0.05).startswith("no tumor isosurface: T > 0.05"),
          "iso_note above: %s" % tf_render.iso_note(0.39, 0.42, 0.05))
    check(tf_render.iso_note(0.0, 0.8, 0.5) is None, "iso_note inside the range")
    check(tf_render.flat_axes((0, 11, 0, 9, 0, 0)) == ["z"] and
          tf_render.flat_axes((0, 11, 0, 9, 0, 7)) == [], "flat_axes")

    bad = os.path.join(a.workdir, "bad")
    for args, expect in (
            ([a.file + ".missing"], "no such file"),
            ([os.path.dirname(os.path.abspath(a.file))], "is a directory"),
            ([a.file[:-len(".nc")] + ".timeseries.csv"], "is not a NetCDF file"),
            ([a.file, "--size", "400by300"], "WIDTHxHEIGHT"),
            ([a.file, "--times", "soon"], "list of times")) + (
            (([a.flat], "has one cell along z"),) if a.flat else ()) + (
            (([a.checkpoint], "is a checkpoint (one state, no time records)"),)
            if a.checkpoint else ()) + (
            (([a.novars], "has none of the fields tf_render draws"),) if a.novars else ()):
        rc, log = run(a.tool, args + ["--outdir", bad], env)
        check(rc == 2, "tf_render %s exited %d, expected 2:\n%s" % (" ".join(args), rc, log))
        check(expect in log, "tf_render %s: message does not say %r:\n%s"
              % (" ".join(args), expect, log))
        check(not glob.glob(os.path.join(bad, "*.png")), "tf_render %s wrote an image" % args)

    # A field with no finite value (a damaged or foreign file; tumorfield never writes one):
    # refused, naming the field (it read "no tumor isosurface: T < 0.5 everywhere (max -1e+38)")
    import netCDF4
    nan_file = os.path.join(a.workdir, "nan.nc")
    shutil.copyfile(a.file, nan_file)
    with netCDF4.Dataset(nan_file, "a") as d:
        d["tumor"][:] = np.nan
    rc, log = run(a.tool, [nan_file, "--outdir", bad], env)
    check(rc == 2 and "field 'tumor' has no finite value at t = " in log,
          "tf_render on an all-NaN tumor exited %d:\n%s" % (rc, log))
    check(not glob.glob(os.path.join(bad, "*.png")), "tf_render on an all-NaN tumor wrote an image")

    # Files the NetCDF library cannot open: cut short, and held by a writer (HDF5 takes an
    # exclusive flock on a file it writes, as a running tumorfield does); each with netCDF4 and
    # without it (a netCDF4 module that fails to import), when ParaView's reader opens it first.
    with open(a.file, "rb") as fh:
        data = fh.read()
    cut, held = os.path.join(a.workdir, "cut.nc"), os.path.join(a.workdir, "held.nc")
    with open(cut, "wb") as fh:
        fh.write(data[:len(data) // 2])
    shutil.copyfile(a.file, held)
    no_nc4 = os.path.join(a.workdir, "no_netcdf4")
    os.makedirs(no_nc4)
    with open(os.path.join(no_nc4, "netCDF4.py"), "w") as fh:
        fh.write("raise ImportError('netCDF4 hidden by test_render.py')\n")
    with open(held, "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for path, expect in ((cut, "damaged or incomplete"), (held, "HDF5_USE_FILE_LOCKING=FALSE")):
            for how, extra in (("", {}), (" without netCDF4", {"PYTHONPATH": no_nc4})):
                what = "tf_render %s%s" % (os.path.basename(path), how)
                rc, log = run(a.tool, [path, "--outdir", bad], dict(env, **extra))
                check(rc == 2, "%s exited %d, expected 2:\n%s" % (what, rc, log))
                for w in ("'%s': cannot read it as NetCDF" % path, expect):
                    check(w in log, "%s: message does not say %r:\n%s" % (what, w, log))
                check(one_line(log), "%s: not one 'tf_render: error:' line:\n%s" % (what, log))
                check(not glob.glob(os.path.join(bad, "*.png")), "%s wrote an image" % what)
        # The advice works: without HDF5's lock the held file reads.
        out = os.path.join(a.workdir, "unlocked")
        rc, log = run(a.tool, [held, "--times", "last", "--size", "320x240", "--outdir", out],
                      dict(env, HDF5_USE_FILE_LOCKING="FALSE"))
        check(rc == 0 and len(glob.glob(os.path.join(out, "*.png"))) == 1,
              "tf_render of a held file with HDF5_USE_FILE_LOCKING=FALSE exited %d:\n%s"
              % (rc, log))

    # --outdir that cannot be a directory: one line, exit 2 (no traceback).
    afile = os.path.join(a.workdir, "afile")
    open(afile, "w").close()
    for outdir, expect in ((afile, "is a file, not a directory"),
                           (os.path.join(afile, "sub"), "is a file, not a directory"),
                           ("/proc/tf_render_img", "cannot create --outdir '/proc/tf_render_img'")):
        if outdir.startswith("/proc") and not os.path.isdir("/proc"):
            continue
        rc, log = run(a.tool, [a.file, "--times", "last", "--outdir", outdir], env)
        what = "tf_render --outdir %s" % outdir
        check(rc == 2, "%s exited %d, expected 2:\n%s" % (what, rc, log))
        check(expect in log, "%s: message does not say %r:\n%s" % (what, expect, log))
        check(one_line(log), "%s: not one 'tf_render: error:' line:\n%s" % (what, log))

    return report("tf_render.py made the requested images")


if __name__ == "__main__":
    sys.exit(main())
