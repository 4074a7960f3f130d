"""Per-user and per-project preferences, with budgets.

``[projects."PATTERN"]`` and ``[users.PATTERN]`` tables (:mod:`~tacroute.preferences.check`)
apply to the tasks whose ``project`` / ``user`` attribute they match. A
:class:`~tacroute.preferences.router.PreferenceRouter` wraps the router for
configs that have them: provider deny/allow lists filter every candidate,
an entry's rules and default come before the global ones, ``prefer_providers``
reorders what remains, and budgets (spend summed from the history) block or
downgrade. :func:`budget_states` is what ``tacroute budgets`` shows.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tacroute.config.model import Config
    from tacroute.preferences.budgets import BudgetState, budget_states
    from tacroute.preferences.model import Budget, Entry, EntrySet, Limit, Preferences
    from tacroute.preferences.router import PreferenceRouter

__all__ = ["Budget", "BudgetState", "Entry", "EntrySet", "Limit", "PreferenceRouter", "Preferences",
           "budget_states", "has_preferences", "preferences"]

# Imported when first used: ``tacroute route`` asks :func:`has_preferences` of
# every config, and most have no preferences to load the rest for.
_LAZY = {
    "Budget": "tacroute.preferences.model",
    "Entry": "tacroute.preferences.model",
    "EntrySet": "tacroute.preferences.model",
    "Limit": "tacroute.preferences.model",
    "Preferences": "tacroute.preferences.model",
    "BudgetState": "tacroute.preferences.budgets",
    "budget_states": "tacroute.preferences.budgets",
    "PreferenceRouter": "tacroute.preferences.router",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tacroute.preferences' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def has_preferences(config: Config) -> bool:
    """Whether ``config`` has ``[projects]`` or ``[users]`` tables that apply: present, and
    checked by the preferences layer (its plugin may be disabled; then they are only warned
    about as unknown tables, as any table nobody registered)."""
    if "projects" not in config.raw and "users" not in config.raw:
        return False
    try:
        config.section("projects")
    except KeyError:
        return False
    return True


def preferences(config: Config) -> Preferences:
    """The config's checked ``[projects]``, ``[users]`` and ``[policy]`` tables."""
    from tacroute.preferences.model import Preferences

    return Preferences(config.section("projects"), config.section("users"),
                       config.section("policy").repo_config)
