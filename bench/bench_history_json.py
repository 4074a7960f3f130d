"""``tacroute history --limit 0 --json`` over 1,000,000 recorded runs: time and peak memory.

Before rows were streamed this took 44 s and 5.97 GiB (the sqlite3 CLI dumps
the same table in 4.1 s and 5 MiB). Target: peak RSS under 100 MiB at any size.
Builds (once, cached in the temp dir) a history with ROWS runs through the real
schema, in one transaction with ``executemany``; then runs the command as a
fresh process with stdout to /dev/null (median wall time of 3 runs; peak RSS of
the child from ``getrusage(RUSAGE_CHILDREN)``), and checks that the output of a
smaller file is one valid JSON document with every run.

Run: .venv/bin/python bench/bench_history_json.py [ROWS]
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tacroute.history import HistoryStore
from tacroute.history.schema import SCHEMA_VERSION

TARGET_MIB = 100.0
_CLI = "import sys; from tacroute.cli import main; sys.argv[0] = 'tacroute'; main()"
PAIRS = [("claude-cli", "claude-opus-4"), ("claude-cli", "claude-sonnet-4-5"), ("openrouter", "gpt-4o")]


def build(path: Path, rows: int) -> None:
    rnd = random.Random(7)
    now = time.time()
    with HistoryStore(path) as store:
        conn = store._connection()
        conn.execute("BEGIN IMMEDIATE")
        batch: list[tuple[Any, ...]] = []
        for i in range(1, rows + 1):
            prov, model = PAIRS[rnd.randrange(len(PAIRS))]
            ok = int(rnd.random() < 0.9)
            task = json.dumps({"priority": "high", "labels": ["bug"], "retry_count": 0})
            batch.append((i, f"bench-{i}", now - rnd.random() * 90 * 86_400, task, "r1", prov, model, ok,
                          None if ok else "timeout: no result", 1, rnd.randrange(1000, 80_000),
                          rnd.randrange(100, 8000), 0, 0, round(rnd.random(), 6), rnd.randrange(1000, 900_000)))
            if len(batch) == 100_000:
                _insert(conn, batch)
        _insert(conn, batch)
        conn.execute("COMMIT")


def _insert(conn: Any, batch: list[tuple[Any, ...]]) -> None:
    conn.executemany("INSERT INTO runs (id, run_id, started_at, task, rule, provider, model, success, error,"
                     " attempts, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,"
                     " cost_usd, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
    batch.clear()


def history_file(rows: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"tacroute-bench-history-json-v{SCHEMA_VERSION}-{rows}.db"
    if not path.exists():
        t0 = time.perf_counter()
        build(path.with_suffix(".tmp"), rows)
        path.with_suffix(".tmp").rename(path)
        print(f"built {path} ({rows:,} runs) in {time.perf_counter() - t0:.1f} s")
    return path


def main() -> int:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    small = history_file(2_000)
    env = {**os.environ, "TACROUTE_HISTORY": str(small), "XDG_CONFIG_HOME": tempfile.gettempdir() + "/none"}
    out = subprocess.run([sys.executable, "-c", _CLI, "history", "--limit", "0", "--json"],
                         capture_output=True, env=env, check=True, cwd=tempfile.gettempdir())
    assert len(json.loads(out.stdout)["runs"]) == 2_000, "the output is not one document with every run"
    path = history_file(rows)
    walls: list[float] = []
    peaks: list[float] = []
    for _ in range(3):
        wall, peak = _measure(path)
        walls.append(wall)
        peaks.append(peak)
    peak = max(peaks)
    print(f"tacroute history --limit 0 --json > /dev/null, {rows:,} runs: "
          f"{statistics.median(walls):.2f} s median wall ({', '.join(f'{w:.2f}' for w in walls)}), "
          f"peak RSS {peak:.1f} MiB (target < {TARGET_MIB:g} MiB): {'PASS' if peak < TARGET_MIB else 'FAIL'}")
    size = path.stat().st_size / 2**20
    print(f"history file {size:.0f} MiB; rusage max RSS of the command's process")
    return 0 if peak < TARGET_MIB else 1


def _measure(path: Path) -> tuple[float, float]:
    """Run the command once with stdout to /dev/null; wall time and its own peak RSS."""
    env = {**os.environ, "TACROUTE_HISTORY": str(path), "XDG_CONFIG_HOME": tempfile.gettempdir() + "/none"}
    code = ("import resource, subprocess, sys, time\n"
            "t0 = time.perf_counter()\n"
            "with open(os.devnull, 'wb') as null:\n"
            f"    subprocess.run([sys.executable, '-c', {_CLI!r}, 'history', '--limit', '0', '--json'],"
            " stdout=null, check=True)\n"
            "print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    proc = subprocess.run([sys.executable, "-c", "import os\n" + code], capture_output=True, text=True,
                          env=env, check=True, cwd=tempfile.gettempdir())
    wall, rss_kib = proc.stdout.split()
    return float(wall), float(rss_kib) / 1024


if __name__ == "__main__":
    raise SystemExit(main())
