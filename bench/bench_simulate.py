#!/usr/bin/env python3
"""Benchmark: ``tacroute simulate`` over 1,000,000 tasks with the seed's rules, at most 3 s.

    .venv/bin/python bench/bench_simulate.py [--count 1000000] [--runs 3]

Generates the tasks with examples/make_tasks.py (the seed's 20% retries, 30%
off hours, 15% docs; kept in $TMPDIR between runs), then times the real CLI as
a fresh process (``tacroute simulate FILE --config examples/config.toml
--json``), start-up included, and the library call with one worker and with
one per core. PASS when the CLI's median wall time is within the budget.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 3.0


def tasks_file(count: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"tacroute-bench-tasks-{count}-2025.jsonl"
    if not path.exists():
        sys.path.insert(0, str(ROOT / "examples"))
        import make_tasks

        tmp = path.with_suffix(".part")
        t = time.perf_counter()
        make_tasks.main(["--count", str(count), "--seed", "2025", "--output", str(tmp)])
        tmp.replace(path)
        print(f"generated {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")
    return path


def library_run(workers: int, path: Path) -> None:
    """In a fresh process: time one ``simulate()`` call (config loaded first)."""
    from tacroute.config import load_config
    from tacroute.whatif.simulate import simulate

    cfg = load_config(ROOT / "examples" / "config.toml")
    t = time.perf_counter()
    rep = simulate(cfg, path, workers=workers)
    print(f"{time.perf_counter() - t:.4f} {rep.side.tasks}")


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--library-run":
        library_run(int(sys.argv[2]), Path(sys.argv[3]))
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    path = tasks_file(args.count)
    config = ROOT / "examples" / "config.toml"
    exe = Path(sys.executable).parent / "tacroute"
    cmd = [str(exe), "simulate", str(path), "--config", str(config), "--json"]
    walls: list[float] = []
    result: dict[str, object] = {}
    for _ in range(args.runs):
        t = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - t)
        result = json.loads(out.stdout)
    print(f"cmd: {' '.join(cmd)}")
    print(f"tasks: {result['tasks']:,}  cost ${result['cost_usd']:,.2f}  baseline "
          f"${result['baseline_cost_usd']:,.2f}  savings {result['savings_pct']:.2f}%")
    print("CLI wall (s): " + ", ".join(f"{w:.2f}" for w in walls)
          + f"  median {statistics.median(walls):.2f}")

    for workers in (1, os.cpu_count() or 1):
        out = subprocess.run([sys.executable, __file__, "--library-run", str(workers), str(path)],
                             capture_output=True, text=True, check=True)
        dt, tasks = out.stdout.split()
        assert int(tasks) == result["tasks"], "library and CLI disagree"
        print(f"library simulate(), {workers} worker(s), fresh process: {float(dt):.2f} s  "
              f"({float(dt) / int(tasks) * 1e6:.2f} us/task)")

    ok = result["tasks"] == args.count and statistics.median(walls) <= BUDGET_S
    print(f"{'PASS' if ok else 'FAIL'}: median CLI wall {statistics.median(walls):.2f} s "
          f"(budget {BUDGET_S:.1f} s for {args.count:,} tasks, {os.cpu_count()} cores)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
