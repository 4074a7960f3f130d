"""Bounds on the figures a worker reports: token counts, cost, retry-after.

A worker (or its output parser) is outside tacroute's control: it may report
``10**30`` tokens, a negative count, a ``NaN`` cost or a ``Retry-After`` of
``1e12`` seconds. The runner passes every parsed :class:`~tacroute.types.Outcome`
through :func:`bound_outcome` once, so the run's ``--json`` output and the
history agree, and the history store applies the same bounds to what it is
handed directly. Out-of-range values are clamped (counts, retry-after) or
dropped (cost: unknown), each with a diagnostic saying what was reported.
"""

from __future__ import annotations

import math
from typing import Any

from tacroute.types import Outcome, Usage

__all__ = ["MAX_RETRY_AFTER_S", "MAX_TOKENS", "bound_cost", "bound_count", "bound_outcome",
           "bound_retry_after", "bound_usage"]

#: Largest token count kept per field (2**53: exact as a float, fits SQLite's INTEGER).
MAX_TOKENS = 2**53
#: Longest retry-after kept (one day); the history clamps cooldowns further
#: (``[history.cooldown] max_cooldown_s``) and the runner waits at most
#: ``[runner] max_retry_after``.
MAX_RETRY_AFTER_S = 86_400.0
_MAX_FLOAT = 1.7976931348623157e308


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def bound_count(value: Any, name: str, notes: list[str]) -> int:
    """``value`` as a token count in ``[0, MAX_TOKENS]``; a note in ``notes`` when it was not."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value):
        kept = 0 if value < 0 else MAX_TOKENS if value > MAX_TOKENS else int(value)
    else:
        kept = 0
    notes.append(f"{name} {_show(value)} is not a token count in [0, 2**53]; kept as {kept}")
    return kept


def bound_usage(usage: Usage, notes: list[str]) -> Usage:
    """``usage`` with every field a count in ``[0, MAX_TOKENS]``."""
    a, b, c, d, e = usage
    if (type(a) is int and type(b) is int and type(c) is int and type(d) is int  # not bool
            and type(e) is int and min(a, b, c, d, e) >= 0 and max(a, b, c, d, e) <= MAX_TOKENS):
        return usage  # the common case, kept cheap: history reads a million rows through here
    return Usage(*(bound_count(v, name, notes) for v, name in zip(usage, Usage._fields)))


def bound_cost(value: Any, notes: list[str]) -> float | None:
    """A finite, non-negative cost in USD, or None (unknown) with a note."""
    if value is None or (type(value) is float and 0.0 <= value <= _MAX_FLOAT):  # NaN fails the test
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            cost = float(value)
        except OverflowError:
            cost = math.inf
        if math.isfinite(cost) and cost >= 0:
            return cost
    notes.append(f"cost_usd {_show(value)} is not a finite, non-negative amount; kept as unknown")
    return None


def bound_retry_after(value: Any, notes: list[str]) -> float | None:
    """Seconds in ``[0, MAX_RETRY_AFTER_S]``; None for a value that is no number (NaN, text)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not (
            isinstance(value, float) and math.isnan(value)):
        if 0 <= value <= MAX_RETRY_AFTER_S:
            return float(value)
        kept = 0.0 if value < 0 else MAX_RETRY_AFTER_S
        notes.append(f"retry_after_s {_show(value)} is out of range; kept as {kept:g}")
        return kept
    notes.append(f"retry_after_s {_show(value)} is not a number of seconds; ignored")
    return None


def bound_outcome(outcome: Outcome) -> tuple[Outcome, list[str]]:
    """``outcome`` with its usage, cost and retry-after bounded, and what was changed.

    The notes are also appended to the outcome's ``diagnostics``.
    """
    notes: list[str] = []
    usage = bound_usage(outcome.usage, notes)
    cost = bound_cost(outcome.cost_usd, notes)
    retry = bound_retry_after(outcome.retry_after_s, notes)
    if not notes:
        return outcome, notes
    return outcome._replace(usage=usage, cost_usd=cost, retry_after_s=retry,
                            diagnostics=(*outcome.diagnostics, *notes)), notes
