"""``stats`` over 1,000,000 recorded runs.

Target: at most 1 s. Builds (once, cached in the temp dir) a history
file with 1,000,000 runs through the real schema and indexes: 5 provider/models,
6 rules (one of them the default), 0-3 labels per run out of 8, durations
spread over 1 s .. 15 min, spread over 90 days. Then times ``HistoryStore.stats``
for each grouping, over everything and over the last 30 days (median of 5),
``all_model_stats`` over 1,000,000 attempts, and ``tacroute stats --json``
as a fresh process.

Run: .venv/bin/python bench/bench_history_stats.py [ROWS]
"""

from __future__ import annotations

import functools
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tacroute.history import HistoryStore
from tacroute.history.schema import SCHEMA_VERSION

T = TypeVar("T")
TARGET_S = 1.0
PAIRS = [("claude-cli", "claude-opus-4"), ("claude-cli", "claude-sonnet-4-5"), ("claude-cli", "claude-haiku-4"),
         ("openrouter", "gpt-4o"), ("openrouter", "claude-3-5-haiku")]
RULES = ["critical-issues-opus", "retry-use-haiku", "high-priority-sonnet", "off-hours-haiku", "docs-haiku", None]
LABELS = ["bug", "feature", "docs", "security", "chore", "ui", "perf", "refactor"]


def build(path: Path, rows: int) -> None:
    rnd = random.Random(42)
    now = time.time()
    with HistoryStore(path) as store:
        conn = store._connection()
        conn.execute("BEGIN IMMEDIATE")
        runs: list[tuple[Any, ...]] = []
        labels: list[tuple[Any, ...]] = []
        attempts: list[tuple[Any, ...]] = []
        for i in range(1, rows + 1):
            prov, model = PAIRS[rnd.randrange(len(PAIRS))]
            rule = RULES[rnd.randrange(len(RULES))]
            started = now - rnd.random() * 90 * 86_400
            ok = int(rnd.random() < 0.9)
            dur = int(rnd.lognormvariate(11, 1)) % 900_000 + 1000
            inp, out = rnd.randrange(1_000, 80_000), rnd.randrange(100, 8_000)
            cread, ccreate = rnd.randrange(0, 50_000), rnd.randrange(0, 5_000)
            cost = round((inp * 3 + out * 15 + cread * 0.3 + ccreate * 3.75) / 1e6, 6)
            task_labels = rnd.sample(LABELS, rnd.randrange(0, 4))
            task = json.dumps({"priority": "high", "labels": task_labels, "retry_count": 0}, sort_keys=True)
            runs.append((i, f"bench-{i}", started, task, rule, prov, model, ok, 1, inp, out, cread, ccreate,
                         cost, dur))
            labels.extend((i, lab, started, ok, dur, inp, out, cread, ccreate, cost) for lab in task_labels)
            attempts.append((f"bench-{i}", 1, started, task, prov, "x", model, rule, ok, dur, inp, out,
                             cread, ccreate, cost))
            if len(runs) == 50_000:
                _flush(conn, runs, labels, attempts)
        _flush(conn, runs, labels, attempts)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")


def _flush(c: sqlite3.Connection, runs: list[tuple[Any, ...]], labels: list[tuple[Any, ...]],
           attempts: list[tuple[Any, ...]]) -> None:
    c.executemany("INSERT INTO runs (id, run_id, started_at, task, rule, provider, model, success, attempts,"
                  " input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, duration_ms)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", runs)
    c.executemany("INSERT INTO run_labels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", labels)
    c.executemany("INSERT INTO attempts (run_id, attempt, started_at, task, provider, provider_type, model, rule,"
                  " success, duration_ms, input_tokens, output_tokens, cache_read_tokens,"
                  " cache_creation_tokens, cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  attempts)
    runs.clear()
    labels.clear()
    attempts.clear()


def timed(fn: Callable[[], T], repeat: int = 5) -> tuple[float, T]:
    times: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> int:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    path = Path(tempfile.gettempdir()) / "tacroute-bench" / f"history-{rows}-v{SCHEMA_VERSION}.db"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".building")
        for f in path.parent.glob(partial.name + "*"):
            f.unlink()
        t0 = time.perf_counter()
        build(partial, rows)
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(partial) + suffix)
            if src.exists():
                src.rename(Path(str(path) + suffix))
        print(f"built {rows:,} runs in {time.perf_counter() - t0:.1f} s: {path}")
    ok = True
    with HistoryStore(path) as store:
        n = store.count("runs")
        print(f"history: {n:,} runs, {store.count('run_labels'):,} label rows, "
              f"{store.count('attempts'):,} attempts, {path.stat().st_size / 2**20:.0f} MiB")
        since = time.time() - 30 * 86_400
        for by in ("provider", "model", "rule", "label"):
            for label, arg in (("all", None), ("30d", since)):
                t, res = timed(functools.partial(store.stats, by, arg))
                covered = sum(r.runs for r in res)
                verdict = "PASS" if t <= TARGET_S else "FAIL"
                ok &= t <= TARGET_S
                print(f"stats --by {by:<8} --since {label:<3}: median {t * 1000:7.1f} ms over {covered:>9,} "
                      f"run rows (target <= {TARGET_S:g} s): {verdict}")
        t2, pairs = timed(store.all_model_stats)
        print(f"all_model_stats over {n:,} attempts: median {t2 * 1000:.1f} ms ({len(pairs)} pairs)")
    env = dict(os.environ, TACROUTE_HISTORY=str(path))
    cmd = [str(Path(sys.executable).parent / "tacroute"), "stats", "--json"]
    walls = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir())
        walls.append(time.perf_counter() - t0)
    wall = statistics.median(walls)
    ok &= wall <= TARGET_S
    print(f"`tacroute stats --json` fresh process: median {wall * 1000:.0f} ms wall "
          f"(target <= {TARGET_S:g} s): {'PASS' if wall <= TARGET_S else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
