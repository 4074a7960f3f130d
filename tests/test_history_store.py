"""HistoryStore recording through the observer hooks, on real SQLite files."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tacroute.history import HistoryError, HistoryStore, plugin
from tacroute.plugins import Registry
from tacroute.types import AttemptRecord, Decision, ErrorClass, Usage
from testkit.history import make_attempt, make_run, notify_run, plain_config


def _notify_run(reg: Registry, attempts: list[AttemptRecord], **kw: Any) -> None:
    notify_run(reg, attempts, **kw)


def test_hooks_record_decision_attempts_and_run(history_db: Path) -> None:
    reg = Registry.from_plugins([plugin])
    t0 = time.time() - 60
    task = {"priority": "critical", "labels": ["Security", "bug"], "retry_count": 0}
    first = make_attempt("run-1", 1, model="claude-opus-4", success=False, error_class=ErrorClass.OVERLOADED,
                         started_at=t0, duration_ms=2000, usage=Usage(10, 0, 0, 0), cost_usd=0.01,
                         task=task, message="overloaded")
    second = make_attempt("run-1", 2, model="claude-sonnet-4-5", started_at=t0 + 2.5, duration_ms=8000,
                          usage=Usage(1000, 200, 300, 40), cost_usd=0.5, task=task)
    _notify_run(reg, [first, second], rule="critical", task=task, duration_ms=10_500)

    with HistoryStore(history_db) as store:
        assert store.count("decisions") == 1
        assert store.count("attempts") == 2
        (row,) = list(store.runs())
        assert row.run_id == "run-1"
        assert row.started_at == t0
        assert row.task == task
        assert row.rule == "critical"
        assert (row.provider, row.model, row.success) == ("claude-cli", "claude-sonnet-4-5", True)
        assert row.usage == Usage(1010, 200, 300, 40)
        assert row.cost_usd == pytest.approx(0.51)
        assert row.duration_ms == 10_500
        assert row.attempts == 2
        labels = sorted(r[0] for r in store._read("SELECT label FROM run_labels"))
        assert labels == ["bug", "security"]
        # slots: both attempts started and ended
        assert store._read("SELECT count(*) FROM slots WHERE ended_at IS NOT NULL")[0][0] == 2
        decision = store._read("SELECT rule, provider, model, reason FROM decisions")[0]
        assert decision == ("critical", "claude-cli", "claude-opus-4", "test")


def test_failed_run_names_last_provider_and_error(history_db: Path) -> None:
    reg = Registry.from_plugins([plugin])
    a = make_attempt("run-f", 1, success=False, error_class=ErrorClass.AUTH, message="invalid x-api-key")
    _notify_run(reg, [a])
    with HistoryStore(history_db) as store:
        (row,) = list(store.runs())
    assert not row.success
    assert (row.provider, row.model) == ("claude-cli", "claude-sonnet-4-5")
    assert row.error == "auth: invalid x-api-key"


def test_recording_twice_keeps_one_row(history_db: Path) -> None:
    a = make_attempt("dup", 1)
    with HistoryStore(history_db) as store:
        store.record_attempt(a)
        store.record_attempt(a)
        store.record_run(make_run([a]))
        store.record_run(make_run([a]))
        assert store.count("attempts") == 1
        assert store.count("runs") == 1


def test_secrets_from_the_environment_never_reach_the_file(history_db: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "fake-anthropic-SECRETSECRETSECRET"
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    a = make_attempt("s", 1, success=False, error_class=ErrorClass.AUTH,
                     message=f"401 invalid key {secret} rejected")
    with HistoryStore(history_db) as store:
        store.record_attempt(a)
        store.record_run(make_run([a]))
        msg = store._read("SELECT message FROM attempts")[0][0]
        store.close()
    assert msg == "401 invalid key *** rejected"
    for f in history_db.parent.glob("history.db*"):
        assert secret.encode() not in f.read_bytes()


def test_config_switches_recording_off(tmp_path: Path, history_db: Path) -> None:
    cfg_path = tmp_path / "c.toml"
    text = ("[providers.p]\ncommand_template = ['x']\n[routing]\ndefault_provider = 'p'\n"
            "default_model = 'm'\n[history]\nenabled = false\n")
    cfg_path.write_text(text)
    config = plain_config(text, cfg_path)
    reg = Registry.from_plugins([plugin])
    _notify_run(reg, [make_attempt("off", 1)], config=config)
    assert not history_db.exists()


def test_config_path_relative_to_config_folder(tmp_path: Path) -> None:
    cfg_path = tmp_path / "proj" / "c.toml"
    cfg_path.parent.mkdir()
    text = ("[providers.p]\ncommand_template = ['x']\n[routing]\ndefault_provider = 'p'\n"
            "default_model = 'm'\n[history]\npath = 'state/h.db'\n")
    config = plain_config(text, cfg_path)
    _notify_run(Registry.from_plugins([plugin]), [make_attempt("rel", 1)], config=config)
    with HistoryStore(tmp_path / "proj" / "state" / "h.db") as store:
        assert [r.run_id for r in store.runs()] == ["rel"]


def test_wal_mode_and_schema_version(history_db: Path) -> None:
    from tacroute.history.schema import SCHEMA_VERSION

    HistoryStore(history_db).close()
    conn = sqlite3.connect(history_db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_runs_since_and_recent(history_db: Path) -> None:
    with HistoryStore(history_db) as store:
        for i in range(7):
            a = make_attempt(f"r{i}", 1, started_at=1000.0 + i * 10)
            store.record_attempt(a)
            store.record_run(make_run([a]))
        assert [r.run_id for r in store.runs(since=1040.0)] == ["r4", "r5", "r6"]
        assert [r.run_id for r in store.recent(2)] == ["r6", "r5"]
        assert len(store.recent(None)) == 7


def test_runs_pages_through_many_rows(history_db: Path) -> None:
    with HistoryStore(history_db) as store:
        conn = store._connection()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO runs (run_id, started_at, task, provider, model, success, attempts, "
                         "duration_ms) VALUES (?, ?, '{}', 'p', 'm', 1, 1, 5)",
                         [(f"x{i}", float(i)) for i in range(12_001)])
        conn.execute("COMMIT")
        ids = [r.run_id for r in store.runs()]
    assert len(ids) == 12_001 and ids[0] == "x0" and ids[-1] == "x12000"


def test_unusable_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "h.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(HistoryError, match="not usable"):
        HistoryStore(bad)


def test_store_reopens_after_close(history_db: Path) -> None:
    store = HistoryStore(history_db)
    store.close()
    store.record_decision(Decision("p", "m", None, "why"), {"priority": "low"}, at=5.0)
    assert store.count("decisions") == 1
    store.close()
