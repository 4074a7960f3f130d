"""Budget holds in one machine's history database: the embedded backend's half of a reservation.

Two tables, created on first use: ``spend`` (the ledger: key, period -> usd) and
``budget_holds`` (one row per reservation of a held slot: its run and attempt,
key, period, the estimate held, and its owner's pid and start time). Taking a
slot with reservations (:func:`hold`) and giving it back with the actual cost
(:func:`settle`) each run inside the slot's ``BEGIN IMMEDIATE`` transaction, so
every process sharing the file sees spend and holds change together. The holds
of a process that died are dropped by the next :func:`hold` (like its slots).
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Sequence

from tacroute.history.slots import SLOT_MAX_AGE_S, BudgetRefused, owner_alive, process_start
from tacroute.state.api import Reservation, refuses

__all__ = ["SPEND_TABLE", "add", "hold", "settle"]

SPEND_TABLE = ("CREATE TABLE IF NOT EXISTS spend (key TEXT NOT NULL, period TEXT NOT NULL, "
               "usd REAL NOT NULL, PRIMARY KEY (key, period))")
_HOLDS_TABLE = ("CREATE TABLE IF NOT EXISTS budget_holds (run_id TEXT NOT NULL, attempt INTEGER NOT NULL, "
                "key TEXT NOT NULL, period TEXT NOT NULL, usd REAL NOT NULL, pid INTEGER NOT NULL, "
                "pid_start INTEGER, at REAL NOT NULL)")


def add(conn: sqlite3.Connection, key: str, period: str, usd: float) -> float:
    """Add ``usd`` to the ledger (inside the caller's transaction); the new total."""
    conn.execute("INSERT INTO spend (key, period, usd) VALUES (?, ?, ?) ON CONFLICT (key, period) "
                 "DO UPDATE SET usd = usd + excluded.usd", (key, period, usd))
    return float(conn.execute("SELECT usd FROM spend WHERE key = ? AND period = ?",
                              (key, period)).fetchone()[0])


def _drop_dead(conn: sqlite3.Connection, now: float) -> None:
    conn.execute("DELETE FROM budget_holds WHERE at < ?", (now - SLOT_MAX_AGE_S,))
    for pid, start in conn.execute("SELECT DISTINCT pid, pid_start FROM budget_holds").fetchall():
        if not owner_alive(int(pid), None if start is None else int(start)):
            conn.execute("DELETE FROM budget_holds WHERE pid = ? AND pid_start IS ?", (pid, start))


def hold(conn: sqlite3.Connection, run_id: str, attempt: int, reserve: Sequence[Reservation],
         now: float) -> BudgetRefused | None:
    """Hold every reservation when none refuses (inside the caller's write transaction); else the
    refusal, with nothing written."""
    conn.execute(SPEND_TABLE)
    conn.execute(_HOLDS_TABLE)
    _drop_dead(conn, now)
    for r in reserve:
        if r.cap < 0:
            continue
        row = conn.execute("SELECT usd FROM spend WHERE key = ? AND period = ?", (r.key, r.period)).fetchone()
        (held,) = conn.execute("SELECT total(usd) FROM budget_holds WHERE key = ? AND period = ?",
                               (r.key, r.period)).fetchone()
        committed = max(float(row[0]) if row else 0.0, r.floor) + float(held)
        if refuses(r, committed):
            return BudgetRefused(r.key, r.period, committed, r.cap)
    pid = os.getpid()
    start = process_start(pid)
    conn.executemany("INSERT INTO budget_holds (run_id, attempt, key, period, usd, pid, pid_start, at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     [(run_id, attempt, r.key, r.period, r.usd if r.cap >= 0 else 0.0, pid, start, now)
                      for r in reserve])
    return None


def settle(conn: sqlite3.Connection, run_id: str, attempt: int, spent: float) -> None:
    """Replace the holds of ``run_id``/``attempt`` by ``spent``, added to each one's key and period."""
    conn.execute(SPEND_TABLE)
    conn.execute(_HOLDS_TABLE)
    rows = conn.execute("SELECT DISTINCT key, period FROM budget_holds WHERE run_id = ? AND attempt = ?",
                        (run_id, attempt)).fetchall()
    if spent > 0 and math.isfinite(spent):
        for key, period in rows:
            add(conn, str(key), str(period), spent)
    conn.execute("DELETE FROM budget_holds WHERE run_id = ? AND attempt = ?", (run_id, attempt))
