#!/usr/bin/env python3
"""The bench report is self-consistent (no timing assertions): for both schemes on a small grid,
`tumorfield bench --json` gives the documented minimum arrays per step (explicit 13; LOD 25 =
13 + 2 nd with nd = 6 diffusing fields, whichever passes the run took) and what the passes it
took move (pass_arrays_per_step: the CPU backend on one process fuses the first reaction with
the x and y lines and defers the second reaction into that pass, so x and y move nothing of
their own and the two reactions share 13 arrays: 25; with more threads than the z-planes allow
(16 threads on 40^3 here) it takes the separate passes, 26 + 6 nd = 62, and the minimum and so
the ratio to copy stay those of the step); explicit steps run in pairs on the CPU, one pass
over memory for two (13 arrays per pair: 6.5 per step; 13 with TF_CPU_EXPLICIT=single), and the
minimum counted stays 13; min_bytes = arrays x cells x
element size, the effective bandwidth = min_bytes / time per step, each ratio = effective /
its copy bandwidth, voxel updates = cells x steps / wall time, per-stage bytes summing to the
step's, and on the CPU the write-allocate copy beside the memcpy reference. The table form
prints the same copy lines.

usage: bench_report.py TUMORFIELD"""
import json
import subprocess
import sys

exe = sys.argv[1]
fails = []


def close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


import os
for scheme, arrays, pass_arrays, n, threads, single, steps in (
        ("explicit", 13, 6.5, 20, None, False, 4),
        ("explicit", 13, 13 * 2 / 3, 20, None, False, 3),  # a pair, then one step alone
        ("explicit", 13, 13, 20, None, True, 3),
        ("explicit", 13, 13, 20, None, False, 1),  # one step: no pair ran, none reported
        ("lod", 25, 25, 20, None, False, 3),
        ("lod", 25, 62, 40, "16", False, 3)):
    args = [exe, "bench", "--grid", str(n), "--steps", str(steps), "--scheme", scheme,
            "--backend", "cpu"]
    env = dict(os.environ, **({"OMP_NUM_THREADS": threads} if threads else {}))
    env.pop("TF_CPU_EXPLICIT", None)
    if single:
        env["TF_CPU_EXPLICIT"] = "single"
    out = subprocess.run(args + ["--json"], capture_output=True, text=True, timeout=300, env=env)
    fused = pass_arrays == 25
    if out.returncode != 0:
        fails.append(f"{scheme}: exit {out.returncode}: {out.stderr.strip()}")
        continue
    j = json.loads(out.stdout)
    esize = {"float": 4, "double": 8}[j["precision"]]
    cells = j["cells"]
    step_s = j["ms_per_step"] / 1e3
    eff = j["effective_bandwidth_GBps"]
    checks = {
        f"arrays_per_step = {arrays}": j["arrays_per_step"] == arrays,
        f"pass_arrays_per_step = {pass_arrays:.4g}": close(j["pass_arrays_per_step"], pass_arrays),
        f"cells = {n}^3": cells == n ** 3,
        "min_bytes = arrays x cells x size": j["min_bytes_per_step"] == arrays * cells * esize,
        "effective = min_bytes / step": close(eff * 1e9, j["min_bytes_per_step"] / step_s, 1e-6),
        "ratio_to_copy = effective / copy": close(j["ratio_to_copy"],
                                                  eff / j["copy_bandwidth_GBps"], 1e-6),
        "copy_kind is memcpy": "memcpy" in j["copy_kind"],
        "ratio_to_wa_copy = effective / wa copy": close(j["ratio_to_wa_copy"],
                                                        eff / j["wa_copy_bandwidth_GBps"], 1e-6),
        "updates = cells x steps / wall": close(j["voxel_updates_per_s"],
                                                cells * j["steps"] / j["wall_s"], 1e-6),
        "stage bytes sum to what the passes move": close(sum(s["min_bytes_per_step"] or 0
                                                             for s in j["stages"].values()),
                                                         pass_arrays * cells * esize, 1e-6),
        "every stage has every key (null where not counted)": all(
            set(s) == {"ms_per_step", "calls_per_step", "min_bytes_per_step", "GBps",
                       "voxel_updates_per_s", "apportioned"} for s in j["stages"].values()),
        "a stage's voxel updates = cells x steps / its time (null when not run, and for "
        "ghosts and halo)": all(
            (s["voxel_updates_per_s"] is None) == (s["ms_per_step"] == 0 or k in ("ghosts", "halo"))
            and (s["voxel_updates_per_s"] is None or close(s["voxel_updates_per_s"],
                                                           cells / (s["ms_per_step"] / 1e3), 1e-6))
            for k, s in j["stages"].items()),
        "no GB/s for a stage without bytes of its own (x, y of the fused pass)": all(
            (s["GBps"] is None) == (not s["min_bytes_per_step"]) for s in j["stages"].values()),
        "the JSON is one line": out.stdout.count("\n") == 1,
        "threads: those the steps ran on (one under 32768 cells)": j["threads"] == (
            1 if cells < 32768 else int(threads or j["threads"])),
        "ghosts and halo not counted": all(
            j["stages"][k]["min_bytes_per_step"] is None for k in ("ghosts", "halo")
            if k in j["stages"]),
        "the fused pass's stages marked apportioned": scheme == "explicit" or all(
            j["stages"][k]["apportioned"] == fused
            for k in ("reaction", "diffusion_x", "diffusion_y"))
            and not j["stages"]["diffusion_z"]["apportioned"],
        "the fused pass's GB/s is its bytes over the whole pass's time": not (
            scheme == "lod" and fused) or close(
            j["stages"]["reaction"]["GBps"],
            j["stages"]["reaction"]["min_bytes_per_step"] / 1e6
            / sum(j["stages"][k]["ms_per_step"] for k in ("reaction", "diffusion_x",
                                                          "diffusion_y")), 1e-6),
        "a separate pass's GB/s is its bytes over its time": scheme == "explicit" or fused or close(
            j["stages"]["diffusion_x"]["GBps"],
            j["stages"]["diffusion_x"]["min_bytes_per_step"] / 1e6
            / j["stages"]["diffusion_x"]["ms_per_step"], 1e-6),
        "in_cache at a small grid": j["in_cache"] is True,
        "the ratio to copy counts the minimum": close(
            j["ratio_to_copy"], arrays * cells * esize / (j["ms_per_step"] / 1e3)
            / (j["copy_bandwidth_GBps"] * 1e9), 1e-6),
        "stage time within the step time": j["stage_ms_per_step"] <= j["ms_per_step"] * 1.001,
        "reactions 13 arrays, x and y nothing of their own, z its 2 nd arrays (fused); "
        "else reactions 26 and every direction 12":
            scheme == "explicit" or ([j["stages"][k]["min_bytes_per_step"] for k in
                                      ("reaction", "diffusion_x", "diffusion_y", "diffusion_z")]
                                     == ([13 * cells * esize, 0, 0, 12 * cells * esize] if fused
                                         else [26 * cells * esize] + [12 * cells * esize] * 3)),
        "two reaction calls per step": scheme == "explicit"
                                       or j["stages"]["reaction"]["calls_per_step"] == 2,
        "explicit_paired: the CPU's explicit steps in pairs unless TF_CPU_EXPLICIT=single":
            j["explicit_paired"] == (scheme == "explicit" and not single and steps >= 2),
        "pair_tile_rows where pairs ran: a multiple of 8 from 8 to 64":
            (j.get("pair_tile_rows") in range(8, 65, 8)) == j["explicit_paired"],
        "one explicit call per step, paired or not (3 steps: a pair and one alone)":
            scheme == "lod" or j["stages"]["explicit"]["calls_per_step"] == 1,
        "positive bandwidths": min(eff, j["copy_bandwidth_GBps"],
                                   j["wa_copy_bandwidth_GBps"]) > 0,
    }
    bad = [k for k, ok in checks.items() if not ok]
    print(f"bench {scheme}{' single' if single else ''} {n}^3: arrays={j['arrays_per_step']} "
          f"pass_arrays={j['pass_arrays_per_step']} ratio_to_copy={j['ratio_to_copy']:.3f} "
          f"ratio_to_wa_copy={j['ratio_to_wa_copy']:.3f}" + (f"; WRONG: {bad}" if bad else ""))
    fails += [f"{scheme}: {b}" for b in bad]

    table = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env).stdout
    for line in ("copy bandwidth", "ratio to copy", "w.-alloc. copy"):
        if line not in table:
            fails.append(f"{scheme}: table lacks '{line}'")
    if (": steps in pairs" in table) != (scheme == "explicit" and not single and steps >= 2):
        fails.append(f"{scheme}: the table's min bytes line should say steps in pairs "
                     f"exactly when they ran so")

if fails:
    print("bench_report: FAILED:", *fails, sep="\n  ")
    sys.exit(1)
print("bench_report: both schemes' JSON reports are consistent")
