#!/usr/bin/env python3
"""gpu-record.py: a bench/results record of one or more calls of tests/gpu/run-on-device.sh.

usage: bench/gpu-record.py [--first N] CARD OUTDIR... > bench/results/YYYY-MM-DD-cuda-CARD.md

CARD is the device tool's `device` line; each OUTDIR is a call's $OUT as fetched (summary.txt,
env.log, bench.jsonl, sanitizer.log, tests.log, profile.log where the call wrote them), or a
committed record's folder that keeps several calls as callN-summary.txt, callN-env.log and so
on (each call a section). The record is written whole at the end, or not at all (exit 1 and a
message on stderr where a folder holds no summary). The
record holds, per call, the bundle's commit, the GPU as nvidia-smi names it, the host, the step
table of summary.txt verbatim, the sanitizer summaries, the CPU-vs-GPU agreement lines of the
tests, a table of the Nsight Compute profile, and all bench objects as JSON lines at the end
(bench/README.md, "Results")."""
import json
import os
import re
import sys

args = sys.argv[1:]
first = 1  # the number of the first call (the session's calls counted from 1)
if args[:1] == ["--first"] and len(args) > 1:
    first, args = int(args[1]), args[2:]
if len(args) < 2:
    sys.exit(__doc__)
card, dirs = args[0], args[1:]


def calls_of(d):
    """The calls a folder holds, as (folder, file name prefix): a call's $OUT as fetched
    (summary.txt: prefix ""), or a committed record's folder with several calls side by side
    (call3-summary.txt, call4-summary.txt: prefixes "call3-", "call4-")."""
    if os.path.exists(os.path.join(d, "summary.txt")):
        return [(d, "")]
    names = sorted(os.listdir(d)) if os.path.isdir(d) else []
    return [(d, f[:-len("summary.txt")]) for f in names if f.endswith("-summary.txt")]


def read(call, name):
    p = os.path.join(call[0], call[1] + name)
    return open(p, errors="replace").read() if os.path.exists(p) else ""


# The record is printed whole at the end, or not at all: a folder without a summary stops the
# script before anything reaches the file that stdout goes to.
calls = []
for d in dirs:
    found = calls_of(d)
    if not found:
        sys.exit("gpu-record: no summary.txt (nor CALL-summary.txt) in %s" % d)
    calls += found
lines = []


def print(*parts):  # noqa: A001 - collects the record instead of writing it
    lines.append(" ".join(str(x) for x in parts) if parts else "")


rows = []
print("# CUDA results: %s\n" % card)
for n, d in enumerate(calls, first):
    summary = read(d, "summary.txt")
    env = read(d, "env.log")
    if not summary:
        sys.exit("gpu-record: no summary.txt in %s" % d)
    commit = re.search(r"^bundle: commit:\s*(\S+.*)$", summary, re.M)
    date = re.search(r"^date:\s*(\S+)", env, re.M)
    smi = re.search(r"^name, memory.total.*\n(.*)$", env, re.M)
    host = re.search(r"^=== host: (.*)$", env, re.M)
    cpu = re.search(r"^model name\s*:\s*(.*)$", env, re.M)
    when = re.search(r"^=== nvidia-smi\n(.*)$", env, re.M)
    print("## Call %d\n" % n)
    if when:
        print("- run: %s (nvidia-smi's clock, UTC)" % when.group(1).strip())
    print("- bundle commit: %s" % (commit.group(1) if commit else "unknown"))
    if date:
        print("- bundle built: %s" % date.group(1))
    if smi:
        print("- nvidia-smi: %s" % smi.group(1))
    if host:
        print("- host: %s%s" % (host.group(1), "; " + cpu.group(1) if cpu else ""))
    print("- command: `bash tests/gpu/run-on-device.sh` (groups and budget as in the summary)\n")
    print("```\n%s```\n" % summary)
    san = [l for l in read(d, "sanitizer.log").splitlines()
           if l.startswith("=== ") or "SUMMARY" in l]
    if san:
        print("compute-sanitizer (sanitizer.log):\n\n```\n%s\n```\n" % "\n".join(san))
    agree = [l for l in read(d, "tests.log").splitlines()
             if l.startswith("=== ") or "[  PASSED" in l or "[  FAILED" in l or
             "identical" in l or "max |cpu - gpu|" in l]
    if agree:
        # The first comparison of each program (200 steps of each scheme) in full; the rest
        # of the lines are the steps' headers and their verdicts.
        print("tests (tests.log: headers, verdicts, CPU-vs-GPU agreement):\n\n```")
        seen = 0
        for l in agree:
            if "max |cpu - gpu|" in l:
                seen += 1
                if seen > 12:
                    continue
            elif l.startswith("=== "):
                seen = 0
            print(l)
        print("```\n")
    prof = read(d, "profile.log")
    if prof:
        # Nsight Compute, per kernel launch: duration and the throughputs that say which limit
        # it is near (profile.log holds the full sections).
        keys = ["Duration", "DRAM Throughput", "L2 Cache Throughput", "Compute (SM) Throughput",
                "Registers Per Thread", "Achieved Occupancy"]
        print("Nsight Compute (profile.log; ncu --clock-control none):\n")
        print("| kernel | launch | " + " | ".join(keys) + " |")
        print("|---" * (len(keys) + 2) + "|")
        for block in re.split(r"\n  (?=k_)", "\n" + prof)[1:]:
            name = block.split("(", 1)[0].strip()
            shape = re.search(r"\) (\(\d+, \d+, \d+\)x\(\d+, \d+, \d+\))", block)
            vals = []
            for k in keys:
                m = re.search(r"^\s+" + re.escape(k) + r"\s+(\S+)\s+([\d.,]+)", block, re.M)
                vals.append("%s %s" % (m.group(2), m.group(1)) if m else "-")
            print("| %s | %s | %s |" % (name, shape.group(1) if shape else "-", " | ".join(vals)))
        print()
    for l in read(d, "bench.jsonl").splitlines():
        if l.strip():
            rows.append(json.loads(l))
if rows:
    print("Raw --json objects, one per run:\n\n```json")
    for r in rows:
        print(json.dumps(r))
    print("```")
sys.stdout.write("\n".join(lines) + "\n")
