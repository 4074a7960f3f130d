"""Provider slots: taken atomically, given back however an attempt ends, reclaimed from dead owners."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tacroute import NoAvailableProviderError, hookimpl, run_task
from tacroute.history import HistoryGate, HistoryStore, ProviderLimits
from tacroute.history import plugin as history_plugin
from tacroute.history.schema import SCHEMA_VERSION
from tacroute.history.slots import SlotRefused, owner_alive, process_start
from tacroute.plugins import Registry, set_registry
from testkit.history import old_history_file
from testkit.script_provider import ScriptPlugin, script_config


def _gate(db: Path, max_concurrent: int | None = 1, rpm: int | None = None) -> HistoryGate:
    gate = HistoryGate(HistoryStore(db), refresh_s=0)
    gate.limits["p"] = ProviderLimits(max_concurrent, rpm)
    return gate


def _open_rows(db: Path) -> list[tuple[str, int, int | None]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT run_id, pid, pid_start FROM slots WHERE ended_at IS NULL "
                            "ORDER BY id").fetchall()
    finally:
        conn.close()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ------------------------------------------------------------------ the store
def test_a_slot_is_taken_under_the_limit_and_refused_at_it(history_db: Path) -> None:
    gate = _gate(history_db, max_concurrent=2)
    first = gate.acquire_slot("a", 1, "p", "m")
    gate.acquire_slot("b", 1, "p", "other-model")  # the limit is per provider
    with pytest.raises(SlotRefused, match=r"limit: 2 attempt\(s\) running on provider 'p', max_concurrent = 2"):
        gate.acquire_slot("c", 1, "p", "m")
    assert gate.acquire_slot("c", 1, "q", "m") is not None  # no limits on q: nothing recorded
    first.release()
    gate.acquire_slot("c", 1, "p", "m")
    assert [row[0] for row in _open_rows(history_db)] == ["b", "c"]
    (_, pid, start), *_ = _open_rows(history_db)
    assert pid == os.getpid() and start == process_start(os.getpid()) is not None


def test_rpm_counts_every_start_of_the_last_minute(history_db: Path) -> None:
    now = [1_000.0]
    gate = HistoryGate(HistoryStore(history_db), refresh_s=0, clock=lambda: now[0])
    gate.limits["p"] = ProviderLimits(None, 2)
    with gate.acquire_slot("a", 1, "p", "m"):
        pass
    now[0] = 1_030.0
    with gate.acquire_slot("b", 1, "p", "m"):
        pass
    with pytest.raises(SlotRefused, match=r"2 attempt\(s\) started on provider 'p' in the last 60 s, rpm = 2"):
        gate.acquire_slot("c", 1, "p", "m")
    now[0] = 1_060.5                                  # the first start left the window
    gate.acquire_slot("c", 1, "p", "m")


def test_a_dead_owners_slot_is_reclaimed_by_the_next_acquire(history_db: Path) -> None:
    gate = _gate(history_db)
    gate.store.attempt_started("dead", 1, "p", "m", pid=_dead_pid())
    gate.acquire_slot("next", 1, "p", "m")
    assert [row[0] for row in _open_rows(history_db)] == ["next"]
    conn = sqlite3.connect(history_db)
    (ended,) = conn.execute("SELECT ended_at FROM slots WHERE run_id = 'dead'").fetchone()
    conn.close()
    assert ended is not None                          # closed, not deleted: its start still counts for rpm


def test_a_slot_whose_pid_now_belongs_to_another_process_is_reclaimed(history_db: Path) -> None:
    gate = _gate(history_db)
    me = os.getpid()
    start = process_start(me)
    assert start is not None
    gate.store.attempt_started("mine", 1, "p", "m")   # this live process, its real start time
    with pytest.raises(SlotRefused):
        gate.acquire_slot("x", 1, "p", "m")
    # Same pid, another start time: the owner is gone and its pid was recycled.
    conn = sqlite3.connect(history_db)
    conn.execute("UPDATE slots SET pid_start = ? WHERE run_id = 'mine'", (start - 7,))
    conn.commit()
    conn.close()
    assert not owner_alive(me, start - 7) and owner_alive(me, start) and owner_alive(me, None)
    assert gate.store.limits().running == {}          # the routing snapshot agrees
    gate.acquire_slot("x", 1, "p", "m")
    assert [row[0] for row in _open_rows(history_db)] == ["x"]


_HOLDER = """
import sys, time
from tacroute.history import HistoryGate, HistoryStore, ProviderLimits
gate = HistoryGate(HistoryStore(sys.argv[1]), refresh_s=0)
gate.limits["p"] = ProviderLimits(1, None)
gate.acquire_slot("holder", 1, "p", "m")
print("held", flush=True)
time.sleep(600)
"""


def test_a_slot_of_a_killed_process_is_reclaimed(history_db: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(history_db)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        gate = _gate(history_db)
        with pytest.raises(SlotRefused):             # a live holder keeps its slot
            gate.acquire_slot("me", 1, "p", "m")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
        if holder.stdout is not None:
            holder.stdout.close()
    gate.acquire_slot("me", 1, "p", "m")
    assert [row[0] for row in _open_rows(history_db)] == ["me"]


def test_a_version_2_file_keeps_its_slots_and_gains_owner_start_times(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    conn = old_history_file(path, 2)
    for run_id, pid in (("live", os.getpid()), ("dead", _dead_pid())):
        conn.execute("INSERT INTO slots (provider, model, run_id, attempt, pid, started_at) "
                     "VALUES ('p', 'm', ?, 1, ?, 1.0)", (run_id, pid))
    conn.commit()
    conn.close()
    store = HistoryStore(path, clock=lambda: 10.0)
    gate = HistoryGate(store, refresh_s=0, clock=lambda: 10.0)
    gate.limits["p"] = ProviderLimits(2, None)
    assert store.limits().running == {"p": 1}         # no start time recorded: the pid decides
    gate.acquire_slot("new", 1, "p", "m")
    assert [row[0] for row in _open_rows(path)] == ["live", "new"]
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 4
    conn.close()


# ----------------------------------------------------------------- the runner
class _Hooks:
    """Observer hooks a test fills in."""

    def __init__(self) -> None:
        self.on_decision: Any = None
        self.on_start: Any = None
        self.starts: list[tuple[str, str]] = []

    @hookimpl
    def observe_decision(self, decision: Any, task: Any) -> None:
        if self.on_decision is not None:
            self.on_decision()

    @hookimpl
    def observe_attempt_start(self, run_id: str, attempt: int, task: Any, provider: str, model: str) -> None:
        self.starts.append((provider, model))
        if self.on_start is not None:
            self.on_start()


@pytest.fixture
def hooks() -> Iterator[_Hooks]:
    h = _Hooks()
    set_registry(Registry.from_plugins([ScriptPlugin(), h, history_plugin]))
    yield h
    set_registry(None)


@pytest.fixture
def prompt(tmp_path: Path) -> Path:
    path = tmp_path / "prompt.txt"
    path.write_text("fix the bug\n", encoding="utf-8")
    return path


def _capped(tmp_path: Path, models: list[str], providers: int = 1) -> Path:
    config = script_config(tmp_path, models, providers=providers)
    config.write_text(config.read_text().replace('[providers.s0]\ntype = "script"\n',
                                                 '[providers.s0]\ntype = "script"\nmax_concurrent = 1\n'))
    return config


def _taken_elsewhere(db: Path) -> None:
    with HistoryStore(db) as store:                   # another live owner (this process) takes s0's slot
        store.attempt_started("elsewhere", 1, "s0", "ok")


def test_a_slot_taken_after_the_decision_moves_the_run_to_the_next_candidate(
        hooks: _Hooks, tmp_path: Path, prompt: Path, history_db: Path) -> None:
    config = _capped(tmp_path, ["ok", "ok", "ok"], providers=2)  # s0/ok, s1/ok, default s0/ok
    hooks.on_decision = lambda: _taken_elsewhere(history_db)
    result = run_task(prompt, {}, config=config)
    assert result.success and [a.provider for a in result.attempts] == ["s1"]
    assert hooks.starts == [("s1", "ok")]
    refused = [c for c in result.decision.skipped if c.provider == "s0"]
    assert refused and refused[0].reason is not None
    assert refused[0].reason.startswith("limit: 1 attempt(s) running on provider 's0'")


def test_no_candidate_left_with_a_slot_is_the_no_available_provider_error(
        hooks: _Hooks, tmp_path: Path, prompt: Path, history_db: Path) -> None:
    config = _capped(tmp_path, ["ok"])
    hooks.on_decision = lambda: _taken_elsewhere(history_db)
    with pytest.raises(NoAvailableProviderError, match=r"(?s)no available provider.*s0/ok.*max_concurrent = 1"):
        run_task(prompt, {}, config=config)
    assert hooks.starts == []


def test_each_attempt_gives_its_slot_back_so_failover_on_the_same_provider_runs(
        hooks: _Hooks, tmp_path: Path, prompt: Path, history_db: Path) -> None:
    result = run_task(prompt, {}, config=_capped(tmp_path, ["fatal", "ok"]))
    assert result.success and [a.model for a in result.attempts] == ["fatal", "ok"]
    assert _open_rows(history_db) == []


def test_the_slot_is_given_back_when_the_run_is_interrupted(hooks: _Hooks, tmp_path: Path, prompt: Path,
                                                            history_db: Path) -> None:
    def interrupt() -> None:
        raise KeyboardInterrupt

    hooks.on_start = interrupt
    with pytest.raises(KeyboardInterrupt):
        run_task(prompt, {}, config=_capped(tmp_path, ["ok"]))
    conn = sqlite3.connect(history_db)
    rows = conn.execute("SELECT provider, ended_at FROM slots").fetchall()
    conn.close()
    assert len(rows) == 1 and rows[0][0] == "s0" and rows[0][1] is not None
    hooks.on_start = None
    assert run_task(prompt, {}, config=_capped(tmp_path, ["ok"])).success


def test_slots_work_without_the_recording_plugin(tmp_path: Path, prompt: Path, history_db: Path) -> None:
    set_registry(Registry.from_plugins([ScriptPlugin()]))
    try:
        config = _capped(tmp_path, ["ok"])
        assert run_task(prompt, {}, config=config).success
        conn = sqlite3.connect(history_db)
        rows = conn.execute("SELECT provider, pid, ended_at FROM slots").fetchall()
        conn.close()
        assert len(rows) == 1 and rows[0][:2] == ("s0", os.getpid()) and rows[0][2] is not None
        _taken_elsewhere(history_db)
        with pytest.raises(NoAvailableProviderError, match="max_concurrent = 1"):
            run_task(prompt, {}, config=config)
    finally:
        set_registry(None)


def test_with_history_disabled_no_limit_is_kept(tmp_path: Path, prompt: Path, history_db: Path) -> None:
    set_registry(Registry.from_plugins([ScriptPlugin(), history_plugin]))
    try:
        config = _capped(tmp_path, ["ok"])
        config.write_text(config.read_text() + "\n[history]\nenabled = false\n")
        assert run_task(prompt, {}, config=config).success
        assert not history_db.exists()
    finally:
        set_registry(None)
