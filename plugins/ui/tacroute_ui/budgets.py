"""Budgets (spending limits per user or project) as the UI shows them.

The figures are :func:`tacroute.preferences.budget_states`' (the same as
``tacroute budgets --json``): one row per budget amount, with its period,
spend, remaining amount, state (ok, downgraded, blocked) and reset time. A
config without ``[projects]``/``[users]`` budgets has none, which the page
shows as "no budgets configured".
"""

from __future__ import annotations

from typing import Any

from tacroute_ui import core

__all__ = ["budget_states"]


def budget_states(config: Any) -> list[dict[str, Any]]:
    """Every configured budget and its state (the ``GET /api/budgets`` rows)."""
    if not core.has_preferences(config):
        return []
    return [b.as_dict() for b in core.budget_states(config)]
