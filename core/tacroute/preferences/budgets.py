"""Every budget's state now: what ``tacroute budgets`` prints and the web UI's ``/api/budgets`` serves."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tacroute.preferences.budgetcheck import is_over
from tacroute.preferences.model import is_glob
from tacroute.preferences.spend import HistorySpend, SpendTable, budget_key
from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    from tacroute.config.model import Config

__all__ = ["BudgetState", "budget_states"]


class BudgetState(NamedTuple):
    """One budget amount for one project or user (or the pool of a shared glob entry)."""

    kind: str
    #: The entry's name or glob, as the config writes it.
    entry: str
    #: The project or user the amount is counted for (the entry's pattern for a pool).
    name: str
    shared: bool
    period: str
    limit_usd: float
    spent_usd: float
    remaining_usd: float
    #: "ok", "downgraded" or "blocked".
    state: str
    over: str
    to: str | None
    reserve_usd: float
    #: When the period ends (ISO 8601, in routing.timezone).
    resets_at: str

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


def budget_states(config: Config, store: Any = None, now: float | None = None,
                  spend: SpendTable | None = None) -> list[BudgetState]:
    """Every budget of ``config`` with its spend for the period holding ``now``.

    The spend comes from ``spend`` when given (a table already current), else
    from the history file: ``store`` (a :class:`~tacroute.history.HistoryStore`,
    its path is read) or the config's ``[history]`` file. A glob entry that
    is not shared has one row per project (user) it governs that spent this
    month, or one row for the pattern when none did.
    """
    from tacroute.preferences import preferences
    from tacroute.pricing import PricingTable

    now = time.time() if now is None else now
    prefs = preferences(config)
    if spend is None and store is None and "state" in config.raw:
        from tacroute.preferences.spend import shared_spend

        spend = shared_spend(config, prefs)  # with a shared [state]: the whole fleet's spend
    if spend is None:
        path = getattr(store, "path", None) or config.history.path
        spend = HistorySpend(prefs, config.timezone, path, PricingTable.load(config.raw))
    spend.current(now)
    out: list[BudgetState] = []
    for e in prefs.budgeted():
        b = e.budget
        assert b is not None
        names = [e.pattern]
        if is_glob(e.pattern) and not b.shared:
            entries = prefs.projects if e.kind == "project" else prefs.users
            names = sorted(k[1] for k in spend.spend if k[0] == e.kind and entries.match(k[1]) is e) or names
        for name in names:
            key = budget_key(e, name)
            for lim in b.limits:
                spent = spend.get(key, lim.period)
                state = "ok" if not is_over(b, lim, spent) else (
                    "blocked" if b.over == "block" or b.to is None else "downgraded")
                resets = datetime.fromtimestamp(spend.bounds(lim.period)[1], config.timezone)
                out.append(BudgetState(e.kind, e.pattern, name, b.shared, lim.period, lim.usd, spent,
                                       max(lim.usd - spent, 0.0), state, b.over,
                                       f"{b.to[0]}/{b.to[1]}" if b.to else None, b.reserve_usd,
                                       (resets if config.timezone else resets.astimezone()).isoformat()))
    return out

