#!/usr/bin/python3
"""tf_render.py: standard ParaView pictures of a TumorField output file (NAME.nc).

    tf_render.py FILE.nc [--times all|last|LIST] [--outdir DIR] [--size WxH] [--iso T]

One PNG per chosen output record, named NAME_tNNNNNNNmin.png (the record time in minutes; with
three decimals, NAME_tNNNNNNN.NNNmin.png, where records lie less than a minute apart):
the tumor as an isosurface at T = 0.5 (--iso; light blue, partly transparent; a note in the image
says when there is none at that level: T below it everywhere, or above it; without `tumor` in
the file, the slices alone), effector cells on the horizontal
slice through the domain centre, the pro-inflammatory cytokine on the vertical slice through the
centre, the domain outline, colour legends with the units from the file, and a title with the
time in days. Colour ranges are fixed over all chosen records, so a series of images compares.

LIST is a comma-separated list of record times, each a number with an optional unit (min, h, d;
default min), e.g. "0,1d,2.5d"; each picks the nearest record in the file.

Runs under ParaView's Python: `pvbatch tf_render.py ...`, or directly (it uses the system
python3, where Debian's python3-paraview installs the paraview module). Rendering needs an X
display; without DISPLAY the script runs itself again under a private Xvfb server (Debian
packages xvfb and xauth) on a display Xvfb picks, so several renders can run side by side.
The file is read with ParaView's NetCDF CF reader (vtkNetCDFCFReader), as in docs/visualisation.md.
A file the NetCDF library cannot open (cut short, damaged) is an error; where a running
tumorfield holds it (HDF5's file lock), the message says to set HDF5_USE_FILE_LOCKING=FALSE to
read the records written so far (docs/output.md).

Exit status: 0 images written; 2 bad command line (also an --outdir that is a file or cannot be
created), unreadable file or no such record; 1 other failure.
"""
import argparse
import math
import os
import re
import secrets
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile

FIELD_UNITS = {  # CONTRACT.md; used when the file's own units cannot be read
    "tumor": "1", "effector": "1", "suppressor": "1", "pro_cytokine": "pg/mL",
    "anti_cytokine": "pg/mL", "cortisol": "nmol/L", "vessel": "1",
}
ISO_FIELD = "tumor"
SLICE_FIELDS = ("effector", "pro_cytokine")   # horizontal (z normal), vertical (y normal)
UNIT_FACTOR = {"min": 1.0, "h": 60.0, "d": 1440.0}


class MissingModule(Exception):
    """A Python module this tool needs is not there: exit status 1, with what to do."""


class UsageError(Exception):
    """A problem with the command line or the input file: exit status 2."""


def parse_size(text):
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or not (16 <= int(m.group(1)) <= 8192 and 16 <= int(m.group(2)) <= 8192):
        raise argparse.ArgumentTypeError("expected WIDTHxHEIGHT in pixels, each 16..8192, e.g. "
                                         "1280x960; got %r" % text)
    return int(m.group(1)), int(m.group(2))


def parse_times(text):
    """'all', 'last' or a list of times in minutes; returns the keyword or a list of floats."""
    text = text.strip()
    if text in ("all", "last"):
        return text
    out = []
    for item in text.split(","):
        m = re.fullmatch(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(min|h|d)?\s*", item)
        if not m:
            raise argparse.ArgumentTypeError(
                "expected all, last, or a comma-separated list of times such as 0,12h,1.5d "
                "(units min, h, d; default min); got %r" % item)
        out.append(float(m.group(1)) * UNIT_FACTOR[m.group(2) or "min"])
    return out


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="tf_render.py", description=__doc__.split("\n\n")[0].split(": ", 1)[1],
        epilog="Example: tf_render.py output/quick_demo.nc --times last --outdir images")
    ap.add_argument("file", help="TumorField output NAME.nc")
    ap.add_argument("--times", type=parse_times, default="all",
                    help="records to draw: all (default), last, or a list such as 0,1d,2d")
    ap.add_argument("--outdir", default=".",
                    help="directory for the PNG files (created; default: the current "
                         "directory); images of the same names there are replaced")
    ap.add_argument("--size", type=parse_size, default=(1280, 960), metavar="WxH",
                    help="image size in pixels (default 1280x960)")
    ap.add_argument("--iso", type=float, default=0.5, metavar="T",
                    help="tumor volume fraction of the isosurface (default 0.5)")
    a = ap.parse_args(argv)
    if not 0.0 < a.iso < 1.0:
        ap.error("--iso must lie strictly between 0 and 1 (a tumor volume fraction), got %g"
                 % a.iso)
    return a


def x_display_answers(display, cookie):
    """True when the X server of `display` accepts a connection with this MIT cookie (the X11
    connection setup handshake over its unix socket)."""
    name, data = b"MIT-MAGIC-COOKIE-1", bytes.fromhex(cookie)
    pad = lambda b: b + b"\0" * (-len(b) % 4)  # noqa: E731
    req = struct.pack("<BxHHHHxx", 0x6C, 11, 0, len(name), len(data)) + pad(name) + pad(data)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as so:
            so.settimeout(10)
            so.connect("/tmp/.X11-unix/X%d" % display)
            so.sendall(req)
            return so.recv(1) == b"\x01"
    except OSError:
        return False


def start_xvfb(tmp):
    """Start a private Xvfb on a free display (Xvfb -displayfd picks it, so parallel renders do
    not collide as `xvfb-run -a` can), with its own cookie. Returns (process, env additions)."""
    cookie = secrets.token_hex(16)
    server_auth, client_auth = os.path.join(tmp, "server.auth"), os.path.join(tmp, "client.auth")
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    subprocess.run(["xauth", "-f", server_auth, "add", ":0", "MIT-MAGIC-COOKIE-1", cookie], **quiet)
    for _ in range(5):
        rfd, wfd = os.pipe()
        # -noreset: the probe below is the first client; a reset after it would redo the socket.
        proc = subprocess.Popen(["Xvfb", "-displayfd", str(wfd), "-screen", "0", "1920x1080x24",
                                 "-nolisten", "tcp", "-noreset", "-auth", server_auth],
                                pass_fds=(wfd,), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(wfd)
        text = b""
        while not text.endswith(b"\n") and select.select([rfd], [], [], 30)[0]:
            chunk = os.read(rfd, 64)
            if not chunk:
                break
            text += chunk
        os.close(rfd)
        if text.strip().isdigit() and x_display_answers(int(text), cookie):
            display = ":" + text.decode().strip()
            subprocess.run(["xauth", "-f", client_auth, "add", display, "MIT-MAGIC-COOKIE-1",
                            cookie], **quiet)
            return proc, {"DISPLAY": display, "XAUTHORITY": client_auth}
        proc.terminate()
        proc.wait()
    raise RuntimeError("could not start a working Xvfb X server (tried 5 times)")


def run_with_display(argv):
    """Without an X display, run this script again under a private Xvfb and return its exit
    status; None when a display is there (render in this process)."""
    if os.environ.get("DISPLAY") or os.environ.get("TF_RENDER_UNDER_XVFB"):
        return None
    interp = sys.executable
    if not os.path.basename(interp).startswith("python"):
        interp = "/usr/bin/python3"    # inside pvbatch (vtkpython): the python that has paraview
    child = [interp, os.path.abspath(__file__)] + list(argv)
    env = dict(os.environ, TF_RENDER_UNDER_XVFB="1")
    if not (shutil.which("Xvfb") and shutil.which("xauth")):
        raise UsageError("no X display (DISPLAY is unset) and no Xvfb: install the Debian "
                         "packages xvfb and xauth, or run under an X server")
    with tempfile.TemporaryDirectory(prefix="tf_render_x.") as tmp:
        proc, extra = start_xvfb(tmp)
        try:
            rc = subprocess.call(child, env=dict(env, **extra))
            return rc if rc >= 0 else 1      # killed by a signal (a crash in ParaView)
        finally:
            proc.terminate()
            proc.wait()


def held_by_writer(path):
    """Whether another process holds an exclusive flock on path, as HDF5 does on a file it
    writes (a running tumorfield), so that a reader that locks too cannot open it."""
    if os.environ.get("HDF5_USE_FILE_LOCKING", "").upper() == "FALSE":
        return False             # the reader does not lock: the lock is not what stops it
    try:
        import fcntl
        with open(path, "rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)   # released when fh closes
    except BlockingIOError:
        return True
    except (ImportError, OSError):
        pass
    return False


def unreadable(path, why):
    """The UsageError for a NetCDF file that the library cannot open."""
    if held_by_writer(path):
        return UsageError("'%s': cannot read it as NetCDF (%s): a running tumorfield (or another "
                          "program) is writing it and holds its HDF5 file lock; to draw the "
                          "records written so far, run with HDF5_USE_FILE_LOCKING=FALSE in the "
                          "environment (docs/output.md)" % (path, why))
    return UsageError("'%s': cannot read it as NetCDF (%s): the file is damaged or incomplete "
                      "(cut short by a copy or a full disk?)" % (path, why))


def open_dataset(path):
    """netCDF4.Dataset(path) (ImportError without netCDF4); a UsageError when it cannot be
    opened."""
    import netCDF4
    try:
        return netCDF4.Dataset(path)
    except OSError as e:
        raise unreadable(path, e.strerror or e)


def check_netcdf(path):
    """The file exists, starts as a NetCDF file does (classic CDF or netCDF-4/HDF5) and, where
    netCDF4 is there, opens (before an X server is started for it)."""
    if os.path.isdir(path):
        raise UsageError("%s is a directory: give the run's NAME.nc file" % path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise UsageError("cannot read %s: no such file" % path)
    except OSError as e:
        raise UsageError("cannot read %s: %s" % (path, e.strerror or e))
    if not (head[:3] == b"CDF" or head == b"\x89HDF\r\n\x1a\n"):
        raise UsageError("%s is not a NetCDF file: give the run's NAME.nc (the time series "
                         "NAME.timeseries.csv goes to tf_plot.py)" % path)
    try:
        open_dataset(path).close()
    except ImportError:
        pass


def check_outdir(outdir):
    """--outdir is a directory or can be made one (as far as can be told without making it)."""
    if os.path.exists(outdir):
        if not os.path.isdir(outdir):
            raise UsageError("--outdir '%s' is a file, not a directory: give a directory for the "
                             "images" % outdir)
        if not os.access(outdir, os.W_OK | os.X_OK):
            raise UsageError("--outdir '%s': cannot write there (permission denied)" % outdir)
        return
    parent = os.path.dirname(os.path.abspath(outdir))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise UsageError("cannot create --outdir '%s': %s is a file, not a directory"
                         % (outdir, parent))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError("cannot create --outdir '%s': cannot write into %s (permission denied)"
                         % (outdir, parent))


def make_outdir(outdir):
    check_outdir(outdir)
    try:
        os.makedirs(outdir, exist_ok=True)
    except OSError as e:
        raise UsageError("cannot create --outdir '%s': %s" % (outdir, e.strerror or e))


def file_units(path):
    """Units and long names of the variables, from the file (netCDF4) or the contract."""
    units = dict(FIELD_UNITS)
    try:
        with open_dataset(path) as ds:
            for name, var in ds.variables.items():
                if hasattr(var, "units"):
                    units[name] = str(var.units)
    except ImportError:
        pass
    return units


def legend_title(name, units):
    u = units.get(name, "")
    return "%s (%s)" % (name.replace("_", " "), "volume fraction" if u in ("1", "") else u)


def iso_note(tmin, tmax, iso):
    """What the image says when the isosurface at T = iso cannot be drawn (None when it can)."""
    if tmax < iso:
        return "no tumor isosurface: T < %g everywhere (max %.3g); try a smaller --iso" % (iso, tmax)
    if tmin > iso:
        return ("no tumor isosurface: T > %g everywhere (min %.3g: the tumor fills the box); "
                "try a larger --iso" % (iso, tmin))
    return None


def is_checkpoint(path):
    """Whether path is a TumorField checkpoint (global attribute tumorfield_checkpoint)."""
    try:
        import netCDF4
        with netCDF4.Dataset(path) as ds:
            return "tumorfield_checkpoint" in ds.ncattrs()
    except (ImportError, OSError):
        return False


def choose_records(available, wanted, path="the file"):
    if not available:
        if path != "the file" and is_checkpoint(path):
            raise UsageError("%s is a checkpoint (one state, no time records): render the run's "
                             "output NAME.nc beside it" % path)
        raise UsageError("%s has no time records" % path)
    if wanted == "all":
        return list(available)
    if wanted == "last":
        return [available[-1]]
    chosen = []
    for t in wanted:
        best = min(available, key=lambda a: abs(a - t))
        step = min((b - a for a, b in zip(available, available[1:])), default=0.0)
        if abs(best - t) > max(0.5 * step, 1e-6 * max(1.0, abs(t))) and len(available) > 1:
            raise UsageError("no record near t = %g min: the file has records at %s min"
                             % (t, ", ".join("%g" % a for a in available)))
        if best not in chosen:
            chosen.append(best)
    return chosen


def image_names(base, records):
    """PNG names of the records: BASE_t0001440min.png (whole minutes), or with three decimals
    (BASE_t0000000.500min.png) for all of them when whole minutes would not tell two apart, and
    with the record's index as well (BASE_t0000000.000min_r00001.png) when three decimals would
    not."""
    whole = ["%s_t%07dmin.png" % (base, int(round(t))) for t in records]
    if len(set(whole)) == len(whole) and all(abs(t - round(t)) < 1e-6 for t in records):
        return whole
    fine = ["%s_t%011.3fmin.png" % (base, t) for t in records]
    if len(set(fine)) == len(fine):
        return fine
    # Closer than a thousandth of a minute (explicit runs that record every step): the record's
    # place in the file tells them apart.
    return ["%s_t%011.3fmin_r%05d.png" % (base, t, i) for i, t in enumerate(records)]


def flat_axes(extent):
    """The axes (x, y, z) along which an image extent holds one point."""
    return [a for a, lo, hi in zip("xyz", extent[0::2], extent[1::2]) if hi <= lo]


def render(args):
    path = os.path.abspath(args.file)
    if not os.path.isfile(path):
        raise UsageError("cannot read %s: no such file" % args.file)
    units = file_units(path)

    try:
        from paraview.simple import (NetCDFReader, Contour, Slice, Outline, Text, Show,
                                     CreateView, ColorBy, GetColorTransferFunction,
                                     GetOpacityTransferFunction, GetScalarBar, Render,
                                     SaveScreenshot, Delete)
    except ImportError:
        raise MissingModule("no ParaView (paraview.simple) for %s: run the tool with "
                            "/usr/bin/python3 or pvbatch (Debian's python3-paraview; "
                            "scripts/install-deps)" % sys.executable)

    try:   # the library ParaView's reader opens the file with, asked before it spews errors
        from vtkmodules.vtkIONetCDF import vtkNetCDFCFReader
        if not vtkNetCDFCFReader().CanReadFile(path):
            raise unreadable(args.file, "ParaView's NetCDF reader cannot open it")
    except ImportError:
        pass
    reader = NetCDFReader(FileName=[path])
    reader.Dimensions = "(z, y, x)"    # the 3D fields; the CF reader picks one dimension set
    reader.OutputType = "Image"
    reader.SphericalCoordinates = 0
    reader.ReplaceFillValueWithNan = 1
    reader.UpdatePipelineInformation()
    info = reader.GetPropertyValue("VariableArrayInfo")
    offered = [info] if isinstance(info, str) else list(info or [])
    has_tumor = ISO_FIELD in offered
    if not has_tumor and not any(f in offered for f in SLICE_FIELDS):
        names = [v for v in offered if v not in ("0", "1")]
        raise UsageError("%s has none of the fields tf_render draws (%s; output.fields): it "
                         "offers %s" % (args.file, ", ".join((ISO_FIELD,) + SLICE_FIELDS),
                                        ", ".join(names) or "no (z, y, x) variable"))
    if not has_tumor:
        print("tf_render: tumor is not in the file (output.fields): no isosurface, slices only")
    times = [float(t) for t in reader.TimestepValues]
    reader.UpdatePipeline(times[0] if times else 0.0)
    flat = flat_axes(reader.GetDataInformation().GetExtent())
    if flat:
        raise UsageError(
            "%s has one cell along %s: ParaView's NetCDF CF reader cannot place a one-cell axis "
            "(it takes the spacing as (last - first) / (n - 1) = 0/0), so there is nothing to "
            "draw. Run with at least 2 cells along every axis (e.g. grid.n = 64 64 2), or plot "
            "the fields with Python (netCDF4, docs/visualisation.md)" % (args.file, " and ".join(flat)))
    records = choose_records(times, args.times, args.file)
    slices = [f for f in SLICE_FIELDS if f in offered]
    for f in SLICE_FIELDS:
        if f not in offered:
            print("tf_render: %s is not in the file (output.fields); its slice is left out" % f)

    # Colour ranges over all chosen records, so the images of a series compare.
    ranges = {f: [math.inf, -math.inf] for f in slices}
    tumor_range = {}
    for t in records:
        reader.UpdatePipeline(t)
        for f in ([ISO_FIELD] if has_tumor else []) + list(slices):
            lo, hi = reader.PointData[f].GetRange()
            # VTK gives an inverted range (+1e38, -1e38) where no value is finite
            if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
                raise UsageError("%s: field '%s' has no finite value at t = %g min: a damaged "
                                 "file, or not one TumorField wrote (its runs stop with exit "
                                 "status 3 before a bad state reaches the output)"
                                 % (args.file, f, t))
            if f == ISO_FIELD:
                tumor_range[t] = (lo, hi)
            if f in slices:
                ranges[f] = [min(ranges[f][0], lo), max(ranges[f][1], hi)]
    bounds = reader.GetDataInformation().GetBounds()
    centre = [(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2, (bounds[4] + bounds[5]) / 2]

    view = CreateView("RenderView")
    view.ViewSize = list(args.size)
    view.OrientationAxesVisibility = 1
    view.Background = [1.0, 1.0, 1.0]
    try:
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass

    outline = Outline(Input=reader)
    od = Show(outline, view)
    od.DiffuseColor = od.AmbientColor = [0.3, 0.3, 0.3]

    if has_tumor:
        iso = Contour(Input=reader, ContourBy=["POINTS", ISO_FIELD], Isosurfaces=[args.iso])
        iso.ComputeScalars = 0
        isod = Show(iso, view)
        isod.ColorArrayName = ["POINTS", ""]
        isod.DiffuseColor = isod.AmbientColor = [0.55, 0.75, 0.95]
        isod.Specular = 0.3
        isod.Opacity = 0.7

    bar_pos = [[0.89, 0.08], [0.02, 0.08]]
    for n, f in enumerate(slices):
        sl = Slice(Input=reader)
        sl.SliceType = "Plane"
        sl.SliceType.Origin = centre
        sl.SliceType.Normal = [0.0, 0.0, 1.0] if n == 0 else [0.0, 1.0, 0.0]
        sd = Show(sl, view)
        ColorBy(sd, ("POINTS", f))
        # Unlit: a colour-coded slice must show its legend's colours whatever its angle to the
        # light (lit, the vertical slice came out at about half brightness).
        sd.Ambient = 1.0
        sd.Diffuse = 0.0
        lut = GetColorTransferFunction(f)
        # Maps whose top end is not white: on the white background a slice near the top of its
        # range vanished under black-body (whose top is white).
        lut.ApplyPreset("Viridis (matplotlib)" if n == 0 else "Plasma (matplotlib)", True)
        lo, hi = ranges[f]
        if not hi > lo:
            hi = lo + max(abs(lo) * 1e-3, 1e-12)
        lut.AutomaticRescaleRangeMode = "Never"
        lut.RescaleTransferFunction(lo, hi)
        GetOpacityTransferFunction(f).RescaleTransferFunction(lo, hi)
        bar = GetScalarBar(lut, view)
        bar.Title = legend_title(f, units)
        bar.ComponentTitle = ""
        bar.TitleColor = bar.LabelColor = [0.1, 0.1, 0.1]
        bar.TitleFontSize = bar.LabelFontSize = 14
        bar.RangeLabelFormat = "%-#.3g"
        bar.WindowLocation = "Any Location"
        bar.Orientation = "Vertical"
        bar.Position = bar_pos[n]
        bar.ScalarBarLength = 0.5
        bar.Visibility = 1
        sd.SetScalarBarVisibility(view, True)

    title = Text()
    td = Show(title, view)
    td.WindowLocation = "Upper Center"
    td.FontSize = 18
    td.Color = [0.1, 0.1, 0.1]
    legend = ("tumor: isosurface T = %g" % args.iso if has_tumor
              else "tumor: not in the file (output.fields)")
    legend += "".join(";  %s: %s slice" % (f.replace("_", " "), where)
                      for f, where in zip(slices, ("horizontal", "vertical")))
    note = Text()
    nd = Show(note, view)
    nd.WindowLocation = "Lower Center"
    nd.FontSize = 12
    nd.Color = [0.2, 0.2, 0.2]

    view.CameraFocalPoint = centre
    view.CameraPosition = [centre[0] + 1.0, centre[1] - 1.6, centre[2] + 1.1]
    view.CameraViewUp = [0.0, 0.0, 1.0]
    view.ResetCamera()
    Render(view)
    # ResetCamera leaves room for any orientation; come 8% closer to fill the frame.
    view.CameraPosition = [c + (p - c) / 1.08 for p, c in zip(view.CameraPosition, centre)]

    make_outdir(args.outdir)
    base = os.path.splitext(os.path.basename(path))[0]
    written = []
    for t, name in zip(records, image_names(base, records)):
        view.ViewTime = t
        title.Text = "%s   day %.2f  (t = %g min)" % (base, t / 1440.0, t)
        note.Text = legend
        if has_tumor:
            title.Text += "   max T = %.3g" % tumor_range[t][1]
            missing = iso_note(tumor_range[t][0], tumor_range[t][1], args.iso)
            if missing:
                note.Text += "\n(%s)" % missing
                print("tf_render: t = %g min: %s" % (t, missing))
        Render(view)
        out = os.path.join(args.outdir, name)
        SaveScreenshot(out, view, ImageResolution=list(args.size), TransparentBackground=0)
        written.append(out)
        print("tf_render: wrote %s" % out)
    # Release the view's OpenGL context before Python exits: under pvbatch, sys.exit with the
    # view still alive ends in "X Error: GLXBadContext" and exit status 1.
    Delete(view)
    return written


def main(argv):
    try:
        args = parse_args(argv)
    except SystemExit as e:      # argparse: 0 for --help, 2 for a bad command line
        return e.code
    try:
        check_netcdf(args.file)
        check_outdir(args.outdir)
        rc = run_with_display(argv)
        if rc is not None:
            return rc
        render(args)
    except UsageError as e:
        print("tf_render: error: %s" % e, file=sys.stderr)
        return 2
    except MissingModule as e:
        print("tf_render: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
