"""``tacroute batch`` at a provider's max_concurrent: throughput against the ideal.

TASKS tasks (default 40; the recorded figure uses 200) of a worker that sleeps
1 s, ``--concurrency 8`` against a provider with ``max_concurrent = 4``, with
``--wait`` so the extra workers wait for a slot instead of skipping it. Each
worker appends ``start PID`` and ``end PID`` to one shared O_APPEND log;
replaying the log gives the most workers that ever ran at once (must be <= 4).
Reported: every task succeeded, the peak, and the wall time against the ideal
TASKS / 4 x 1 s (target within 10%), with the load average.

Run: .venv/bin/python bench/bench_batch.py [TASKS]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testkit.batch_worker import batch_config  # noqa: E402

LIMIT = 4
CONCURRENCY = 8
SLEEP_S = 1.0


def peak(log: Path) -> int:
    running = most = 0
    for line in log.read_text().splitlines():
        running += 1 if line.startswith("start ") else -1
        most = max(most, running)
    return most


def under_limit(log: Path) -> float:
    """Seconds between the first start and the last end with fewer than LIMIT workers running."""
    events = sorted((float(t), kind) for kind, _, t in (line.split() for line in log.read_text().splitlines()))
    running, last, under = 0, events[0][0], 0.0
    for t, kind in events:
        if running < LIMIT:
            under += t - last
        last = t
        running += 1 if kind == "start" else -1
    return under


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = batch_config(folder, provider_extra=f"max_concurrent = {LIMIT}\n",
                              runner=f'[runner]\nkill_grace = 1\noutput_dir = "{folder / "runs"}"\n')
        tasks = folder / "tasks.jsonl"
        tasks.write_text("".join(json.dumps({"id": i, "prompt": f"task {i}"}) + "\n" for i in range(count)))
        log = folder / "slots.log"
        env = {**os.environ, "TACROUTE_HISTORY": str(folder / "history.db"), "SLOT_LOG": str(log),
               "SLEEP_S": str(SLEEP_S)}
        load = os.getloadavg()
        t0 = time.monotonic()
        proc = subprocess.run([str(Path(sys.executable).parent / "tacroute"), "batch", str(tasks),
                               "--concurrency", str(CONCURRENCY), "--wait", "600", "--results",
                               str(folder / "results.jsonl"), "--config", str(config)],
                              capture_output=True, text=True, env=env, check=False)
        wall = time.monotonic() - t0
        rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
        ok = sum(1 for r in rows if r.get("success"))
        ideal = count / LIMIT * SLEEP_S
        print(f"tasks {count}, concurrency {CONCURRENCY}, max_concurrent {LIMIT}, worker {SLEEP_S:.0f} s")
        print(f"exit {proc.returncode}; succeeded {ok}/{count}; most workers at once {peak(log)} "
              f"(limit {LIMIT})")
        print(f"wall {wall:.1f} s vs ideal {ideal:.1f} s: {wall / ideal:.3f}x "
              f"({'PASS' if wall <= ideal * 1.1 else 'FAIL'} within 10%)")
        print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
              f"after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"time with fewer than {LIMIT} workers running: {under_limit(log):.1f} s")
        if proc.returncode != 0:
            print(proc.stderr[-2000:])


if __name__ == "__main__":
    main()
