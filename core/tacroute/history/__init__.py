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

from typing import TYPE_CHECKING

from tacroute.history.settings import CooldownPolicy, HistorySettings, history_path, load_settings
from tacroute.lazy import lazy_exports

if TYPE_CHECKING:
    from tacroute.history.gate import HistoryGate
    from tacroute.history.records import RunRow
    from tacroute.history.routing import open_gate
    from tacroute.history.slots import ProviderLimits
    from tacroute.history.stats import STATS_KEYS, StatsRow
    from tacroute.history.store import Cooldown, HistoryError, HistoryStore, LimitsSnapshot

# SQLite and the store load on first use, so routing without a history file stays light.
_LAZY = {
    "HistoryGate": "tacroute.history.gate",
    "open_gate": "tacroute.history.routing",
    "ProviderLimits": "tacroute.history.slots",
    "RunRow": "tacroute.history.records",
    "STATS_KEYS": "tacroute.history.stats",
    "StatsRow": "tacroute.history.stats",
    "Cooldown": "tacroute.history.store",
    "HistoryError": "tacroute.history.store",
    "HistoryStore": "tacroute.history.store",
    "LimitsSnapshot": "tacroute.history.store",
}


__getattr__ = lazy_exports(__name__, _LAZY)


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

