"""Routing decision speed, in-process.

Targets: one decision with the seed's five rules, median at most
2 microseconds; 1,000 rules: report the median, growth no worse than linear.

Run: .venv/bin/python bench/bench_route.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tacroute.config import parse_config
from tacroute.plugins import Registry
from tacroute.routing import ModelRouter
from testkit.seed import seed_text

TASKS = [
    {"priority": "critical", "labels": ["security"], "retry_count": 0, "hour": 14},
    {"priority": "low", "labels": ["documentation"], "retry_count": 0, "hour": 14},
    {"priority": "normal", "labels": ["feature"], "retry_count": 1, "hour": 14},
    {"priority": "high", "labels": ["bug"], "retry_count": 0, "hour": 14},
    {"priority": "low", "labels": ["chore"], "retry_count": 0},  # hour from the clock
]


def per_call_ns(router: ModelRouter, task: dict[str, object], loops: int, repeats: int) -> float:
    """Median over ``repeats`` batches of the time per call, in nanoseconds."""
    route = router.route
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        for _ in range(loops):
            route(task)
        samples.append((time.perf_counter_ns() - t0) / loops)
    return statistics.median(samples)


def many_rules(n: int) -> str:
    """The seed config plus n - 5 extra label rules that never match the probe task."""
    extra = "".join(
        f'\n[[routing.rules]]\nname = "extra-{i}"\npriority = {10 + i % 50}\n'
        f'conditions = {{ labels = ["area-{i}"], retry_count = {{ gte = 0 }} }}\nmodel = "claude-haiku-4"\n'
        for i in range(n - 5))
    return seed_text() + extra


def main() -> int:
    reg = Registry.load(env={"TACROUTE_LOAD_PLUGINS": "priority,labels,retry_count,hour_range,claude_cli,openrouter"})
    import os

    os.environ["PATH"] = f"{Path(__file__).resolve().parent / 'fakebin'}:{os.environ.get('PATH', '')}"
    router = ModelRouter(parse_config(seed_text(), Path("seed.toml"), registry=reg), registry=reg)
    print("seed config, 5 rules (median ns per decision over 15 batches of 50,000):")
    medians = []
    for task in TASKS:
        ns = per_call_ns(router, task, 50_000, 15)
        medians.append(ns)
        d = router.route(task)
        print(f"  {ns:8.0f} ns  -> {d.provider}/{d.model} [{d.rule}]  task={task}")
    overall = statistics.median(medians)
    ok = overall <= 2000
    print(f"median over the scenarios: {overall:.0f} ns = {overall / 1000:.2f} us "
          f"(target <= 2 us): {'PASS' if ok else 'FAIL'}")

    print("\nscaling (task matches only the seed's critical rule; every rule is evaluated):")
    probe = {"priority": "critical", "labels": ["security"], "retry_count": 0, "hour": 14}
    base = None
    rows = []
    for n in (5, 10, 100, 1000):
        r = ModelRouter(parse_config(many_rules(n), Path("many.toml"), registry=reg), registry=reg)
        ns = per_call_ns(r, probe, max(2000, 200_000 // n), 9)
        base = base or ns
        rows.append((n, ns))
        print(f"  {n:5d} rules: {ns / 1000:9.2f} us per decision  ({ns / n:6.0f} ns per rule)")
    per_rule_100 = rows[2][1] / 100
    per_rule_1000 = rows[3][1] / 1000
    linear = per_rule_1000 <= per_rule_100 * 1.5
    print(f"per-rule cost 100 -> 1000 rules: {per_rule_100:.0f} -> {per_rule_1000:.0f} ns "
          f"(no worse than linear: {'PASS' if linear else 'FAIL'})")
    return 0 if ok and linear else 1


if __name__ == "__main__":
    raise SystemExit(main())
