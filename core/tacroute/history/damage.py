"""What the history layer does with damage: a broken file, a bad row.

History is advisory for routing and running: when its database cannot be
read or written (damaged pages, a file that is no database, a newer schema),
``route`` and ``run`` say so once on stderr and go on without it
(:func:`give_up`); the rest of the process then leaves that file alone
(:func:`is_broken`). A single row that makes no sense (a cooldown ending in
the year 33715, a NULL where a number belongs) is skipped with a warning
instead (:func:`warn`), and everything else is still read.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from tacroute.errors import TacrouteError

__all__ = ["MAX_TIMESTAMP", "HistoryError", "give_up", "is_broken", "reset", "timestamp", "warn"]

#: Latest epoch time every ``datetime`` on any platform can show (9999-12-30).
MAX_TIMESTAMP = 253_402_128_000.0
#: Earliest accepted (0001-01-02), so ``datetime.fromtimestamp`` never overflows.
MIN_TIMESTAMP = -62_135_510_400.0

_lock = threading.Lock()
_warned: set[str] = set()
_broken: set[str] = set()


class HistoryError(TacrouteError):
    """The history database cannot be used (unreadable, newer schema, ...)."""


def warn(text: str, once_per: str | None = None) -> None:
    """Print ``tacroute: warning: text`` on stderr, once per process for the same
    ``once_per`` (default: the same text)."""
    key = text if once_per is None else once_per
    with _lock:
        if key in _warned:
            return
        _warned.add(key)
    print(f"tacroute: warning: {text}", file=sys.stderr)


def give_up(path: Any, error: Exception) -> None:
    """Stop using the history file at ``path`` in this process, saying why once."""
    with _lock:
        first = str(path) not in _broken
        _broken.add(str(path))
    if first:
        warn(f"{error}; going on without history")


def is_broken(path: Any) -> bool:
    """Whether :func:`give_up` was called for ``path`` in this process."""
    return str(path) in _broken


def reset() -> None:
    """Forget broken files and warnings already given (tests, long-running hosts)."""
    with _lock:
        _warned.clear()
        _broken.clear()


def timestamp(value: Any) -> float:
    """``value`` as epoch seconds a ``datetime`` can show; ``ValueError`` when it is not."""
    if type(value) is float and MIN_TIMESTAMP <= value <= MAX_TIMESTAMP:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and \
            MIN_TIMESTAMP <= value <= MAX_TIMESTAMP:  # False for NaN
        return float(value)
    raise ValueError(f"{repr(value)[:40]} is not a time")
