#!/usr/bin/env python3
"""gpu-record.py: a bench/results record of one or more calls of tests/gpu/run-on-device.sh.

usage: bench/gpu-record.py CARD OUTDIR... > bench/results/YYYY-MM-DD-cuda-CARD.md

CARD is the device tool's `device` line; each OUTDIR is a call's $OUT as fetched (summary.txt,
env.log, bench.jsonl, sanitizer.log, tests.log where the call wrote them). The record holds, per
call, the bundle's commit, the GPU as nvidia-smi names it, the host, the step table of
summary.txt verbatim, the sanitizer summaries, the CPU-vs-GPU agreement lines of the tests, and
all bench objects as JSON lines at the end (bench/README.md, "Results")."""
import json
import os
import re
import sys

if len(sys.argv) < 3:
    sys.exit(__doc__)
card, dirs = sys.argv[1], sys.argv[2:]


def read(d, name):
    p = os.path.join(d, name)
    return open(p, errors="replace").read() if os.path.exists(p) else ""


rows = []
print("# CUDA results: %s\n" % card)
for n, d in enumerate(dirs, 1):
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
    for l in read(d, "bench.jsonl").splitlines():
        if l.strip():
            rows.append(json.loads(l))
if rows:
    print("Raw --json objects, one per run:\n\n```json")
    for r in rows:
        print(json.dumps(r))
    print("```")
