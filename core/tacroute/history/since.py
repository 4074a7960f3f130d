"""``--since 7d``: a span back from now, or a date, as epoch seconds."""

from __future__ import annotations

import re
from datetime import datetime

from tacroute.errors import UsageError

__all__ = ["parse_since"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_VALID = "give a span back from now (90s, 30m, 12h, 7d, 2w) or a date (2026-11-01, 2026-11-01T08:00)"


def parse_since(text: str, now: float) -> float:
    """``90s``, ``30m``, ``12h``, ``7d``, ``2w`` back from ``now``, or an ISO date/time.

    A date without a time zone is local time. Raises :class:`UsageError`
    saying what is valid, also for a span reaching back before the year 1.
    """
    m = _SPAN.match(text)
    if m:
        when = now - float(m.group(1)) * _UNITS[m.group(2).lower()]
        try:
            datetime.fromtimestamp(when)  # the time must be one a calendar (and the output) can show
        except (OverflowError, OSError, ValueError):
            raise UsageError(f"--since {text!r} reaches back too far: {_VALID}") from None
        return when
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except (OverflowError, OSError, ValueError):
        raise UsageError(f"--since {text!r}: {_VALID}") from None
