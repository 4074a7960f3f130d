"""Budget reservations: what a run holds of its budgets while an attempt runs.

Routing checks the budgets against the spend recorded so far
(:mod:`tacroute.preferences.budgetcheck`). Just before an attempt starts, its
slot is taken together with one :class:`~tacroute.state.Reservation` per
budget key the run counts toward and per period (day, month), in one atomic
step on the state backend: the attempt's *estimated* cost (the ``[estimate]``
tokens priced at the candidate's model) is held when the spend plus every
live hold still leaves the budget not over (the same rule as routing: more
than 0 left, and at least ``reserve_usd``). When the attempt ends, the hold is
replaced by the attempt's actual cost. A budget whose ``over = "downgrade"``
names this candidate as ``to`` is not checked for it (the downgrade target
runs past the budget, as routing allows), but still receives its cost.

When a hold does not fit, :func:`refused_decision` gives what routing would
have decided had it seen the spend and holds: blocked, or downgraded to ``to``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tacroute.preferences.budgetcheck import _verdict
from tacroute.preferences.fleetspend import key_text, periods_of
from tacroute.state.api import Reservation

if TYPE_CHECKING:
    from tacroute.history.slots import BudgetRefused
    from tacroute.preferences.router import PreferenceRouter
    from tacroute.types import Candidate, Decision, Task

__all__ = ["SETTLED", "refused_decision", "reservations"]

#: Set in a run's ``RunContext.state`` once an attempt's hold was settled with its cost: the
#: fleet's spend has the run's cost already (``observe_run`` does not add it again).
SETTLED = "tacroute.budget.settled"


def reservations(router: PreferenceRouter, task: Task, cand: Candidate) -> list[Reservation]:
    """The reservations of an attempt of ``task`` on ``cand`` (none without budgets)."""
    spend = router.spend
    if spend is None:
        return []
    combo = router._find(task)
    if not combo.checks:
        return []
    now = router.clock()
    spend.current(now)
    periods = dict(zip(("day", "month"), periods_of(now, spend.tz), strict=True))
    pricing = getattr(spend, "pricing", None)
    if pricing is None:
        from tacroute.pricing import PricingTable

        pricing = PricingTable.load(router.config.raw)
    from tacroute.pricing import estimate_usage

    estimate = pricing.cost(cand.model, estimate_usage(router.config.raw)) or 0.0
    out = []
    for entry, key in combo.budgets:
        budget = entry.budget
        assert budget is not None
        free = budget.over == "downgrade" and budget.to == (cand.provider, cand.model)
        caps = {lim.period: lim.usd for lim in budget.limits}
        for period, name in periods.items():
            cap = caps.get(period)
            out.append(Reservation(key_text(key), name, estimate, -1.0 if cap is None or free else cap,
                                   budget.reserve_usd, spend.get(key, period)))
    return out


def refused_decision(router: PreferenceRouter, task: Task, decision: Decision,
                     exc: BudgetRefused) -> Decision:
    """What the run does now that ``exc`` refused a hold: the decision routing gives for the
    spend and holds the backend counted (blocked: unavailable; downgraded: its ``to``)."""
    combo = router._find(task)
    period = "day" if exc.period.startswith("day:") else "month"
    for entry, key in combo.budgets:
        budget = entry.budget
        if budget is None or key_text(key) != exc.key:
            continue
        for lim in budget.limits:
            if lim.period == period:
                assert router.spend is not None
                v = _verdict(entry, key, budget, lim, exc.committed, router.spend,
                             "is spent or held by runs in progress")
                return router._over_budget(combo, decision, v)
    return decision._replace(available=False, reason=exc.reason, fallbacks=())
