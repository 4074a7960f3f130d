"""History figures for the UI, from a cached aggregate so no request scans a million runs.

The history store has no aggregate table, so :class:`StatsCache` keeps one in
the UI process: cost per day per provider/model (UTC days, last
:data:`WINDOW_DAYS` days) and ``HistoryStore.stats`` per provider and per
provider/model. It is recomputed in a background thread when the database
file or its write-ahead log changes (size or mtime), at most once at a time;
requests get the last finished aggregate at once and wait for a first one
at most :data:`FIRST_WAIT_S`. Recent runs (a ``LIMIT`` on an index) are read
per request.

The per-day sums and the attempts of recent runs are read from the store's
``runs`` and ``attempts`` tables directly (read-only), which the store's API
does not offer.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from tacroute_ui import core

__all__ = ["FIRST_WAIT_S", "WINDOW_DAYS", "StatsCache", "recent_runs"]

WINDOW_DAYS = 30
FIRST_WAIT_S = 2.0


def _stamp(path: Path) -> tuple[int, ...]:
    out: list[int] = []
    for p in (path, Path(f"{path}-wal")):
        try:
            st = os.stat(p)
            out += [st.st_size, st.st_mtime_ns]
        except OSError:
            out += [-1, -1]
    return tuple(out)


def _readonly(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5,
                           check_same_thread=False)
    conn.execute("PRAGMA query_only = 1")
    return conn


def compute(path: Path, now: float | None = None) -> dict[str, Any]:
    """The aggregate (see the module docs); ``exists`` False when nothing was recorded yet."""
    now = time.time() if now is None else now
    if not path.exists():
        return {"exists": False, "path": str(path), "computed_at": now}
    since = now - WINDOW_DAYS * 86_400
    first_day = int(since // 86_400)
    with core.HistoryStore(path) as store:
        by_model = [r.as_dict() for r in store.stats(by="model", since=since)]
        by_provider = [r.as_dict() for r in store.stats(by="provider", since=since)]
    conn = _readonly(path)
    try:
        rows = conn.execute(
            "SELECT provider || '/' || model, CAST(started_at / 86400 AS INTEGER), count(*), total(cost_usd)"
            " FROM runs WHERE started_at >= ? GROUP BY 1, 2 ORDER BY 1, 2", (since,)).fetchall()
        (total_runs,) = conn.execute("SELECT count(*) FROM runs").fetchone()
    finally:
        conn.close()
    cost_per_day: dict[str, list[float]] = {}
    for key, day, _n, cost in rows:
        series = cost_per_day.setdefault(str(key), [0.0] * (WINDOW_DAYS + 1))
        i = int(day) - first_day
        if 0 <= i <= WINDOW_DAYS:
            series[i] += float(cost)
    days = [time.strftime("%Y-%m-%d", time.gmtime((first_day + i) * 86_400)) for i in range(WINDOW_DAYS + 1)]
    return {"exists": True, "path": str(path), "computed_at": now, "window_days": WINDOW_DAYS,
            "total_runs": int(total_runs), "days": days, "cost_per_day": cost_per_day,
            "by_model": by_model, "by_provider": by_provider}


class StatsCache:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._data: dict[str, Any] | None = None
        self._data_stamp: tuple[int, ...] | None = None
        self._busy = False
        self._error: str | None = None
        self._closed = False

    def get(self, wait_s: float = FIRST_WAIT_S) -> dict[str, Any]:
        """The newest finished aggregate (``stale`` True while a newer one is being computed)."""
        stamp = _stamp(self.path)
        with self._lock:
            if stamp != self._data_stamp and not self._busy and not self._closed:
                self._busy = True
                threading.Thread(target=self._refresh, args=(stamp,), daemon=True,
                                 name="tacroute-ui-stats").start()
            if self._data is None:
                self._done.wait_for(lambda: not self._busy, timeout=wait_s)
            if self._data is None:
                return {"exists": None, "computing": True, "error": self._error, "path": str(self.path)}
            return {**self._data, "stale": self._busy or stamp != self._data_stamp}

    def _refresh(self, stamp: tuple[int, ...]) -> None:
        data: dict[str, Any] | None = None
        error = None
        try:
            data = compute(self.path)
        except Exception as exc:  # noqa: BLE001 - a damaged file is shown as an error, not a crash
            error = f"cannot read history {self.path}: {exc}"
        with self._lock:
            if data is not None:
                self._data, self._data_stamp = data, stamp
            self._error = error
            self._busy = False
            self._done.notify_all()

    def close(self) -> None:
        with self._lock:
            self._closed = True


def recent_runs(path: Path, limit: int = 50) -> list[dict[str, Any]]:
    """The newest runs, each with its attempts (oldest attempt first)."""
    if not path.exists():
        return []
    with core.HistoryStore(path) as store:
        runs = store.recent(limit)
    out: list[dict[str, Any]] = [{
            "run_id": r.run_id, "started_at": r.started_at, "task": r.task, "rule": r.rule,
            "provider": r.provider, "model": r.model, "success": r.success, "error": r.error,
            "cost_usd": r.cost_usd, "duration_ms": r.duration_ms, "usage": r.usage.as_dict(),
            "attempts": []} for r in runs]
    if not out:
        return out
    by_id = {r["run_id"]: r for r in out}
    conn = _readonly(path)
    try:
        marks = ",".join("?" * len(by_id))
        for row in conn.execute(
                "SELECT run_id, attempt, provider, model, success, error_class, message, duration_ms,"
                f" cost_usd FROM attempts WHERE run_id IN ({marks}) ORDER BY run_id, attempt",
                tuple(by_id)):
            by_id[row[0]]["attempts"].append({
                "attempt": row[1], "provider": row[2], "model": row[3], "success": bool(row[4]),
                "error_class": row[5], "message": row[6], "duration_ms": row[7], "cost_usd": row[8]})
    finally:
        conn.close()
    return out
