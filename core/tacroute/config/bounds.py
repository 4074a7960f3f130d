"""Bounds of the numeric settings: durations in seconds and counts.

A duration must be a finite number of seconds, at least 0 (or more than 0),
and at most :data:`MAX_SECONDS` (ten years): ``inf``, ``nan``, ``1e400``, a
400-digit integer and negative values are refused wherever a duration is
read (config tables, the CLI's ``--timeout``, ``run_task(timeout=...)``), so
no timer is ever handed a value it cannot hold. Counts have an upper bound
each (:data:`MAX_COUNTS`) besides their lower one.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["MAX_COUNTS", "MAX_SECONDS", "count_too_large", "seconds_problem"]

#: The longest duration accepted anywhere: ten years.
MAX_SECONDS = 10 * 365 * 24 * 3600
#: The largest value of each count setting.
MAX_COUNTS = {"max_attempts": 1_000, "max_concurrent": 10_000, "rpm": 1_000_000}


def seconds_problem(value: Any, *, zero_ok: bool) -> str | None:
    """What is wrong with ``value`` as a duration in seconds, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        number = math.nan
    else:
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
    if not (number >= 0 if zero_ok else number > 0) or number > MAX_SECONDS:
        shown = repr(value) if number != math.inf or not isinstance(value, int) else "a huge integer"
        return (f"must be a {'non-negative' if zero_ok else 'positive'} number of seconds, at most "
                f"{MAX_SECONDS:,} (ten years), not {shown}")
    return None


def count_too_large(key: str, value: int) -> str | None:
    """The message when ``value`` is above the bound of count setting ``key``, or None."""
    high = MAX_COUNTS[key]
    if value <= high:
        return None
    shown = f"{value:,}" if value.bit_length() < 100 else "a huge integer"
    return f"must be at most {high:,}, not {shown}"
