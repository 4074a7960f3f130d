"""Budgets at each attempt's start and end (:mod:`tacroute.preferences.reserve` has the rules).

The run asks its router for the attempt's reservations (a router without
budgets has none: nothing changes), takes them with the slot, and at the
attempt's end releases the slot with the attempt's actual cost. A refused
reservation turns the run's decision into the one routing gives for the
budget: blocked (the run stops) or downgraded (its ``to`` is tried next).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tacroute.history.slots import BudgetRefused
    from tacroute.runner.policy import AttemptPlan
    from tacroute.runner.settings import RunnerSettings
    from tacroute.state.api import Lease, Reservation
    from tacroute.types import AttemptRecord, Candidate, Decision, Task

__all__ = ["MAX_REFUSALS", "after_refusal", "holds_for", "settle"]

#: Budget refusals one run follows (a downgrade whose target another budget refuses, ...);
#: past them the run is blocked.
MAX_REFUSALS = 3


def holds_for(router: Any, task: Task, cand: Candidate) -> Sequence[Reservation]:
    """The reservations of an attempt on ``cand`` (none for a router without budgets)."""
    reservations = getattr(router, "reservations", None)
    return reservations(task, cand) if callable(reservations) else ()


def settle(router: Any, slot: Lease, record: AttemptRecord, state: dict[str, Any]) -> None:
    """Release ``slot`` with the attempt's cost (reported, else its tokens priced at its model)."""
    from tacroute.preferences.reserve import SETTLED
    from tacroute.pricing import run_cost

    pricing = getattr(getattr(router, "spend", None), "pricing", None)
    if pricing is None:
        from tacroute.pricing import PricingTable

        pricing = PricingTable.load(router.config.raw)
    u = record.usage
    tokens = (u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_creation_tokens)
    slot.release(run_cost(record.cost_usd, record.model, tokens, pricing))
    state[SETTLED] = True


def after_refusal(router: Any, task: Task, decision: Decision, exc: BudgetRefused, refusals: int,
                  settings: RunnerSettings) -> tuple[Decision, AttemptPlan | None]:
    """The decision after the ``refusals``-th budget refusal, and the plan to go on with (None:
    blocked, the run stops)."""
    from tacroute.runner.policy import AttemptPlan

    decision = router.budget_refused(task, decision, exc)
    if not decision.available or refusals >= MAX_REFUSALS:
        return decision._replace(available=False), None
    return decision, AttemptPlan(decision.candidates, settings)
