"""A cheap "what hour is it" for ``hour_range`` conditions.

``datetime.now(tz)`` costs about a microsecond; a routing decision has a
budget of two. The clock computes the hour once and reuses it until the next
quarter-hour boundary (every UTC offset in use is a multiple of 15 minutes, so
the local hour can only change on such a boundary).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import tzinfo

__all__ = ["HourClock"]

_QUARTER = 900.0


class HourClock:
    """The current hour (0..23) in ``tz`` (None: local time)."""

    __slots__ = ("_expires", "_hour", "tz")

    def __init__(self, tz: tzinfo | None = None) -> None:
        self.tz = tz
        self._hour = 0
        self._expires = 0.0

    def hour(self) -> int:
        now = time.time()
        if now >= self._expires:
            if self.tz is None:
                self._hour = time.localtime(now).tm_hour
            else:
                from datetime import datetime

                self._hour = datetime.fromtimestamp(now, self.tz).hour
            self._expires = (now // _QUARTER + 1) * _QUARTER
        return self._hour
