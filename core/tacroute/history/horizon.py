"""The cooldown horizon: a file beside the history database that lets routing skip reading it.

``<history.db>-cooldowns`` holds one number (epoch seconds): an upper bound
of the ``until`` of every cooldown row the database holds. When it exists, is
readable and is not later than now, no cooldown can be running, so a router
without provider limits needs neither SQLite nor the database
(:meth:`tacroute.history.HistoryGate.skip_reason`). Anything else (no file,
an empty or garbled one, NaN, infinity, a directory in its place) means "read
the database", so deleting the file is always safe.

Only writers keep it, inside their ``BEGIN IMMEDIATE`` transaction (which
serialises them) and before they commit: a cooldown raises it
(:func:`raise_horizon`); opening a store creates it when it is missing
(:func:`create_horizon`). A cooldown row deleted (a success ends a failures
cooldown) leaves it as it is: still an upper bound. When it cannot be written
it is removed; when even that fails the write is refused
(:class:`~tacroute.history.damage.HistoryError`), so the bound never lies.
Rows written behind tacroute's back (by hand, a restored backup) are not
covered: delete the file after such an edit.

Loaded by routing, so it imports neither SQLite nor the store.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from tacroute.history.damage import HistoryError

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

__all__ = ["create_horizon", "horizon_path", "passed", "raise_horizon", "read_horizon"]

_INF = float("inf")
#: Longer than any float's text: a longer file is not one of ours.
_MAX_BYTES = 64


def horizon_path(db: str | Path) -> str:
    """The horizon file of the database ``db``."""
    return f"{db}-cooldowns"


def read_horizon(db: str | Path) -> float | None:
    """The horizon of ``db``, or None when there is no usable one (missing, unreadable,
    not a finite number): then only the database can tell."""
    try:
        with open(horizon_path(db), "rb") as fh:
            data = fh.read(_MAX_BYTES + 1)
        value = float(data)
    except (OSError, ValueError):
        return None
    return value if len(data) <= _MAX_BYTES and -_INF < value < _INF else None


def passed(db: str | Path, now: float) -> bool:
    """True when the horizon of ``db`` proves no cooldown runs at ``now`` or later."""
    horizon = read_horizon(db)
    return horizon is not None and horizon <= now


def _store(db: str | Path, value: float) -> None:
    """Make the horizon file say ``value``; remove it when it cannot be written; raise
    :class:`HistoryError` when a file a reader would believe is left saying less."""
    from tacroute.paths import write_cache_file  # writers only

    path = horizon_path(db)
    if write_cache_file(path, repr(float(value)).encode("ascii")):
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        left = read_horizon(db)
        if left is not None and not left >= value:
            raise HistoryError(f"cannot update the cooldown horizon {path}: {exc}") from exc


def _highest(conn: sqlite3.Connection) -> float:
    """The latest ``until`` of the rows that can make a cooldown (a row whose ``until`` is
    no number never does: the readers skip it as damaged)."""
    (top,) = conn.execute("SELECT max(until) FROM cooldowns WHERE typeof(until) IN ('real', 'integer')"
                          ).fetchone()
    return 0.0 if top is None else float(top)


def create_horizon(db: str | Path, conn: sqlite3.Connection) -> None:
    """Write the horizon from the cooldown rows, in the caller's write transaction."""
    _store(db, _highest(conn))


def raise_horizon(db: str | Path, conn: sqlite3.Connection, until: float) -> None:
    """Raise the horizon to cover a cooldown ending at ``until``, in the write transaction
    that stores it (before its commit)."""
    current = read_horizon(db)
    if current is not None and current >= until:
        return
    _store(db, until if current is not None else max(until, _highest(conn)))
