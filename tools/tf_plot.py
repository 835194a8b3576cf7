#!/usr/bin/python3
"""tf_plot.py: time-series plots of TumorField runs (NAME.timeseries.csv), one or many overlaid.

    tf_plot.py CSV [CSV ...] -o OUT.png [--columns COL[,COL...] ...] [--labels LABEL ...]
    tf_plot.py CSV [CSV ...] -o OUT.png --final X [--columns Y] [--labels LABEL ...]

Time series (default): one panel per column group against time in days, every run overlaid in
its own colour, the columns of a group told apart by line style. Default panels: tumor volume;
pro- and anti-inflammatory cytokine in the tumor; cortisol (tumor mean and blood C_b); the
exercise drivers x, z, L and M_E. --columns replaces them: each argument is a panel, its
comma-separated columns share it, e.g. --columns tumor_volume_mm3 mean_effector_in_tumor,D.

--final X: one point per run, the final value of Y (default tumor_volume_mm3) against X, where
X is a column (its final value, e.g. L for the training load or D for the depression) or the
word "label" (the --labels, read as numbers). Points are joined in order of X, so a sweep over
exercise intensity shows the J-curve.

A column is named exactly, or by its name without the unit suffix (mean_cortisol_in_tumor finds
mean_cortisol_in_tumor_nmol_L). Labels default to the file names without
.timeseries.csv. Uses matplotlib with the Agg backend (no display needed).

-o names the figure file; its extension picks the format (png, pdf, svg, eps, jpg, tif, webp
...: matplotlib's list). A name without an extension gets .png added, and the message names the
file written. A directory is refused: give a file name in it.

Exit status: 0 figure written; 2 bad command line or input (missing file or column, no rows,
a value that is not a finite number: tumorfield writes no nan or inf; an -o that is a
directory or has an unsupported extension); 1 other failure.
"""
import argparse
import csv
import math
import os
import sys

plt = Line2D = None   # matplotlib (Agg), imported once the input has been read


class MissingModule(Exception):
    """A Python module this tool needs is not there: exit status 1, with what to do."""


def load_matplotlib():
    global plt, Line2D
    try:
        import matplotlib
    except ImportError:
        raise MissingModule("no matplotlib for %s: run the tool with /usr/bin/python3 (Debian's "
                            "python3-matplotlib; scripts/install-deps), or install matplotlib "
                            "into this Python" % sys.executable)
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    from matplotlib.lines import Line2D as line
    plt, Line2D = pyplot, line

# (title, [(column, legend name)], y label, [(column, legend name)] on a right axis, its label)
DEFAULT_PANELS = [
    ("Tumor volume", [("tumor_volume_mm3", "tumor volume")], "mm$^3$", [], ""),
    ("Cytokines in the tumor", [("mean_pro_cytokine_in_tumor", "pro-inflammatory"),
                                ("mean_anti_cytokine_in_tumor", "anti-inflammatory")],
     "pg/mL (tumor mean)", [], ""),
    ("Cortisol", [("mean_cortisol_in_tumor", "tumor mean"), ("C_b", "blood C_b")], "nmol/L",
     [], ""),
    ("Exercise drivers", [("x", "x acute signal"), ("z", "z open window"),
                          ("M_E", "M_E mobilisation")], "x, z, M_E (-)",
     [("L", "L training load")], "L (intensity-h/week)"),
]
TIME_COLUMN = "time_d"
# Axis labels with units of the time-series columns (docs/output.md).
COLUMN_LABELS = {
    "time_min": "time (min)", "time_d": "time (days)",
    "tumor_volume_mm3": "tumor volume (mm$^3$)",
    "mean_tumor_in_tumor": "tumor fraction, tumor-weighted mean (-)",
    "mean_effector_in_tumor": "effector density, tumor-weighted mean (-)",
    "mean_suppressor_in_tumor": "suppressor density, tumor-weighted mean (-)",
    "mean_pro_cytokine_in_tumor_pg_mL": "pro-inflammatory cytokine in the tumor (pg/mL)",
    "mean_anti_cytokine_in_tumor_pg_mL": "anti-inflammatory cytokine in the tumor (pg/mL)",
    "mean_cortisol_in_tumor_nmol_L": "cortisol in the tumor (nmol/L)",
    "effector_infiltration": "effector infiltration (-)",
    "x": "acute exercise signal x (fraction of VO$_2$max)",
    "z": "post-exercise suppression z (-)",
    "L": "training load L (intensity-h/week)",
    "I": "scheduled intensity I (fraction of VO$_2$max)",
    "B": "training benefit B (-)", "O": "over-training O (-)",
    "D": "effective depression D (-)", "C_b": "blood cortisol C$_b$ (nmol/L)",
    "M_E": "effector mobilisation M$_E$ (-)", "A_b": "systemic IL-10 A$_b$ (pg/mL)",
}


def axis_label(column, prefix="final "):
    """`prefix` and the column's name with its unit (the column name where none is known)."""
    return prefix + COLUMN_LABELS.get(column, column)
STYLES = ["-", "--", ":", "-."]
CSV_SUFFIX = ".timeseries.csv"


class InputError(Exception):
    """Bad command line or input file: exit status 2."""


class Run:
    """One time-series CSV: its label, header and numeric columns."""

    def __init__(self, path, label):
        self.path, self.label = path, label
        try:
            with open(path, newline="") as fh:
                rows = list(csv.reader(fh))
        except OSError as e:
            raise InputError("cannot read %s: %s" % (path, e.strerror or e))
        except (UnicodeDecodeError, csv.Error):
            raise InputError("%s is not a text CSV file: give a run's NAME.timeseries.csv (the "
                             "fields in NAME.nc go to tf_render.py or ParaView)" % path)
        rows = [r for r in rows if r and not r[0].lstrip().startswith("#")]
        if not rows:
            raise InputError("%s is empty: expected a header line and data rows" % path)
        self.header = [h.strip() for h in rows[0]]
        body = rows[1:]
        if not body:
            raise InputError("%s has a header but no data rows" % path)
        self.data = {h: [] for h in self.header}
        for lineno, r in enumerate(body, start=2):
            if len(r) != len(self.header):
                raise InputError("%s line %d has %d values, the header has %d columns"
                                 % (path, lineno, len(r), len(self.header)))
            for h, v in zip(self.header, r):
                try:
                    x = float(v)
                except ValueError:
                    raise InputError("%s line %d column %s: %r is not a number"
                                     % (path, lineno, h, v))
                if not math.isfinite(x):
                    raise InputError("%s line %d column %s: %r is not a finite number (a "
                                     "tumorfield run writes no nan or inf)" % (path, lineno, h, v))
                self.data[h].append(x)

    def column(self, name):
        """Values of the column called `name`, or of the one column `name`_<units>."""
        if name in self.data:
            return name, self.data[name]
        matches = [h for h in self.header if h.startswith(name + "_")]
        if len(matches) == 1:
            return matches[0], self.data[matches[0]]
        if len(matches) > 1:
            raise InputError("%s: column name %r is ambiguous: it matches %s"
                             % (self.path, name, ", ".join(matches)))
        raise InputError("%s has no column %r (its columns: %s)"
                         % (self.path, name, ", ".join(self.header)))


def default_label(path):
    base = os.path.basename(path)
    return base[:-len(CSV_SUFFIX)] if base.endswith(CSV_SUFFIX) else os.path.splitext(base)[0]


def output_file(output, fig):
    """The file to write for -o: a name without an extension gets .png; a directory, an
    extension matplotlib cannot write or a missing directory is an InputError."""
    if output.endswith(os.sep) or os.path.isdir(output):
        raise InputError("-o %s is a directory: give a file name, e.g. %s"
                         % (output, os.path.join(output, "figure.png")))
    ext = os.path.splitext(output)[1][1:].lower()
    formats = fig.canvas.get_supported_filetypes()
    if ext and ext not in formats:
        raise InputError("-o %s: cannot write .%s figures; give a file name ending in one of %s"
                         % (output, ext, ", ".join("." + f for f in sorted(formats))))
    out = output if ext else output + ".png"
    outdir = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(outdir):
        raise InputError("cannot write %s: directory %s does not exist" % (out, outdir))
    return out


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="tf_plot.py", description=__doc__.split("\n\n")[0].split(": ", 1)[1],
        epilog="Examples: tf_plot.py output/quick_demo.timeseries.csv -o demo.png;  "
               "tf_plot.py sweep/*.timeseries.csv --labels 0 0.3 0.6 0.9 --final label "
               "-o jcurve.png")
    ap.add_argument("csv", nargs="+", help="time-series CSV files (NAME.timeseries.csv)")
    ap.add_argument("-o", "--output", required=True, help="figure file (PNG, PDF, SVG ...)")
    ap.add_argument("--columns", nargs="+", metavar="COL[,COL]",
                    help="panels to draw instead of the default ones; in --final mode the one "
                         "column for the y axis")
    ap.add_argument("--labels", nargs="+", help="one label per CSV (default: file names)")
    ap.add_argument("--final", metavar="X",
                    help="plot final values against column X or 'label' (J-curve) instead of "
                         "time series")
    ap.add_argument("--title", default="", help="figure title")
    ap.add_argument("--xlabel", default="", help="x axis label of the --final plot")
    ap.add_argument("--dpi", type=int, default=120, help="resolution of raster output (120)")
    a = ap.parse_args(argv)
    if a.labels is not None and len(a.labels) != len(a.csv):
        ap.error("%d labels for %d CSV files: give one label per file"
                 % (len(a.labels), len(a.csv)))
    if a.final is not None and a.columns is not None and len(a.columns) != 1:
        ap.error("--final takes one --columns entry (the y axis), got %d" % len(a.columns))
    if not 10 <= a.dpi <= 1200:
        ap.error("--dpi must be 10..1200, got %d" % a.dpi)
    return a


def plot_series(runs, panels, title):
    ncols = 2 if len(panels) > 1 else 1
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.4 * ncols, 3.8 * nrows), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for n, (ptitle, left, ylabel, right, rlabel) in enumerate(panels):
        ax = axes[n // ncols][n % ncols]
        cols = [(col, name, ax) for col, name in left]
        if right:
            ax2 = ax.twinx()
            ax2.set_ylabel(rlabel)
            cols += [(col, name, ax2) for col, name in right]
        for r, run in enumerate(runs):
            _, t = run.column(TIME_COLUMN)
            for c, (col, _, where) in enumerate(cols):
                _, y = run.column(col)
                where.plot(t, y, STYLES[c % len(STYLES)], color=colours[r % len(colours)],
                           linewidth=1.5)
        # Legend: runs by colour, columns by line style.
        handles, names = [], []
        if len(runs) > 1 or len(cols) == 1:
            for r, run in enumerate(runs):
                handles.append(Line2D([], [], color=colours[r % len(colours)], linewidth=1.5))
                names.append(run.label)
        if len(cols) > 1:
            for c, (_, name, _) in enumerate(cols):
                handles.append(Line2D([], [], color="0.3" if len(runs) > 1 else colours[0],
                                      linestyle=STYLES[c % len(STYLES)], linewidth=1.5))
                names.append(name)
        ax.legend(handles, names, fontsize="small")
        ax.set_title(ptitle)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("time (days)")
        ax.grid(True, alpha=0.3)
    for n in range(len(panels), nrows * ncols):
        axes[n // ncols][n % ncols].set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_final(runs, xname, ycol, title, a_xlabel):
    points = []
    for run in runs:
        yname, y = run.column(ycol)
        if xname == "label":
            try:
                x = float(run.label)
            except ValueError:
                raise InputError("--final label needs numeric labels; %r (for %s) is not a number:"
                                 " give --labels 0 0.3 0.6 ..." % (run.label, run.path))
            xlabel = a_xlabel or "run label"
        else:
            xcol, xs = run.column(xname)
            xlabel = a_xlabel or axis_label(xcol)
            x = xs[-1]
        points.append((x, y[-1], run.label))
    points.sort()
    load_matplotlib()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.plot([p[0] for p in points], [p[1] for p in points], "o-", color="C3", linewidth=1.5)
    for x, y, label in points:
        if xname != "label":
            ax.annotate(label, (x, y), textcoords="offset points", xytext=(4, 6), fontsize="small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(axis_label(yname))
    ax.grid(True, alpha=0.3)
    ax.set_title(title or "%s at the end of %d runs" % (axis_label(yname, ""), len(runs)))
    fig.tight_layout()
    return fig


def main(argv):
    try:
        a = parse_args(argv)
    except SystemExit as e:      # argparse: 0 for --help, 2 for a bad command line
        return e.code
    try:
        labels = a.labels or [default_label(p) for p in a.csv]
        runs = [Run(p, l) for p, l in zip(a.csv, labels)]
        if a.final is not None:
            fig = plot_final(runs, a.final, (a.columns or ["tumor_volume_mm3"])[0], a.title,
                             a.xlabel)
        else:
            if a.columns:
                panels = [(g, [(c.strip(), c.strip()) for c in g.split(",") if c.strip()], "",
                           [], "") for g in a.columns]
            else:
                panels = DEFAULT_PANELS
            for run in runs:   # every column before drawing, so errors come first and clearly
                run.column(TIME_COLUMN)
                for _, left, _, right, _ in panels:
                    for c, _ in left + right:
                        run.column(c)
            load_matplotlib()
            fig = plot_series(runs, panels, a.title)
        out = output_file(a.output, fig)
        fig.savefig(out, dpi=a.dpi)
        plt.close(fig)
    except InputError as e:
        print("tf_plot: error: %s" % e, file=sys.stderr)
        return 2
    except MissingModule as e:
        print("tf_plot: error: %s" % e, file=sys.stderr)
        return 1
    print("tf_plot: wrote %s%s" % (out, " (PNG: -o had no extension)" if out != a.output else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
