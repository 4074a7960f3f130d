"""Fresh-process cost of ``tacroute route --priority critical --json``.

Target: at most 1.5 times the wall time of ``python -c "import
click"`` in the same environment, and at most 40 MiB peak memory.

Runs the two commands interleaved (so machine load hits both alike) and
reports medians; peak memory is the child's max RSS from wait4().

Run: .venv/bin/python bench/bench_cli_startup.py [RUNS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one run; fails loudly if the command fails."""
    wall, rss, _ = timed_cpu(argv, env)
    return wall, rss


def timed_cpu(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB, CPU seconds: user + system) of one run.

    The CPU time is what the command itself costs; the wall time also holds
    waiting for a core, which on a shared, loaded machine is most of the noise."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    _, status, rusage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed ({proc.returncode}): {proc.stderr.read().decode() if proc.stderr else ''}")
    if proc.stderr:
        proc.stderr.close()
    return wall, rusage.ru_maxrss / 1024, rusage.ru_utime + rusage.ru_stime


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    env = dict(os.environ)
    # A pip install compiles bytecode, as click's was; let the editable sources
    # have theirs too (the warm-up runs write it), or the comparison is unfair.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PATH"] = f"{ROOT / 'bench' / 'fakebin'}:{env.get('PATH', '')}"
    baseline = [sys.executable, "-c", "import click"]
    route = [str(BIN / "tacroute"), "route", "--config", "examples/config.toml", "--priority", "critical", "--json"]
    for argv in (baseline, route):  # warm the file cache (and tacroute's entry-point cache)
        timed(argv, env)
    base_w, route_w, route_m = [], [], []
    for _ in range(runs):
        base_w.append(timed(baseline, env)[0])
        w, m = timed(route, env)
        route_w.append(w)
        route_m.append(m)
    b, r = statistics.median(base_w), statistics.median(route_w)
    ratio = r / b
    peak = max(route_m)
    print(f"runs: {runs} each, interleaved")
    print(f"python -c 'import click':          median {b * 1000:6.1f} ms")
    print(f"tacroute route --priority critical: median {r * 1000:6.1f} ms, peak RSS {peak:.1f} MiB")
    print(f"ratio {ratio:.2f} (target <= 1.5): {'PASS' if ratio <= 1.5 else 'FAIL'}")
    print(f"peak memory {peak:.1f} MiB (target <= 40): {'PASS' if peak <= 40 else 'FAIL'}")
    return 0 if ratio <= 1.5 and peak <= 40 else 1


if __name__ == "__main__":
    raise SystemExit(main())
