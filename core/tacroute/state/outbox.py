"""The outbox: writes for the shared backend kept on this machine while it cannot be reached.

Spend (a run's or an attempt's cost) and aggregates (a finished attempt) that
fail to reach the shared backend go into a ``state_outbox`` table of the
machine's history database, each under its operation id; when the backend
answers again they are replayed, oldest first (:class:`~tacroute.state.shared.SharedState`),
and a row is deleted once applied. The backend applies an operation id once
(Redis remembers it for eight days), so a replay that is cut short and done
again, two processes replaying the same file, or a write that did reach the
backend before its answer timed out, count once. Rows older than
:data:`MAX_AGE_S` are dropped unreplayed (their id may be forgotten by then).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tacroute.state.api import StateBackend
    from tacroute.types import AttemptRecord

__all__ = ["MAX_AGE_S", "Outbox", "apply", "attempt_body"]

#: Rows older than this are dropped, not replayed.
MAX_AGE_S = 7 * 86_400.0
_TABLE = ("CREATE TABLE IF NOT EXISTS state_outbox (id TEXT PRIMARY KEY, kind TEXT NOT NULL, "
          "body TEXT NOT NULL, at REAL NOT NULL)")


def attempt_body(r: AttemptRecord) -> dict[str, Any]:
    """What the aggregates need of a finished attempt, as JSON."""
    u = r.usage
    return {"provider": r.provider, "model": r.model, "success": r.success,
            "error_class": r.error_class.value if r.error_class is not None else None,
            "started_at": r.started_at, "duration_ms": r.duration_ms, "cost_usd": r.cost_usd,
            "tokens": [u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_creation_tokens]}


def _record(body: dict[str, Any]) -> AttemptRecord:
    from tacroute.types import AttemptRecord, ErrorClass, Usage

    ec = body.get("error_class")
    return AttemptRecord("", 0, {}, str(body["provider"]), "", str(body["model"]), None,
                         bool(body["success"]), None if ec is None else ErrorClass(ec), None, None,
                         float(body["started_at"]),
                         int(body["duration_ms"]), Usage(*(int(t) for t in body["tokens"])),
                         None if body.get("cost_usd") is None else float(body["cost_usd"]), None)


def apply(backend: StateBackend, kind: str, body: dict[str, Any], op_id: str) -> None:
    """Make one write on ``backend`` (raises :class:`~tacroute.state.StateUnavailable`)."""
    if kind == "spend":
        backend.add_spend([(str(k), str(p), float(u)) for k, p, u in body["entries"]], op_id)
    elif kind == "attempt":
        backend.record_attempt(_record(body), op_id)


class Outbox:
    """The ``state_outbox`` table of one history file; thread-safe, never raises (one warning)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._warned = False

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
            conn.execute(_TABLE)
            self._conn = conn
        return self._conn

    def _warn(self, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            print(f"tacroute: warning: state: cannot keep writes for the shared state in {self.path}: {exc}; "
                  "they are lost", file=sys.stderr)

    def put(self, op_id: str, kind: str, body: dict[str, Any]) -> None:
        with self._lock:
            try:
                self._connection().execute(
                    "INSERT OR IGNORE INTO state_outbox (id, kind, body, at) VALUES (?, ?, ?, ?)",
                    (op_id, kind, json.dumps(body), time.time()))
            except (sqlite3.Error, OSError) as exc:
                self._warn(exc)

    def pending(self, limit: int = 500) -> list[tuple[str, str, dict[str, Any]]]:
        """The oldest rows (rows past :data:`MAX_AGE_S` are dropped first)."""
        with self._lock:
            try:
                if not self.path.exists():
                    return []
                conn = self._connection()
                conn.execute("DELETE FROM state_outbox WHERE at < ?", (time.time() - MAX_AGE_S,))
                rows = conn.execute("SELECT id, kind, body FROM state_outbox ORDER BY at, id LIMIT ?",
                                    (limit,)).fetchall()
            except (sqlite3.Error, OSError) as exc:
                self._warn(exc)
                return []
        out = []
        for op_id, kind, body in rows:
            try:
                out.append((str(op_id), str(kind), dict(json.loads(body))))
            except (ValueError, TypeError):
                self.done(str(op_id))  # unreadable: nothing to replay
        return out

    def done(self, op_id: str) -> None:
        with self._lock:
            try:
                self._connection().execute("DELETE FROM state_outbox WHERE id = ?", (op_id,))
            except (sqlite3.Error, OSError) as exc:
                self._warn(exc)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
