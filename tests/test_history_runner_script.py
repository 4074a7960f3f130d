"""The history layer inside ``run_task`` with the script provider (no real CLI needed)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tacroute import ErrorClass, NoAvailableProviderError, hookimpl, run_task
from tacroute.history import CooldownPolicy, HistoryStore
from tacroute.history import plugin as history_plugin
from tacroute.plugins import Registry, set_registry
from testkit.script_provider import ScriptPlugin, script_config


class StartRecorder:
    """Records the order of observer calls, the start hook included."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    @hookimpl
    def observe_decision(self, decision: Any, task: Any) -> None:
        self.events.append(("decision", None))

    @hookimpl
    def observe_attempt_start(self, run_id: str, attempt: int, task: Any, provider: str, model: str) -> None:
        self.events.append(("start", (attempt, provider, model)))

    @hookimpl
    def observe_attempt(self, record: Any) -> None:
        self.events.append(("attempt", record.attempt))

    @hookimpl
    def observe_run(self, result: Any) -> None:
        self.events.append(("run", None))


@pytest.fixture
def recorder() -> Iterator[StartRecorder]:
    rec = StartRecorder()
    set_registry(Registry.from_plugins([ScriptPlugin(), rec, history_plugin]))
    yield rec
    set_registry(None)


@pytest.fixture
def prompt(tmp_path: Path) -> Path:
    path = tmp_path / "prompt.txt"
    path.write_text("fix the bug\n", encoding="utf-8")
    return path


def test_runner_announces_each_attempt_before_it_starts(recorder: StartRecorder, tmp_path: Path,
                                                        prompt: Path, history_db: Path) -> None:
    result = run_task(prompt, {"priority": "high"}, config=script_config(tmp_path, ["fatal", "ok"]))
    assert result.success
    assert recorder.events == [("decision", None), ("start", (1, "s0", "fatal")), ("attempt", 1),
                               ("start", (2, "s0", "ok")), ("attempt", 2), ("run", None)]
    with HistoryStore(history_db) as store:
        (row,) = list(store.runs())
        assert row.run_id == result.run_id and row.attempts == 2 and row.success
        started = store._read("SELECT attempt, started_at, ended_at FROM slots ORDER BY attempt")
    assert [a for a, _, _ in started] == [1, 2]
    assert all(end is not None and end >= start - 1 for _, start, end in started)


def test_rate_limit_retry_after_reaches_the_history(recorder: StartRecorder, tmp_path: Path, prompt: Path,
                                                    history_db: Path) -> None:
    result = run_task(prompt, {}, config=script_config(tmp_path, ["limit", "ok"]))
    assert result.success
    first = result.attempts[0]
    assert first.error_class == "rate_limit" and first.retry_after_s == pytest.approx(0.2)
    conn = sqlite3.connect(history_db)
    assert conn.execute("SELECT retry_after_s FROM attempts WHERE attempt = 1").fetchone()[0] == \
        pytest.approx(0.2)
    kind, span = conn.execute("SELECT kind, until - set_at FROM cooldowns WHERE model = 'limit'").fetchone()
    conn.close()
    assert kind == "rate_limit" and span == pytest.approx(0.2)


def test_a_provider_at_max_concurrent_is_skipped_by_the_runner(recorder: StartRecorder, tmp_path: Path,
                                                               prompt: Path, history_db: Path) -> None:
    config = script_config(tmp_path, ["ok", "ok", "ok"], providers=2)  # r0 s0/ok, r1 s1/ok, default s0/ok
    config.write_text(config.read_text().replace('[providers.s0]\ntype = "script"\n',
                                                 '[providers.s0]\ntype = "script"\nmax_concurrent = 1\n'))
    with HistoryStore(history_db) as store:  # one attempt already running on s0 (this live process)
        store.attempt_started("elsewhere", 1, "s0", "ok")
    result = run_task(prompt, {}, config=config)
    assert result.success and [a.provider for a in result.attempts] == ["s1"]
    reason = next(c.reason for c in result.decision.skipped if c.provider == "s0")
    assert reason is not None and reason.startswith("limit: 1 attempt")


def test_every_candidate_cooling_down_is_a_clear_error(recorder: StartRecorder, tmp_path: Path,
                                                       prompt: Path, history_db: Path) -> None:
    import time

    from testkit.history import make_attempt

    config = script_config(tmp_path, ["ok"])
    # The recording process applies its cooldown policy when it stores the failure.
    with HistoryStore(history_db, policy=CooldownPolicy(failures=1, cooldown_s=3600)) as store:
        store.record_attempt(make_attempt("x", 1, provider="s0", model="ok", success=False,
                                          error_class=ErrorClass.OVERLOADED, started_at=time.time()))
    with pytest.raises(NoAvailableProviderError, match="cooldown until"):
        run_task(prompt, {}, config=config)


def test_runs_in_threads_record_into_their_own_configs_history(recorder: StartRecorder, tmp_path: Path,
                                                               prompt: Path) -> None:
    import threading

    configs, dbs = [], []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        config = script_config(folder, ["ok"])
        db = folder / "state" / "history.db"
        config.write_text(config.read_text() + '\n[history]\npath = "state/history.db"\n')
        configs.append(config)
        dbs.append(db)
    results: dict[int, Any] = {}
    barrier = threading.Barrier(2)

    def work(i: int) -> None:
        barrier.wait()
        for _ in range(3):
            results[i] = run_task(prompt, {"worker": i}, config=configs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.success for r in results.values())
    for i, db in enumerate(dbs):
        with HistoryStore(db) as store:
            rows = list(store.runs())
        assert len(rows) == 3 and {row.task["worker"] for row in rows} == {i}
