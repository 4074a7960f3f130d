"""Where the gate's state (cooldowns, slots, rpm, budget spend) and the fleet aggregates live.

- :mod:`tacroute.state.api`: the :class:`StateBackend` seam and its value types.
- :mod:`tacroute.state.sqlite`: :class:`SqliteState`, the embedded default over one
  machine's history database.
- :mod:`tacroute.state.shared`: :class:`SharedState`, a shared backend with the
  degraded mode (the machine's own state while it cannot be reached).
- :mod:`tacroute.state.settings`: the ``[state]`` table.
- :mod:`tacroute.state.holds`: the embedded backend's budget holds and spend ledger.
- :mod:`tacroute.state.outbox`: writes kept while the shared backend is away, replayed.

:func:`open_state` gives the shared backend a config names (``[state] backend``
other than ``sqlite``), one per process and settings, or None.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from tacroute.lazy import lazy_exports

if TYPE_CHECKING:
    from tacroute.config.model import Config
    from tacroute.state.api import (
        FleetRow,
        Lease,
        Reservation,
        Snapshot,
        StateBackend,
        StateStatus,
        StateUnavailable,
    )
    from tacroute.state.settings import StateSettings
    from tacroute.state.shared import SharedState
    from tacroute.types.plugin import RegisterStateBackend, StateBackendType

__all__ = ["FleetRow", "Lease", "RegisterStateBackend", "Reservation", "Snapshot", "StateBackend",
           "StateBackendType", "StateSettings", "StateStatus", "StateUnavailable", "fleet_model_stats",
           "fleet_rows", "forget_open", "open_state", "state_status"]

# Loaded on first use: every command loads the plugins, and a plugin's backend type
# needs only its base class (tacroute.types.plugin); a config without [state] never needs the rest.
__getattr__ = lazy_exports(__name__, {
    **dict.fromkeys(("FleetRow", "Lease", "Reservation", "Snapshot", "StateBackend", "StateStatus",
                     "StateUnavailable"), "tacroute.state.api"),
    **dict.fromkeys(("RegisterStateBackend", "StateBackendType"), "tacroute.types.plugin"),
    "StateSettings": "tacroute.state.settings",
})

_OPEN: dict[tuple[str, str], SharedState] = {}
_LOCK = threading.Lock()


def open_state(config: Config, registry: Any = None) -> SharedState | None:
    """The shared state ``config``'s ``[state]`` table names, or None for the embedded default.

    Opened once per process and settings (runs in threads share it, and a
    degraded backend is not tried again by every run). Opening never blocks:
    the first call connects.
    """
    raw = config.raw.get("state")
    if not isinstance(raw, dict):  # no [state] table: the embedded default
        return None
    from tacroute.state.settings import BUILTIN, load_state_settings

    if raw.get("backend", BUILTIN) == BUILTIN:
        return None
    if registry is None:
        from tacroute.plugins import get_registry

        registry = get_registry()
    backends = registry.state_backends
    settings = load_state_settings(config)
    key = (settings.backend, repr(sorted(settings._asdict().items(), key=lambda kv: kv[0])))
    with _LOCK:
        found = _OPEN.get(key)
        if found is None:
            import os

            from tacroute.history import load_settings
            from tacroute.state.outbox import Outbox
            from tacroute.state.shared import SharedState

            history = load_settings(config)
            outbox = Outbox(history.path) if history.enabled else None
            backend = backends[settings.backend].open(settings, os.environ)
            found = _OPEN[key] = SharedState(backend, settings.retry_s, settings.lease_ttl_s, outbox=outbox)
        return found


def fleet_model_stats(config: Config, registry: Any = None) -> dict[tuple[str, str], Any] | None:
    """The shared aggregates' model stats (for ``cheapest``); None without shared state or
    while it cannot be reached (then the machine's own history is read)."""
    shared = open_state(config, registry)
    if shared is None:
        return None
    from tacroute.state.api import StateUnavailable

    try:
        return shared.call(lambda b: b.model_stats())
    except StateUnavailable:
        return None


def state_status(config: Config, registry: Any = None) -> StateStatus:
    """Backend, where, latency, degraded or not, slots in use: for ``tacroute state``/``providers``.

    Without shared state: this machine's history database (nothing is created)."""
    from tacroute.state.api import StateStatus, StateUnavailable
    from tacroute.state.settings import BUILTIN

    limited = [n for n, p in config.providers.items() if p.max_concurrent is not None or p.rpm is not None]
    shared = open_state(config, registry)
    if shared is not None:
        try:
            return shared.call(lambda b: b.status(limited))
        except StateUnavailable as exc:
            return StateStatus(shared.backend.name, shared.backend.where, True, True, None, {}, str(exc))
    from tacroute.history import load_settings

    settings = load_settings(config)
    if not settings.enabled:
        return StateStatus(BUILTIN, str(settings.path), False, False, None, {},
                           "[history] enabled = false: no limits or cooldowns are kept")
    if not settings.path.exists():
        return StateStatus(BUILTIN, str(settings.path), False, False, None, {p: 0 for p in limited},
                           "no history file yet")
    from tacroute.history.store import HistoryError, HistoryStore
    from tacroute.state.sqlite import SqliteState

    try:
        with HistoryStore(settings.path) as store:
            return SqliteState(store).status(limited)
    except HistoryError as exc:
        return StateStatus(BUILTIN, str(settings.path), False, True, None, {}, str(exc))


def fleet_rows(config: Config, registry: Any = None) -> tuple[str, list[FleetRow]]:
    """Where the aggregates come from, and their rows: the shared backend's, or this machine's
    history without one. Raises :class:`StateUnavailable` when the shared backend cannot answer."""
    from tacroute.state.api import StateUnavailable

    shared = open_state(config, registry)
    if shared is not None:
        return f"{shared.backend.name} at {shared.backend.where}", shared.call(lambda b: b.fleet())
    from tacroute.history import load_settings

    settings = load_settings(config)
    if not settings.path.exists():
        return f"this machine only: {settings.path}", []
    from tacroute.history.store import HistoryError, HistoryStore
    from tacroute.state.sqlite import SqliteState

    try:
        with HistoryStore(settings.path) as store:
            return f"this machine only: {settings.path}", SqliteState(store).fleet()
    except HistoryError as exc:
        raise StateUnavailable(str(exc)) from exc


def forget_open() -> None:
    """Close and forget every shared state opened by this process (tests)."""
    with _LOCK:
        for shared in _OPEN.values():
            shared.backend.close()
            if shared.outbox is not None:
                shared.outbox.close()
        _OPEN.clear()
