"""checks.py: what the tool tests of this directory share (test_plot.py, test_render.py,
test_param_table.py): a list of failed checks that check() adds to, run() for a tool, and
report(), which prints the failures or the OK line and returns the exit status."""
import subprocess

failures = []


def check(cond, msg):
    """Record msg as a failure when cond is false; returns cond."""
    if not cond:
        failures.append(msg)
    return cond


def run(tool, args, env=None, timeout=60, python="/usr/bin/python3"):
    """Run `python tool args...`; returns (exit status, stdout + stderr)."""
    p = subprocess.run([python, tool] + args, env=env, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def report(ok_message):
    """Print the failed checks (exit status 1) or the OK line (0)."""
    if failures:
        print("FAILED: %d check(s):" % len(failures))
        for f in failures:
            print("  - " + f)
        return 1
    print("OK: " + ok_message)
    return 0
