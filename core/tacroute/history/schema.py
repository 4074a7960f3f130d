"""The history database's schema and its migrations.

``PRAGMA user_version`` holds the schema version. :data:`MIGRATIONS` lists the
steps from an empty file to the current version; opening a store runs the
missing ones in one ``BEGIN IMMEDIATE`` transaction (:func:`prepare`, which also
writes the cooldown horizon), so several processes opening an old file at once
migrate it exactly once.

Layout, chosen for ``tacroute stats`` over a million runs:

- ``runs``: one row per finished run (what :meth:`HistoryStore.runs` reads).
  ``runs_agg`` is a covering index, so the sums per provider/model/rule are one
  index scan with no table look-ups and no sort; ``runs_*_dur`` keep the
  durations sorted per key, so a percentile is an ``OFFSET`` into the index.
- ``run_labels``: one row per (run, label) with the run's figures copied, for
  the same two tricks per label.
- ``attempts``: one row per try; ``attempts_stats`` serves
  :meth:`HistoryStore.model_stats` and the cooldown failure count;
  ``attempts_cancelled`` (partial) the cancelled ones, which rates leave out.
- ``decisions``, ``cooldowns`` (provider/model skipped until a time) and
  ``slots`` (attempt starts and ends with the owner's pid and process start
  time, for ``max_concurrent`` and ``rpm``; see :mod:`tacroute.history.slots`).
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["BUSY_MS", "MIGRATIONS", "SCHEMA_VERSION", "migrate", "prepare", "use_wal"]

#: How long a statement waits for another process's lock (``busy_timeout``).
BUSY_MS = 30_000

_V1 = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    started_at REAL NOT NULL,
    task TEXT NOT NULL,
    rule TEXT,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    success INTEGER NOT NULL,
    error TEXT,
    attempts INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX runs_started ON runs(started_at);
CREATE TABLE attempts (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at REAL NOT NULL,
    task TEXT NOT NULL,
    provider TEXT NOT NULL,
    provider_type TEXT NOT NULL,
    model TEXT NOT NULL,
    rule TEXT,
    success INTEGER NOT NULL,
    error_class TEXT,
    message TEXT,
    exit_code INTEGER,
    duration_ms INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,
    output_file TEXT,
    UNIQUE (run_id, attempt)
);
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    task TEXT NOT NULL,
    rule TEXT,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    reason TEXT NOT NULL,
    available INTEGER NOT NULL,
    fallbacks TEXT NOT NULL,
    skipped TEXT NOT NULL
);
CREATE TABLE cooldowns (
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    until REAL NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    set_at REAL NOT NULL,
    PRIMARY KEY (provider, model)
);
"""

# Version 2: cache token counts, retry-after, per-label rows, attempt slots for
# rate limits, and the indexes that make ``stats`` fast.
_V2 = """
ALTER TABLE runs ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cache_creation_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN cache_creation_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN retry_after_s REAL;
CREATE INDEX runs_agg ON runs(provider, model, rule, started_at, success, duration_ms, input_tokens,
    output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd);
CREATE INDEX runs_provider_dur ON runs(provider, duration_ms, started_at);
CREATE INDEX runs_model_dur ON runs(provider, model, duration_ms, started_at);
CREATE INDEX runs_rule_dur ON runs(rule, duration_ms, started_at);
CREATE INDEX attempts_stats ON attempts(provider, model, success, duration_ms, started_at);
CREATE INDEX attempts_recent ON attempts(provider, model, started_at);
CREATE TABLE run_labels (
    run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    started_at REAL NOT NULL,
    success INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_creation_tokens INTEGER NOT NULL,
    cost_usd REAL,
    PRIMARY KEY (run, label)
);
CREATE INDEX run_labels_agg ON run_labels(label, started_at, success, duration_ms, input_tokens,
    output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd);
CREATE INDEX run_labels_dur ON run_labels(label, duration_ms, started_at);
INSERT OR IGNORE INTO run_labels
    SELECT r.id, lower(CAST(j.value AS TEXT)), r.started_at, r.success, r.duration_ms, r.input_tokens,
           r.output_tokens, r.cache_read_tokens, r.cache_creation_tokens, r.cost_usd
    FROM runs AS r, json_each(r.task, '$.labels') AS j
    WHERE json_valid(r.task) AND json_type(r.task, '$.labels') = 'array';
INSERT OR IGNORE INTO run_labels
    SELECT r.id, lower(json_extract(r.task, '$.labels')), r.started_at, r.success, r.duration_ms,
           r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_creation_tokens, r.cost_usd
    FROM runs AS r
    WHERE json_valid(r.task) AND json_type(r.task, '$.labels') = 'text';
CREATE TABLE slots (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    run_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    UNIQUE (run_id, attempt)
);
CREATE INDEX slots_provider ON slots(provider, started_at);
"""

# Version 3: cancelled attempts (a stopped run) count toward no success or
# failure rate; this small partial index finds them without reading the table.
_V3 = """
CREATE INDEX attempts_cancelled ON attempts(provider, model, started_at) WHERE error_class = 'cancelled';
"""

# Version 4: a slot names its owner by pid and process start time (a recycled pid
# is not the owner), and the open slots have their own index (every slot taken
# counts them).
_V4 = """
ALTER TABLE slots ADD COLUMN pid_start INTEGER;
CREATE INDEX slots_open ON slots(provider, started_at) WHERE ended_at IS NULL;
"""

# Version 5: the program's session id, reasoning tokens and where each cost comes
# from ("reported" by the provider or "estimated" by tacroute); a small partial
# index finds the runs with estimated costs for ``stats``.
_V5 = """
ALTER TABLE attempts ADD COLUMN session_id TEXT;
ALTER TABLE attempts ADD COLUMN cost_source TEXT;
ALTER TABLE attempts ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cost_source TEXT;
CREATE INDEX runs_estimated ON runs(provider, model, rule, started_at, cost_usd)
    WHERE cost_source = 'estimated';
"""

# Version 6: the run's session id (its winning attempt's, or its last attempt's when
# every attempt failed), so a coordinator finds the conversation from the run.
_V6 = """
ALTER TABLE runs ADD COLUMN session_id TEXT;
"""

# Version 7: no table changes. Beside the file, the cooldown horizon
# (:mod:`tacroute.history.horizon`) bounds every cooldown's end; a tacroute before
# it would store cooldowns without raising the bound (and routing would miss them),
# so the version makes it refuse the file. Opening a store at this step writes the bound.
_V7 = ""

#: ``MIGRATIONS[i]`` takes a database from version ``i`` to ``i + 1``.
MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION` inside the caller's transaction.

    Returns the version the file had. Raises ``ValueError`` for a file written
    by a newer tacroute (its schema is unknown here, so nothing is touched).
    """
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise ValueError(f"schema version {version} is newer than this tacroute understands "
                         f"({SCHEMA_VERSION}); upgrade tacroute")
    for step in MIGRATIONS[version:]:
        for statement in _statements(step):
            conn.execute(statement)
    if version != SCHEMA_VERSION:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return int(version)


def prepare(conn: sqlite3.Connection, db: str | Path) -> None:
    """:func:`migrate` and (re)write the cooldown horizon of the database ``db``
    (:mod:`tacroute.history.horizon`) in one ``BEGIN IMMEDIATE`` transaction."""
    from tacroute.history.horizon import create_horizon

    conn.execute("BEGIN IMMEDIATE")
    try:
        migrate(conn)
        create_horizon(db, conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (``executescript`` would commit)."""
    out: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


def use_wal(conn: sqlite3.Connection) -> str:
    """Switch to WAL mode, waiting out other processes like every other statement does.

    SQLite answers ``database is locked`` at once, without calling the busy
    handler, when several processes open a new file together; giving up there
    would leave a process without history (and so without its limits).
    """
    deadline = time.monotonic() + BUSY_MS / 1000
    delay = 0.001
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
