"""Shared state on Redis: decision latency with the Redis gate, and slot throughput over 3 processes.

Starts its own redis-server on a free loopback port (Debian's package). Prints:
- the p50/p99 of one routing decision through the gate with every decision
  reading Redis once (one script: cooldowns and the limits' usage), the load
  average before, and how many garbage collections ran meanwhile;
- acquire+release pairs per second of 3 processes taking slots on one provider,
  then the same with a budget held with each slot (a day and a month reservation,
  settled with a cost at release: what a run with a budget does per attempt).

    .venv/bin/python bench/bench_redis_state.py
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tacroute.config.loader import parse_config
from tacroute.history import plugin as history_plugin
from tacroute.history.slots import ProviderLimits
from tacroute.plugins import Registry
from tacroute.routing import router_with_history
from tacroute.state import Reservation
from tacroute_redis import plugin as redis_plugin
from tacroute_redis.backend import RedisState
from testkit.redis_server import RedisServer
from testkit.script_provider import ScriptPlugin

DECISIONS = 5000
SECONDS = 3.0


def _slots(url: str, seconds: float, budget: bool, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    state = RedisState(url)
    limit = ProviderLimits(1000, None)
    hold = [Reservation("project:bench", "day:2025-06-01", 0.01, 1e12),
            Reservation("project:bench", "month:2025-06", 0.01, 1e12)] if budget else []
    run = f"bench{os.getpid()}"
    n = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        state.acquire(run, n, "p", "m", limit, time.time(), hold).release(0.01 if budget else 0.0)
        n += 1
    out.put(n)


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    os.environ["TACROUTE_HISTORY"] = str(folder / "history.db")
    server = RedisServer(folder)
    server.start()
    try:
        registry = Registry.from_plugins([ScriptPlugin(), history_plugin, redis_plugin])
        config = parse_config(
            "[providers.p]\ntype = 'script'\ncommand_template = ['true']\nmax_concurrent = 4\nrpm = 100000\n"
            "[providers.q]\ntype = 'script'\ncommand_template = ['true']\nmax_concurrent = 4\n"
            "[routing]\nenabled = true\ndefault_provider = 'p'\ndefault_model = 'm'\n"
            "[[routing.rules]]\nname = 'r'\nconditions = {}\nprovider = 'q'\nmodel = 'm'\n"
            f"[state]\nbackend = 'redis'\nurl = '{server.url}'\n", registry=registry)
        router = router_with_history(config, registry=registry)
        gate = router.gate
        assert gate is not None and getattr(gate, "shared", None) is not None
        backend = gate.shared.backend  # type: ignore[attr-defined]
        reads = [0]
        snapshot = backend.snapshot

        def counted(*args: object) -> object:
            reads[0] += 1
            return snapshot(*args)

        backend.snapshot = counted
        for _ in range(200):
            router.route({})
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        times = []
        reads[0] = 0
        gc_runs = [0]
        gc.callbacks.append(lambda phase, info: gc_runs.__setitem__(0, gc_runs[0] + (phase == "start")))
        for _ in range(DECISIONS):
            gate._shared_at = -1.0  # type: ignore[attr-defined]  # this decision reads Redis (once)
            t0 = time.perf_counter()
            decision = router.route({})
            times.append(time.perf_counter() - t0)
        assert decision.available, decision
        assert reads[0] == DECISIONS, reads  # one round trip per decision, not one per candidate
        print(f"garbage collections during the decisions: {gc_runs[0]}")
        times.sort()
        p50 = times[len(times) // 2] * 1000
        p99 = times[int(len(times) * 0.99)] * 1000
        client = RedisState(server.url).client
        pings = []
        for _ in range(DECISIONS):
            t0 = time.perf_counter()
            client.ping()
            pings.append(time.perf_counter() - t0)
        pings.sort()
        print(f"baseline, one PING round trip: p50 {pings[len(pings) // 2] * 1000:.3f} ms, "
              f"p99 {pings[int(len(pings) * 0.99)] * 1000:.3f} ms")
        print(f"decision with the Redis gate ({DECISIONS} decisions, 2 candidates, each reading "
              f"Redis once): p50 {p50:.3f} ms, p99 {p99:.3f} ms -> {'PASS' if p99 <= 1.0 else 'FAIL'} "
              "(target p99 <= 1 ms)")

        for budget in (False, True):
            queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
            procs = [multiprocessing.Process(target=_slots, args=(server.url, SECONDS, budget, queue))
                     for _ in range(3)]
            for p in procs:
                p.start()
            counts = [queue.get() for _ in procs]
            for p in procs:
                p.join()
            total = sum(counts)
            what = "with a budget held (2 reservations) and settled" if budget else "(no budget)"
            print(f"slot acquire+release over 3 processes {what}: {total / SECONDS:,.0f} pairs/s "
                  f"({', '.join(f'{c / SECONDS:,.0f}' for c in counts)} per process)")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
