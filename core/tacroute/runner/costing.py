"""Every attempt's cost marked ``reported`` or ``estimated``.

A provider's own figure (Claude's ``total_cost_usd``, OpenRouter's ``usage.cost``)
is kept when its table's cost source is ``"reported"``. Otherwise, or when the
provider reported none (the Codex and Gemini CLIs never do), the tokens are
priced with tacroute's pricing table (:mod:`tacroute.pricing`: built-ins,
``tacroute pricing refresh``, ``[pricing]``); a model it has no price for has
no cost at all rather than a wrong one, and so has an attempt whose tokens are
unknown (a plain command's output says nothing about them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tacroute.types import Outcome

if TYPE_CHECKING:
    from tacroute.pricing import PricingTable

__all__ = ["REPORTED", "ESTIMATED", "run_cost_source", "settle_cost"]

REPORTED = "reported"
ESTIMATED = "estimated"


def settle_cost(outcome: Outcome, source: str, model: str,
                pricing: Callable[[], PricingTable]) -> Outcome:
    """``outcome`` with its cost decided by ``source`` and marked; ``pricing`` is loaded only if needed."""
    if source == REPORTED and outcome.cost_usd is not None:
        return outcome._replace(cost_source=REPORTED)
    if not any(outcome.usage):
        return outcome._replace(cost_usd=None, cost_source=None)
    names = [model, *outcome.models]
    table = pricing()
    for name in names:
        cost = table.cost(name, outcome.usage)
        if cost is not None:
            return outcome._replace(cost_usd=cost, cost_source=ESTIMATED)
    return outcome._replace(cost_usd=None, cost_source=None)


def run_cost_source(sources: list[str | None]) -> str | None:
    """A run's mark: ``estimated`` if any attempt's cost was, ``reported`` if all were, else None."""
    known = [s for s in sources if s is not None]
    if not known:
        return None
    return ESTIMATED if ESTIMATED in known else REPORTED
