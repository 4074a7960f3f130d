"""Schema versions: a file written by the first layout is migrated in place, rows kept."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tacroute.history import HistoryError, HistoryStore
from tacroute.history.schema import SCHEMA_VERSION
from tacroute.types import Usage

# The version-1 layout as an older tacroute wrote it (no cache tokens, no labels
# table, no slots, no stats indexes).
V1 = """
CREATE TABLE runs (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, started_at REAL NOT NULL,
  task TEXT NOT NULL, rule TEXT, provider TEXT NOT NULL, model TEXT NOT NULL, success INTEGER NOT NULL,
  error TEXT, attempts INTEGER NOT NULL, input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL, duration_ms INTEGER NOT NULL);
CREATE INDEX runs_started ON runs(started_at);
CREATE TABLE attempts (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, attempt INTEGER NOT NULL,
  started_at REAL NOT NULL, task TEXT NOT NULL, provider TEXT NOT NULL, provider_type TEXT NOT NULL,
  model TEXT NOT NULL, rule TEXT, success INTEGER NOT NULL, error_class TEXT, message TEXT,
  exit_code INTEGER, duration_ms INTEGER NOT NULL, input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL, output_file TEXT, UNIQUE (run_id, attempt));
CREATE TABLE decisions (id INTEGER PRIMARY KEY, at REAL NOT NULL, task TEXT NOT NULL, rule TEXT,
  provider TEXT NOT NULL, model TEXT NOT NULL, reason TEXT NOT NULL, available INTEGER NOT NULL,
  fallbacks TEXT NOT NULL, skipped TEXT NOT NULL);
CREATE TABLE cooldowns (provider TEXT NOT NULL, model TEXT NOT NULL, until REAL NOT NULL,
  kind TEXT NOT NULL, reason TEXT NOT NULL, set_at REAL NOT NULL, PRIMARY KEY (provider, model));
PRAGMA user_version = 1;
"""


def _v1_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V1)
    rows = [
        ("a", 10.0, {"priority": "high", "labels": ["Bug", "ui"]}, "r1", "claude-cli", "claude-opus-4", 1,
         100, 20, 0.5, 4000),
        ("b", 20.0, {"priority": "low", "labels": "docs"}, None, "claude-cli", "claude-haiku-4", 0,
         10, 0, None, 1000),
        ("c", 30.0, {"priority": "low"}, None, "openrouter", "gpt-4o", 1, 5, 5, 0.1, 2000),
    ]
    for rid, at, task, rule, prov, model, ok, inp, out, cost, dur in rows:
        conn.execute("INSERT INTO runs (run_id, started_at, task, rule, provider, model, success, attempts,"
                     " input_tokens, output_tokens, cost_usd, duration_ms) VALUES (?,?,?,?,?,?,?,1,?,?,?,?)",
                     (rid, at, json.dumps(task), rule, prov, model, ok, inp, out, cost, dur))
        conn.execute("INSERT INTO attempts (run_id, attempt, started_at, task, provider, provider_type,"
                     " model, rule, success, duration_ms, input_tokens, output_tokens, cost_usd)"
                     " VALUES (?,1,?,?,?,?,?,?,?,?,?,?,?)",
                     (rid, at, json.dumps(task), prov, prov, model, rule, ok, dur, inp, out, cost))
    conn.commit()
    conn.close()


def test_v1_file_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _v1_file(path)
    with HistoryStore(path) as store:
        runs = list(store.runs())
        assert [r.run_id for r in runs] == ["a", "b", "c"]
        assert runs[0].usage == Usage(100, 20, 0, 0)
        assert runs[0].task == {"priority": "high", "labels": ["Bug", "ui"]}
        # labels were backfilled from the stored tasks (arrays and a single string)
        labels = {r.key: r.runs for r in store.stats("label")}
        assert labels == {"bug": 1, "ui": 1, "docs": 1}
        providers = {r.key: (r.runs, r.successes) for r in store.stats("provider")}
        assert providers == {"claude-cli": (2, 1), "openrouter": (1, 1)}
        opus = store.model_stats("claude-cli", "claude-opus-4")
        assert opus is not None and opus.p95_duration_s == pytest.approx(4.0)
        # new columns and tables work on the migrated file
        store.attempt_started("d", 1, "claude-cli", "claude-opus-4", at=40.0)
        assert store.count("slots") == 1
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    cols = {row[1] for row in conn.execute("PRAGMA table_info(attempts)")}
    assert {"cache_read_tokens", "cache_creation_tokens", "retry_after_s"} <= cols
    conn.close()


def test_opening_twice_migrates_once(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _v1_file(path)
    HistoryStore(path).close()
    with HistoryStore(path) as store:
        assert store.count("run_labels") == 3


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(HistoryError, match="newer than this tacroute understands"):
        HistoryStore(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()


def test_a_version_5_file_keeps_its_runs_and_gains_the_run_session_id(tmp_path: Path) -> None:
    from tacroute.types import Decision, RunResult
    from testkit.history import make_attempt, old_history_file

    path = tmp_path / "v5.db"
    conn = old_history_file(path, 5)
    conn.execute("INSERT INTO runs (run_id, started_at, task, provider, model, success, attempts, duration_ms)"
                 " VALUES ('old', 1.0, '{}', 'p', 'm', 1, 1, 10)")
    conn.commit()
    conn.close()
    record = make_attempt("new", started_at=2.0)._replace(session_id="sess-new")
    result = RunResult("new", {}, Decision("p", "m", None, "default"), (record,), True, "p", "m", None,
                       Usage(), None, 10, session_id="sess-new")
    with HistoryStore(path) as store:
        store.record_run(result)
        rows = {r.run_id: r.session_id for r in store.runs()}
    assert rows == {"old": None, "new": "sess-new"}
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


@pytest.mark.parametrize("left", [None, "1.0"])
def test_a_version_6_file_is_migrated_and_gets_a_horizon_bounding_its_cooldowns(
        tmp_path: Path, left: str | None) -> None:
    from tacroute.history.horizon import horizon_path, read_horizon
    from testkit.history import old_history_file

    path = tmp_path / "v6.db"
    conn = old_history_file(path, 6)
    conn.executemany("INSERT INTO cooldowns VALUES (?, ?, ?, 'failures', 'old', 1.0)",
                     [("p", "a", 500.0), ("p", "b", 2_500.0), ("q", "a", 40)])
    conn.commit()
    conn.close()
    if left is not None:  # a horizon of another file (this one restored from a backup): rewritten
        Path(horizon_path(path)).write_text(left)
    with HistoryStore(path, clock=lambda: 2_000.0) as store:
        assert [(c.provider, c.model) for c in store.cooldowns()] == [("p", "b")]
    assert read_horizon(path) == 2_500.0
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
    conn.close()
