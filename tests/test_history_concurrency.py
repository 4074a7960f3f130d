"""Several processes recording into one history file at once: no lost rows, no lock errors."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from tacroute.history import HistoryStore

PROCESSES = 4
PER_PROCESS = 60


def _worker(path: str, index: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from tacroute.types import Usage
    from testkit.history import make_attempt, make_run

    errors = 0
    try:
        store = HistoryStore(path)
        for i in range(PER_PROCESS):
            run_id = f"p{index}-{i}"
            store.attempt_started(run_id, 1, "claude-cli", "claude-sonnet-4-5")
            a = make_attempt(run_id, 1, started_at=time.time(), usage=Usage(i, 1, 0, 0),
                             task={"labels": ["bug"]})
            store.record_attempt(a)
            store.record_run(make_run([a]))
        store.close()
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        out.put(f"{index}: {type(exc).__name__}: {exc}")
        errors += 1
    out.put(errors)


def test_concurrent_writers_lose_nothing(history_db: Path) -> None:
    fresh = history_db.parent / "fresh.db"  # the workers also race to create the schema
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=_worker, args=(str(fresh), i, queue)) for i in range(PROCESSES)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in range(PROCESSES)]
    for p in procs:
        p.join(timeout=120)
    assert results == [0] * PROCESSES, results
    assert all(p.exitcode == 0 for p in procs)
    with HistoryStore(fresh) as store:
        assert store.count("attempts") == PROCESSES * PER_PROCESS
        assert store.count("runs") == PROCESSES * PER_PROCESS
        assert store.count("run_labels") == PROCESSES * PER_PROCESS
        assert len({r.run_id for r in store.runs()}) == PROCESSES * PER_PROCESS
        (row,) = store.stats("provider")
        assert row.usage.input_tokens == PROCESSES * sum(range(PER_PROCESS))


def test_threads_share_one_store(history_db: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from testkit.history import make_attempt

    store = HistoryStore(history_db)

    def record(i: int) -> None:
        store.record_attempt(make_attempt(f"t{i}", 1, started_at=float(i)))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(record, range(200)))
    assert store.count("attempts") == 200
    store.close()


def _forked_child(store: HistoryStore, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from testkit.history import make_attempt

    try:
        store.record_attempt(make_attempt("from-child", 1, started_at=2.0))
        out.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        out.put(f"{type(exc).__name__}: {exc}")


def test_a_forked_child_opens_its_own_connection(history_db: Path) -> None:
    from testkit.history import make_attempt

    store = HistoryStore(history_db)
    store.record_attempt(make_attempt("from-parent", 1, started_at=1.0))
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    child = ctx.Process(target=_forked_child, args=(store, queue))
    child.start()
    assert queue.get(timeout=60) == "ok"
    child.join(timeout=60)
    assert child.exitcode == 0
    store.record_attempt(make_attempt("parent-again", 1, started_at=3.0))  # the parent's connection still works
    assert store.count("attempts") == 3
    store.close()
