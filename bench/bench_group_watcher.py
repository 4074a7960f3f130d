"""Cost of the per-attempt group watcher (the ``/bin/sh`` that kills the group if tacroute is SIGKILLed).

Times :func:`tacroute.runner.process.stream_process` over ``/bin/true`` with the
watcher and with it switched off, interleaved; ``/bin/true`` ends at once, so
nothing hides the watcher's spawn (with a real agent CLI the spawn overlaps the
CLI's own start-up). Reports medians and the difference.

Run: .venv/bin/python bench/bench_group_watcher.py [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import time

from tacroute.runner import process


def _once() -> float:
    t0 = time.perf_counter()
    process.stream_process(["/bin/true"], on_line=lambda line: False)
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    start_watcher = process.start_watcher
    with_w: list[float] = []
    without: list[float] = []
    for _ in range(runs):
        process.start_watcher = start_watcher
        with_w.append(_once())
        process.start_watcher = lambda pgid: None
        without.append(_once())
    process.start_watcher = start_watcher
    a, b = statistics.median(with_w), statistics.median(without)
    print(f"stream_process(['/bin/true']), {runs} interleaved runs each")
    print(f"  with the watcher:    median {a:.2f} ms")
    print(f"  without the watcher: median {b:.2f} ms")
    print(f"  watcher cost per attempt: {a - b:.2f} ms")


if __name__ == "__main__":
    main()
