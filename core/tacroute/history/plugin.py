"""The tracking plugin: records decisions, attempts and runs in the history store.

Registered by the root distribution under the ``tacroute`` entry-point group
(``history = "tacroute.history.plugin"``), so ``TACROUTE_DISABLE_PLUGINS=history``
switches recording off, as does ``[history] enabled = false``.

Which config's ``[history]`` table applies: the one last passed to
:func:`activate` in the same thread (``run_task`` and
:func:`tacroute.history.open_gate` call it with the config they route with,
so runs of different configs in different threads keep apart); otherwise the
config tacroute would discover (``$TACROUTE_CONFIG``, ``./adws/config.toml``,
...); otherwise the defaults.
Importing this module is cheap: SQLite is opened on the first event.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING

from tacroute.hookspecs import hookimpl

if TYPE_CHECKING:
    from tacroute.config.model import Config
    from tacroute.history.settings import HistorySettings
    from tacroute.history.store import HistoryStore
    from tacroute.types import AttemptRecord, Decision, RunResult, Task

__all__ = ["activate", "current_store", "observe_attempt", "observe_attempt_start",
           "observe_decision", "observe_run", "reset", "store_for"]

_lock = threading.Lock()
#: The config whose ``[history]`` applies, per thread (or task): ``(activated, config)``.
#: A context variable, so runs of different configs in different threads each
#: record into their own history.
_active: ContextVar[tuple[bool, Config | None]] = ContextVar("tacroute_history_config",
                                                            default=(False, None))
_discovered_settings: HistorySettings | None = None
_stores: dict[str, HistoryStore] = {}
_close_registered = False


def activate(config: Config | None) -> None:
    """Record into the history that ``config`` names (None: the defaults), from now
    on in this thread (``run_task`` and :func:`tacroute.history.open_gate` call it)."""
    _active.set((True, config))


def reset() -> None:
    """Forget the activated config and close the open stores (tests, long-running hosts)."""
    global _discovered_settings
    _active.set((False, None))
    with _lock:
        for store in _stores.values():
            store.close()
        _stores.clear()
        _discovered_settings = None


def _discovered() -> Config | None:
    from tacroute.config.loader import load_config
    from tacroute.errors import TacrouteError

    try:
        return load_config(None)
    except TacrouteError:
        return None


def current_store() -> HistoryStore | None:
    """The store events go to, or None when recording is switched off."""
    global _discovered_settings
    from tacroute.history.settings import load_settings

    activated, config = _active.get()
    if activated:
        settings = load_settings(config)
    else:
        with _lock:
            if _discovered_settings is None:
                _discovered_settings = load_settings(_discovered())
            settings = _discovered_settings
    if not settings.enabled:
        return None
    with _lock:
        return _store_locked(settings)


def store_for(settings: HistorySettings) -> HistoryStore:
    """The open store at ``settings.path``, opened (and kept for the recording hooks) if new.

    :func:`tacroute.history.open_gate` reads cooldowns through it, so a run
    opens its history database once, not once for routing and once for recording.
    """
    with _lock:
        return _store_locked(settings)


def _store_locked(settings: HistorySettings) -> HistoryStore:
    from tacroute.history.store import HistoryStore

    global _close_registered
    key = str(settings.path)
    store = _stores.get(key)
    if store is None:
        store = _stores[key] = HistoryStore(settings.path, policy=settings.cooldown)
        if not _close_registered:
            # Close (and so checkpoint) at exit, also when the console script ends
            # with os._exit: a connection left open leaves the WAL for the next
            # process to recover, which costs it milliseconds when it opens the file.
            import atexit

            atexit.register(_close_all)
            _close_registered = True
    return store


def _close_all() -> None:
    with _lock:
        for store in _stores.values():
            store.close()


@hookimpl
def observe_decision(decision: Decision, task: Task) -> None:
    """Store the decision the runner is about to act on."""
    store = current_store()
    if store is not None:
        store.record_decision(decision, task)


@hookimpl
def observe_attempt_start(run_id: str, attempt: int, task: Task, provider: str, model: str) -> None:
    """Mark the attempt as running, for ``max_concurrent`` and ``rpm`` (kept as is when
    the runner already took the attempt's slot)."""
    store = current_store()
    if store is not None:
        store.attempt_started(run_id, attempt, provider, model)


@hookimpl
def observe_attempt(record: AttemptRecord) -> None:
    """Store the attempt; repeated failures or a rate limit start a cooldown."""
    store = current_store()
    if store is not None:
        store.record_attempt(record)


@hookimpl
def observe_run(result: RunResult) -> None:
    """Store the run with its totals."""
    store = current_store()
    if store is not None:
        store.record_run(result)
