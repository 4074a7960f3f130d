"""8 processes recording 500 attempts each into one history file, all at once.

Target: 4,000 attempt rows, none lost, no errors; report the rate.
Each process goes through the tracking plugin's hooks, as the runner does:
``observe_attempt_start`` then ``observe_attempt`` per attempt (two write
transactions: the in-flight slot, then the attempt row with its cooldown check)
and ``observe_run`` per attempt, each attempt a run of its own (its own
``RunContext``: the store opens at its first event and closes after ``observe_run``). The processes wait on a barrier so they really
write at the same time.

Run: .venv/bin/python bench/bench_history_writers.py [PROCESSES] [ATTEMPTS]
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def worker(path: str, index: int, count: int, barrier: Any, out: Any) -> None:
    os.environ["TACROUTE_HISTORY"] = path
    from tacroute.config import parse_config
    from tacroute.context import RunContext
    from tacroute.history import plugin
    from tacroute.plugins import Registry
    from tacroute.types import AttemptRecord, Decision, ErrorClass, RunResult, Usage

    reg = Registry.from_plugins([plugin], env={"TACROUTE_STRICT_PLUGINS": "1"})
    config = parse_config("[providers.claude-cli]\ncommand_template = ['claude']\n[routing]\n"
                          "default_provider = 'claude-cli'\ndefault_model = 'm'\n", registry=reg)
    errors: list[str] = []
    barrier.wait()
    t0 = time.perf_counter()
    for i in range(count):
        run_id = f"w{index}-{i}"
        task = {"priority": "high", "labels": ["bug"], "worker": index}
        model = ("claude-sonnet-4-5", "claude-haiku-4")[i % 2]
        decision = Decision("claude-cli", model, "bench", "b")
        ctx = RunContext(config, run_id, task, decision)  # one run: its store opens and closes
        try:
            reg.hooks.observe_attempt_start(ctx, 1, "claude-cli", model)
            ok = i % 10 != 0
            rec = AttemptRecord(run_id, 1, task, "claude-cli", "claude-cli", model, "bench", ok,
                                None if ok else ErrorClass.OVERLOADED, None if ok else "overloaded", 0,
                                time.time(), 1000 + i, Usage(1000 + i, 100, 50, 5), 0.01, None)
            reg.hooks.observe_attempt(ctx, rec)
            reg.hooks.observe_run(ctx, RunResult(run_id, task, decision, (rec,), ok, "claude-cli", model,
                                                 None, rec.usage, rec.cost_usd, rec.duration_ms))
        except Exception as exc:  # noqa: BLE001 - counted and reported by the parent
            errors.append(f"{type(exc).__name__}: {exc}")
    out.put((index, time.perf_counter() - t0, errors))


def main() -> int:
    procs_n = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    per = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    folder = Path(tempfile.mkdtemp(prefix="tacroute-writers-"))
    path = folder / "history.db"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(procs_n + 1)
    out = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(str(path), i, per, barrier, out)) for i in range(procs_n)]
    for p in procs:
        p.start()
    barrier.wait()
    t0 = time.perf_counter()
    results = [out.get(timeout=600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=60)
    errors = [e for _, _, errs in results for e in errs]
    crashed = [p.exitcode for p in procs if p.exitcode != 0]

    from tacroute.history import HistoryStore

    with HistoryStore(path) as store:
        attempts, runs = store.count("attempts"), store.count("runs")
        ids = {r.run_id for r in store.runs()}
    want = procs_n * per
    print(f"{procs_n} processes x {per} attempts, started together, one file: {path}")
    print(f"wall {wall:.2f} s; per process {min(t for _, t, _ in results):.2f} .. "
          f"{max(t for _, t, _ in results):.2f} s")
    print(f"rows: attempts {attempts:,} / {want:,}, runs {runs:,} / {want:,}, distinct run ids {len(ids):,}")
    print(f"rate: {want / wall:,.0f} attempts/s recorded ({3 * want / wall:,.0f} write transactions/s: "
          "slot + attempt + run)")
    print(f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else "")
          + (f"; crashed processes: {crashed}" if crashed else ""))
    ok = attempts == want and runs == want and len(ids) == want and not errors and not crashed
    print(f"none lost, no errors: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
