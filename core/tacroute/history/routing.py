"""What routing reads from the history: the gate and the recorded stats.

Both are opened only when there is something to read, so routing with no
history file (or ``[history] enabled = false``) never loads SQLite.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from tacroute.history.settings import load_settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from tacroute.config.model import Config
    from tacroute.history.gate import HistoryGate
    from tacroute.history.settings import HistorySettings
    from tacroute.history.store import HistoryStore

__all__ = ["open_gate"]


def open_gate(config: Config, state: dict[str, Any] | None = None,
              registry: Any = None) -> HistoryGate | None:
    """The gate for routing with ``config``, or None when nothing can be skipped.

    None when ``[history] enabled = false``, or when no history file exists yet
    and no provider has a limit and no budget applies (then nothing was recorded: nothing to skip,
    and no file is created just to route), or when the file cannot be opened
    (a warning on stderr: routing goes on without the gate, and the
    recording hooks leave the file alone; without ``state`` that is found, and said,
    when the gate first reads the file: it then skips nothing). ``state``: the
    run's :attr:`tacroute.RunContext.state`, where the store is left for the
    tracking plugin, so a run opens its history database once; without it (``tacroute
    route``, previews) the gate opens it only when it must read it. With a shared
    ``[state]`` backend (its type from ``registry``'s plugins) the gate uses it too.
    """
    settings = load_settings(config)
    if not settings.enabled:
        return None
    has_limits = any(p.max_concurrent is not None or p.rpm is not None for p in config.providers.values())
    if not settings.path.exists() and not has_limits and not _has_budgets(config):
        return None
    from tacroute.history.damage import is_broken
    from tacroute.history.gate import HistoryGate

    if is_broken(settings.path):
        return None
    store: HistoryStore | Callable[[], HistoryStore]
    if state is None:  # routing only: the store opens when the gate must read it (not when the
        store = partial(_store, settings)  # cooldown horizon proves nothing is cooling down)
    else:
        from tacroute.history.damage import HistoryError, give_up

        try:
            store = _store(settings)
        except HistoryError as exc:
            # A broken history file must not stop routing: no cooldowns, said once on stderr.
            give_up(settings.path, exc)
            return None
        from tacroute.history.plugin import STATE_KEY

        state[STATE_KEY] = store  # the recording hooks of the run reuse its connection
    shared = None
    if "state" in config.raw:  # only a [state] table can name a shared backend: the state seam loads then
        from tacroute.state import open_state

        shared = open_state(config, registry)
    return HistoryGate(store, config, shared=shared, path=settings.path)


def _store(settings: HistorySettings) -> HistoryStore:
    from tacroute.history.store import HistoryStore

    return HistoryStore(settings.path, policy=settings.cooldown)


def _has_budgets(config: Config) -> bool:
    """Whether a project or user budget applies (its runs hold budget with their slots)."""
    from tacroute.preferences import has_preferences, preferences

    return has_preferences(config) and bool(preferences(config).budgeted())
