"""Whether a task's budgets let it run: the per-decision check, dictionary look-ups only."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import tzinfo

    from tacroute.preferences.model import Budget, Entry, Limit
    from tacroute.preferences.spend import Key, SpendTable

__all__ = ["Verdict", "fmt_time", "fmt_usd", "is_over", "verdict"]


class Verdict(NamedTuple):
    """A budget that is over, and what to say about it."""

    entry: Entry
    key: Key
    budget: Budget
    limit: Limit
    spent: float
    resets_at: float
    #: The whole explanation (decision reason, error message).
    message: str
    #: A few words, for each candidate it passed over.
    short: str


def fmt_usd(usd: float) -> str:
    return f"${usd:,.2f}"


def fmt_time(ts: float, tz: tzinfo | None) -> str:
    """``2025-08-01 00:00 CEST``: a reset time in the budgets' time zone."""
    local = datetime.fromtimestamp(ts, tz) if tz is not None else datetime.fromtimestamp(ts).astimezone()
    return local.strftime("%Y-%m-%d %H:%M %Z").strip()


def is_over(budget: Budget, limit: Limit, spent: float) -> bool:
    """Spent, or less than ``reserve_usd`` left: a run would not start."""
    left = limit.usd - spent
    return left <= 0 or left < budget.reserve_usd


def whose(entry: Entry, key: Key) -> str:
    if key[0].endswith("*"):
        return f"{entry.kind} {entry.pattern!r} (pooled over every {entry.kind} it matches)"
    if key[1] != entry.pattern:
        return f"{entry.kind} {entry.pattern!r} for {key[1]!r}"
    return f"{entry.kind} {entry.pattern!r}"


def verdict(budgets: Sequence[tuple[Entry, Key]], spend: SpendTable, now: float) -> Verdict | None:
    """The budget that stops or downgrades the task, or None. A block wins over a downgrade;
    then the project's budget over the user's."""
    spend.current(now)
    found: Verdict | None = None
    for entry, key in budgets:
        budget = entry.budget
        assert budget is not None
        for limit in budget.limits:
            spent = spend.get(key, limit.period)
            if is_over(budget, limit, spent) and (found is None or budget.over == "block"):
                found = _verdict(entry, key, budget, limit, spent, spend)
                if budget.over == "block" or budget.to is None:
                    return found
    return found


def _verdict(entry: Entry, key: Key, budget: Budget, limit: Limit, spent: float,
             spend: SpendTable, state: str = "is spent") -> Verdict:
    """``state``: what the budget is ("is spent"; a refused hold: spent or held by runs)."""
    resets = spend.bounds(limit.period)[1]
    period = "today" if limit.period == "day" else "this month"
    reserve = f", reserve {fmt_usd(budget.reserve_usd)}" if budget.reserve_usd else ""
    what = f"{'daily' if limit.period == 'day' else 'monthly'} budget of {whose(entry, key)}"
    action = ("blocked" if budget.over == "block" or budget.to is None
              else f"downgraded to {budget.to[0]}/{budget.to[1]}")
    message = (f"{what} {state}: {fmt_usd(spent)} of {fmt_usd(limit.usd)} {period}{reserve}; "
               f"{action} until it resets at {fmt_time(resets, spend.tz)}")
    short = f"{what} {state} ({fmt_usd(spent)} of {fmt_usd(limit.usd)} {period})"
    return Verdict(entry, key, budget, limit, spent, resets, message, short)
