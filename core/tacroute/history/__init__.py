"""Outcome history: what ran where, how it went, and what that teaches the router.

- :class:`HistoryStore`: the SQLite file (WAL, shared by every process on the
  machine) with decisions, attempts and runs; ``runs()``, ``stats()``,
  ``model_stats()`` read it back.
- :class:`HistoryGate`: a :class:`tacroute.types.CandidateGate` that skips a
  provider/model on cooldown (repeated failures, a rate-limit answer) or a
  provider at its ``max_concurrent``/``rpm`` limit, and hands out provider
  slots atomically (:mod:`tacroute.history.slots`) so the limits hold exactly.
- :func:`history_path` / :func:`load_settings`: the ``[history]`` table.
- :mod:`tacroute.history.plugin`: the tracking plugin that fills the store
  through the observer hooks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tacroute.history.settings import CooldownPolicy, HistorySettings, history_path, load_settings

if TYPE_CHECKING:
    from tacroute.config.model import Config
    from tacroute.history.gate import HistoryGate, ProviderLimits
    from tacroute.history.records import RunRow
    from tacroute.history.stats import STATS_KEYS, StatsRow
    from tacroute.history.store import Cooldown, HistoryError, HistoryStore, LimitsSnapshot

# SQLite and the store load on first use, so routing without a history file stays light.
_LAZY = {
    "HistoryGate": "tacroute.history.gate",
    "ProviderLimits": "tacroute.history.gate",
    "RunRow": "tacroute.history.records",
    "STATS_KEYS": "tacroute.history.stats",
    "StatsRow": "tacroute.history.stats",
    "Cooldown": "tacroute.history.store",
    "HistoryError": "tacroute.history.store",
    "HistoryStore": "tacroute.history.store",
    "LimitsSnapshot": "tacroute.history.store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tacroute.history' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "STATS_KEYS",
    "Cooldown",
    "CooldownPolicy",
    "HistoryError",
    "HistoryGate",
    "HistorySettings",
    "HistoryStore",
    "LimitsSnapshot",
    "ProviderLimits",
    "RunRow",
    "StatsRow",
    "history_path",
    "load_settings",
    "open_gate",
]


def open_gate(config: Config, state: dict[str, Any] | None = None,
              registry: Any = None) -> HistoryGate | None:
    """The gate for routing with ``config``, or None when nothing can be skipped.

    None when ``[history] enabled = false``, or when no history file exists yet
    and no provider has a limit (then nothing was recorded: nothing to skip,
    and no file is created just to route), or when the file cannot be opened
    (a warning on stderr: routing goes on without the gate, and the
    recording hooks leave the file alone). ``state``: the
    run's :attr:`tacroute.RunContext.state`, where the store is left for the
    tracking plugin, so a run opens its history database once. With a shared
    ``[state]`` backend (its type from ``registry``'s plugins) the gate uses it too.
    """
    settings = load_settings(config)
    if not settings.enabled:
        return None
    has_limits = any(p.max_concurrent is not None or p.rpm is not None for p in config.providers.values())
    if not settings.path.exists() and not has_limits:
        return None
    from tacroute.history.damage import give_up, is_broken
    from tacroute.history.gate import HistoryGate
    from tacroute.history.store import HistoryError, HistoryStore

    if is_broken(settings.path):
        return None
    try:
        store = HistoryStore(settings.path, policy=settings.cooldown)
        if state is not None:
            from tacroute.history.plugin import STATE_KEY

            state[STATE_KEY] = store  # the recording hooks of the run reuse its connection
    except HistoryError as exc:
        # A broken history file must not stop routing: no cooldowns, said once on stderr.
        give_up(settings.path, exc)
        return None
    from tacroute.state import open_state

    return HistoryGate(store, config, shared=open_state(config, registry))
