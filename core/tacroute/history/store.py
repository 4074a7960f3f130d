"""HistoryStore: the SQLite file every tacroute process on a machine shares.

WAL mode (readers never block the writer), a generous ``busy_timeout`` and
``BEGIN IMMEDIATE`` write transactions (a writer waits for the lock up front,
so it can never fail half-way on a lock upgrade), so several processes record
at once without losing a row. One store may be shared by threads (a lock
serialises its connection); after ``fork`` the child opens its own connection.
The queries are :class:`~tacroute.history.reads.StoreReads`. Every cooldown
stored raises the cooldown horizon beside the file before its transaction
commits (:mod:`tacroute.history.horizon`); opening a store writes a missing one.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacroute.history.damage import HistoryError
from tacroute.history.horizon import horizon_path, raise_horizon
from tacroute.history.reads import Cooldown, LimitsSnapshot, StoreReads
from tacroute.history.schema import BUSY_MS, SCHEMA_VERSION, prepare, use_wal
from tacroute.history.settings import CooldownPolicy

if TYPE_CHECKING:
    from tacroute.types import AttemptRecord, Decision, RunResult, Task

__all__ = ["Cooldown", "HistoryError", "HistoryStore", "LimitsSnapshot"]


def _close_quietly(conn: sqlite3.Connection, pid: int) -> None:
    if os.getpid() == pid:  # a forked child leaves its parent's connection alone
        with suppress(sqlite3.Error):
            conn.close()


def _json(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True, separators=(",", ":"))


class HistoryStore(StoreReads):
    """Records decisions, attempts and runs; answers history, stats and gate queries.

    ``policy`` decides when failed attempts put a provider/model on cooldown
    (default: 3 failures in 600 s -> 300 s); ``clock`` gives "now" in epoch
    seconds (tests inject one).
    """

    def __init__(self, path: str | Path, *, policy: CooldownPolicy | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.policy = policy or CooldownPolicy()
        self.clock = clock
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._closer: weakref.finalize[..., Any] | None = None
        self._connection()

    # ----------------------------------------------------------- connection
    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_MS / 1000, isolation_level=None,
                                   check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"cannot open history database {self.path}: {exc}") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
            mode = use_wal(conn)
            if str(mode).lower() != "wal":
                raise HistoryError(f"history database {self.path} cannot use WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version != SCHEMA_VERSION:
                prepare(conn, self.path)
            elif not os.path.lexists(horizon_path(self.path)):
                with suppress(sqlite3.Error):  # a file it cannot write to: readers read the database
                    prepare(conn, self.path)
        except (ValueError, HistoryError) as exc:
            conn.close()
            raise HistoryError(f"history database {self.path}: {exc}") from exc
        except sqlite3.Error as exc:
            conn.close()
            raise HistoryError(f"history database {self.path} is not usable: {exc}") from exc
        self._conn, self._pid = conn, os.getpid()
        # Closed when the store is dropped or at exit (also before the console
        # script's os._exit): a connection left open leaves its write-ahead log
        # for the next process to recover, which costs it milliseconds.
        self._closer = weakref.finalize(self, _close_quietly, conn, self._pid)
        return conn

    def close(self) -> None:
        """Close the connection (the store reopens it if used again)."""
        with self._lock:
            if self._closer is not None:
                self._closer.detach()
                self._closer = None
            if self._conn is not None and self._pid == os.getpid():
                with suppress(sqlite3.Error):  # a damaged file: nothing more to save
                    self._conn.close()
            self._conn = None

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _damaged(self, exc: sqlite3.Error) -> HistoryError:
        return HistoryError(f"history database {self.path} is damaged or cannot be used: {exc}")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; any SQLite failure in it becomes a :class:`HistoryError`."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._damaged(exc) from exc

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads; any SQLite failure becomes a :class:`HistoryError`."""
        with self._lock:
            conn = self._connection()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise self._damaged(exc) from exc

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with self._reading() as conn:
            return conn.execute(sql, args).fetchall()

    # -------------------------------------------------------------- recording
    def record_decision(self, decision: Decision, task: Task, at: float | None = None) -> None:
        """Store one routing decision (what was chosen, the fallbacks, what was skipped and why)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO decisions (at, task, rule, provider, model, reason, available, fallbacks, "
                "skipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self.clock() if at is None else at, _json(dict(task)), decision.rule,
                 decision.provider, decision.model, decision.reason, int(decision.available),
                 _json([c.as_dict() for c in decision.fallbacks]),
                 _json([c.as_dict() for c in decision.skipped])))

    def attempt_started(self, run_id: str, attempt: int, provider: str, model: str,
                        at: float | None = None, pid: int | None = None) -> None:
        """Mark an attempt as running (for ``max_concurrent``) and started (for ``rpm``).

        Records without checking the limits (the observer hook; a slot the
        runner took with :func:`tacroute.history.slots.acquire` is kept as is).
        """
        from tacroute.history.slots import process_start, prune  # writing only: not loaded to route

        now = self.clock() if at is None else at
        owner = os.getpid() if pid is None else pid
        with self._write() as conn:
            prune(conn, now)
            conn.execute("INSERT OR IGNORE INTO slots (provider, model, run_id, attempt, pid, pid_start,"
                         " started_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (provider, model, run_id, attempt, owner, process_start(owner), now))

    def record_attempt(self, record: AttemptRecord) -> None:
        """Store one attempt, close its slot, and start or end a cooldown."""
        from tacroute.bounds import bound_cost, bound_retry_after, bound_usage  # writing only: the run types
        from tacroute.history.records import redact

        u = bound_usage(record.usage, [])
        end = record.started_at + record.duration_ms / 1000
        error_class = str(record.error_class) if record.error_class is not None else None
        with self._write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO attempts (run_id, attempt, started_at, task, provider, provider_type,"
                " model, rule, success, error_class, message, exit_code, duration_ms, input_tokens,"
                " output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, output_file,"
                " retry_after_s, session_id, cost_source, reasoning_tokens)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.run_id, record.attempt, record.started_at, _json(dict(record.task)),
                 record.provider, record.provider_type, record.model, record.rule, int(record.success),
                 error_class, redact(record.message), record.exit_code, record.duration_ms,
                 u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_creation_tokens,
                 bound_cost(record.cost_usd, []), record.output_file,
                 bound_retry_after(record.retry_after_s, []), _short(record.session_id),
                 _source(record.cost_source), u.reasoning_tokens))
            if cur.rowcount == 0:
                return  # already recorded (the hook fired twice): nothing more to do
            ended = conn.execute("UPDATE slots SET ended_at = ? WHERE run_id = ? AND attempt = ?",
                                 (end, record.run_id, record.attempt))
            if ended.rowcount == 0:
                conn.execute("INSERT OR IGNORE INTO slots (provider, model, run_id, attempt, pid, started_at,"
                             " ended_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (record.provider, record.model, record.run_id, record.attempt, os.getpid(),
                              record.started_at, end))
            self._update_cooldown(conn, record, end)

    def _update_cooldown(self, conn: sqlite3.Connection, record: AttemptRecord, end: float) -> None:
        from tacroute.bounds import bound_retry_after  # writing only: the run types
        policy = self.policy
        key = (record.provider, record.model)
        if record.success:
            conn.execute("DELETE FROM cooldowns WHERE provider = ? AND model = ? AND kind = 'failures'", key)
            return
        # A cancelled attempt (stopped on purpose) never counts, whatever the policy lists.
        cls = record.error_class
        if not policy.enabled or cls == "cancelled" or cls not in policy.error_classes:
            return
        if record.error_class == "rate_limit":
            retry = bound_retry_after(record.retry_after_s, [])
            wait = min(retry if retry else policy.cooldown_s, policy.max_cooldown_s)
            how = f"retry-after {retry:g} s" if retry else "no retry-after given"
            if retry and retry > wait:
                how += f", cut to max_cooldown_s {wait:g} s"
            self._set_cooldown(conn, key, end + wait, "rate_limit", f"rate limited ({how})", end)
            return
        rows = conn.execute("SELECT started_at, success, error_class FROM attempts WHERE provider = ? "
                            "AND model = ? AND started_at >= ? ORDER BY started_at",
                            (*key, end - policy.window_s)).fetchall()
        classes = {str(c) for c in policy.error_classes} - {"cancelled"}
        count = 0
        for _, ok, cls in rows:
            if ok:
                count = 0  # a success in between: the failures before it do not count
            elif cls in classes:
                count += 1
        if count >= policy.failures:
            self._set_cooldown(conn, key, end + min(policy.cooldown_s, policy.max_cooldown_s), "failures",
                               f"{count} failures within {policy.window_s:g} s (last: {record.error_class})",
                               end)

    def _set_cooldown(self, conn: sqlite3.Connection, key: tuple[str, str], until: float, kind: str,
                      reason: str, now: float) -> None:
        cur = conn.execute("INSERT INTO cooldowns (provider, model, until, kind, reason, set_at) "
                     "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (provider, model) DO UPDATE SET "
                     "until = excluded.until, kind = excluded.kind, reason = excluded.reason, "
                     "set_at = excluded.set_at WHERE excluded.until > cooldowns.until",
                     (*key, until, kind, reason, now))
        if cur.rowcount:  # before the commit: the horizon never says less than a stored cooldown
            raise_horizon(self.path, conn, until)

    def record_run(self, result: RunResult) -> None:
        """Store a finished run (totals over its attempts) and its labels."""
        from tacroute.bounds import bound_cost, bound_usage  # writing only: the run types
        from tacroute.history.records import labels_of, redact, run_figures

        fig = run_figures(result, self.clock)
        u = bound_usage(fig.usage, [])
        cost = bound_cost(fig.cost_usd, [])
        with self._write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO runs (run_id, started_at, task, rule, provider, model, success, error,"
                " attempts, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,"
                " cost_usd, duration_ms, cost_source, session_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (result.run_id, fig.started_at, _json(dict(result.task)), result.decision.rule,
                 fig.provider, fig.model, int(result.success), redact(fig.error), len(result.attempts),
                 u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_creation_tokens,
                 cost, result.duration_ms, _source(fig.cost_source) if cost is not None else None,
                 _short(result.session_id)))
            if cur.rowcount == 0:
                return
            row_id = cur.lastrowid
            conn.executemany(
                "INSERT OR IGNORE INTO run_labels (run, label, started_at, success, duration_ms,"
                " input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(row_id, label, fig.started_at, int(result.success), result.duration_ms, u.input_tokens,
                  u.output_tokens, u.cache_read_tokens, u.cache_creation_tokens, cost)
                 for label in labels_of(result.task)])


def _source(value: str | None) -> str | None:
    """A cost source as stored: one of the two known words, else nothing."""
    return value if value in ("reported", "estimated") else None


def _short(value: str | None) -> str | None:
    """A session id as stored: text, at most 200 characters."""
    return value[:200] if isinstance(value, str) else None
