"""The seam for budgets (spending limits per user or project).

tacroute has no budgets yet: no ``[budgets]`` config and nothing in the
history that tracks one. :func:`budget_states` is what the "Budgets" panel and
``GET /api/budgets`` show; it returns an empty list today, which the page
shows as "budgets are not configured". When budgets land, this function returns
one :class:`BudgetState` per configured budget (its scope, limit, spent in the
current period) and the panel and API show them with no other change.
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["BudgetState", "budget_states"]


class BudgetState(TypedDict):
    """One budget as the UI shows it (the shape the API returns)."""

    name: str
    #: "user" or "project".
    scope: str
    #: Which user or project.
    subject: str
    period: str
    limit_usd: float
    spent_usd: float
    #: "ok", "warning" or "exceeded".
    state: str


def budget_states(config: Any) -> list[BudgetState]:
    """Every configured budget and its state: none, as tacroute has no budgets yet."""
    return []
