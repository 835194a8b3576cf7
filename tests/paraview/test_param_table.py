#!/usr/bin/python3
"""test_param_table.py: tools/gen-param-table refuses a wrong or missing file.

    test_param_table.py GEN_PARAM_TABLE DEF DOC WORKDIR

Checks, on a copy of DOC (docs/model.md) in WORKDIR:
  - DEF --check COPY passes (exit 0): the copy is a real document;
  - a DEF with no TF_PARAM entries (a text file, /dev/null) exits 2 with one line saying so,
    printed or with --update, and --update leaves the copy's table alone;
  - a missing DEF, or a missing DOC for --check or --update, exits 2 with one line
    `gen-param-table: error: cannot read FILE: ...` (no traceback).
"""
import os
import shutil
import sys

from checks import check, report, run


def main():
    tool, def_file, doc, work = sys.argv[1:5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    copy = os.path.join(work, "model.md")
    shutil.copyfile(doc, copy)
    with open(copy) as fh:
        before = fh.read()
    wrong = os.path.join(work, "not_a_def.txt")
    with open(wrong, "w") as fh:
        fh.write("# A text file without TF_PARAM lines, as README.md is.\n")
    missing = os.path.join(work, "missing")

    rc, log = run(tool, [def_file, "--check", copy])
    check(rc == 0, "gen-param-table DEF --check COPY exited %d:\n%s" % (rc, log))
    for args, expect in (([wrong], "%s has no TF_PARAM" % wrong),
                         (["/dev/null"], "/dev/null has no TF_PARAM"),
                         ([wrong, "--update", copy], "%s has no TF_PARAM" % wrong),
                         ([missing], "cannot read %s" % missing),
                         ([def_file, "--check", missing + ".md"], "cannot read %s.md" % missing),
                         ([def_file, "--update", missing + ".md"], "cannot read %s.md" % missing)):
        what = "gen-param-table %s" % " ".join(args)
        rc, log = run(tool, args)
        check(rc == 2, "%s exited %d, expected 2:\n%s" % (what, rc, log))
        check(expect in log, "%s: message does not say %r:\n%s" % (what, expect, log))
        check(log.startswith("gen-param-table: error: ") and log.count("\n") == 1,
              "%s: not one 'gen-param-table: error:' line:\n%s" % (what, log))
    with open(copy) as fh:
        check(fh.read() == before, "gen-param-table --update with a wrong DEF changed %s" % copy)
    check(not os.path.exists(missing + ".md"), "--update created %s.md" % missing)

    return report("gen-param-table refuses a wrong or missing file with exit 2")


if __name__ == "__main__":
    sys.exit(main())
