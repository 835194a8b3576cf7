#!/usr/bin/python3
"""test_plot.py: tools/tf_plot.py on real time-series CSVs.

    test_plot.py TF_PLOT WORKDIR CSV1 CSV2

Checks (PNG pixels read with matplotlib):
  - two runs overlaid with the default panels, and the same with --labels and --columns: exit 0,
    a PNG that is not blank (over 100 distinct colours, over 3% of the pixels not white), and
    both runs' colours (matplotlib's C0 and C1) drawn;
  - --final D (final tumor volume against the depression column) and --final label: a PNG;
  - bad input exits 2 with a message naming the problem and writes no figure: a CSV without the
    tumor volume column, a --columns name that no CSV has, a missing file, a CSV with no rows,
    a non-numeric value, a nan, inf or -inf (a run writes none), fewer labels than files,
    non-numeric labels with --final label;
  - -o: an extension matplotlib cannot write (.xyz) and an existing directory exit 2 and write
    nothing; a name without an extension writes NAME.png and the message names that file.
"""
import os
import shutil
import sys

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.image import imread

from checks import check, report, run


def has_colour(rgb, colour, tol=0.04):
    return bool(np.any(np.all(np.abs(rgb - np.array(to_rgb(colour))) < tol, axis=2)))


def check_png(path, runs_drawn=2):
    if not check(os.path.isfile(path), "%s was not written" % path):
        return
    rgb = imread(path)[:, :, :3]
    colours = np.unique((rgb * 255).round().astype(np.uint8).reshape(-1, 3), axis=0).shape[0]
    inked = float(np.mean(np.any(rgb < 0.98, axis=2)))
    check(colours > 100, "%s has only %d distinct colours (blank?)" % (path, colours))
    check(inked > 0.03, "%s: only %.1f%% of the pixels are not white" % (path, 100 * inked))
    for c in ["C0", "C1"][:runs_drawn]:
        check(has_colour(rgb, c), "%s: no line in the colour of run %s" % (path, c))
    print("%s: %dx%d, %d colours, %.0f%% inked" % (os.path.basename(path), rgb.shape[1],
                                                  rgb.shape[0], colours, 100 * inked))


def expect_error(tool, args, words, out):
    rc, log = run(tool, args + ["-o", out])
    check(rc == 2, "tf_plot %s exited %d, expected 2:\n%s" % (" ".join(args), rc, log))
    for w in words:
        check(w in log, "tf_plot %s: message does not say %r:\n%s" % (" ".join(args), w, log))
    check(not os.path.exists(out), "tf_plot %s wrote %s despite the error" % (" ".join(args), out))


def main():
    tool, work, csv1, csv2 = sys.argv[1:5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    for name, args in (("overlay.png", [csv1, csv2]),
                       ("labels.png", [csv1, csv2, "--labels", "depressed", "healthy",
                                       "--columns", "tumor_volume_mm3",
                                       "mean_effector_in_tumor,effector_infiltration", "C_b"]),
                       ("final_D.png", [csv1, csv2, "--final", "D"]),
                       ("final_label.png", [csv1, csv2, "--labels", "0.5", "0", "--final", "label",
                                            "--xlabel", "depression D0"])):
        out = os.path.join(work, name)
        rc, log = run(tool, args + ["-o", out])
        print(log.strip())
        if check(rc == 0, "tf_plot %s exited %d:\n%s" % (" ".join(args), rc, log)):
            check_png(out, runs_drawn=0 if name.startswith("final") else 2)

    # Bad inputs, made from the first CSV.
    with open(csv1) as fh:
        lines = fh.read().splitlines()
    header = lines[0].split(",")
    col = header.index("tumor_volume_mm3")
    nocol = os.path.join(work, "no_volume.timeseries.csv")
    with open(nocol, "w") as fh:
        for line in lines:
            cells = line.split(",")
            fh.write(",".join(cells[:col] + cells[col + 1:]) + "\n")
    empty = os.path.join(work, "empty.timeseries.csv")
    with open(empty, "w") as fh:
        fh.write(lines[0] + "\n")
    text = os.path.join(work, "text.timeseries.csv")
    with open(text, "w") as fh:
        cells = lines[1].split(",")
        cells[col] = "lots"
        fh.write("\n".join([lines[0], ",".join(cells)] + lines[2:]) + "\n")
    bad_out = os.path.join(work, "bad.png")
    expect_error(tool, [csv1, nocol], [nocol, "no column 'tumor_volume_mm3'"], bad_out)
    expect_error(tool, [csv1, nocol, "--final", "D"], ["no column 'tumor_volume_mm3'"], bad_out)
    expect_error(tool, [csv1, csv2, "--columns", "tumor_volume_mm3", "not_a_column"],
                 ["no column 'not_a_column'"], bad_out)
    expect_error(tool, [csv1, os.path.join(work, "missing.csv")], ["cannot read", "missing.csv"],
                 bad_out)
    expect_error(tool, [empty], ["no data rows"], bad_out)
    nc = csv1[:-len(".timeseries.csv")] + ".nc"
    if os.path.exists(nc):   # the run's field file instead of its time series
        expect_error(tool, [nc], ["is not a text CSV file"], bad_out)
    else:
        check(False, "no %s beside %s to give tf_plot by mistake" % (nc, csv1))
    expect_error(tool, [text], ["line 2", "'lots' is not a number"], bad_out)
    for value in ("nan", "inf", "-inf"):
        nonfinite = os.path.join(work, "nonfinite.timeseries.csv")
        with open(nonfinite, "w") as fh:
            cells = lines[2].split(",")
            cells[col] = value
            fh.write("\n".join(lines[:2] + [",".join(cells)] + lines[3:]) + "\n")
        expect_error(tool, [nonfinite], [nonfinite, "line 3 column tumor_volume_mm3",
                                         "%r is not a finite number" % value], bad_out)

    # -o: the format comes from the extension; a directory is not a file name.
    rc, log = run(tool, [csv1, "-o", os.path.join(work, "fig.xyz")])
    check(rc == 2 and "cannot write .xyz figures" in log and ".png" in log,
          "tf_plot -o fig.xyz exited %d (expected 2, naming the formats):\n%s" % (rc, log))
    check(not [f for f in os.listdir(work) if f.startswith("fig.xyz")],
          "tf_plot -o fig.xyz wrote %s" % os.listdir(work))
    noext = os.path.join(work, "noext")
    rc, log = run(tool, [csv1, "-o", noext])
    check(rc == 0 and "wrote %s.png" % noext in log,
          "tf_plot -o noext exited %d, the message does not name noext.png:\n%s" % (rc, log))
    check(os.path.isfile(noext + ".png") and not os.path.exists(noext),
          "tf_plot -o noext wrote %s" % sorted(f for f in os.listdir(work) if "noext" in f))
    figdir = os.path.join(work, "figs")
    os.makedirs(figdir)
    rc, log = run(tool, [csv1, "-o", figdir])
    check(rc == 2 and "is a directory: give a file name" in log,
          "tf_plot -o DIR exited %d, expected 2 naming the directory:\n%s" % (rc, log))
    check(not os.path.exists(figdir + ".png") and not os.listdir(figdir),
          "tf_plot -o DIR wrote a figure")
    expect_error(tool, [csv1, csv2, "--labels", "one"], ["1 labels for 2 CSV files"], bad_out)
    expect_error(tool, [csv1, csv2, "--final", "label"], ["numeric labels"], bad_out)

    return report("tf_plot.py draws runs and rejects bad input with exit 2")


if __name__ == "__main__":
    sys.exit(main())
