"""The tracking plugin: records decisions, attempts and runs in the history store.

Registered by the root distribution under the ``tacroute`` entry-point group
(``history = "tacroute.history.plugin"``), so ``TACROUTE_DISABLE_PLUGINS=history``
switches recording off, as does ``[history] enabled = false``.

Everything comes from the hooks' arguments: the ``[history]`` table of
``ctx.config`` (the config the run routes with) says where to record, so runs
of different configs, in threads or one after the other, each record into
their own history. The store is opened at the run's first event, kept in
``ctx.state`` for the run's other events and closed after ``observe_run``.
The plugin holds no state of its own. Importing this module is cheap: SQLite
is opened on the first event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tacroute.hookspecs import hookimpl

if TYPE_CHECKING:
    from tacroute.context import RunContext
    from tacroute.history.store import HistoryStore
    from tacroute.types import AttemptRecord, RunResult

__all__ = ["STATE_KEY", "observe_attempt", "observe_attempt_start", "observe_decision", "observe_run",
           "run_store"]

#: Where the run's open store is kept in ``ctx.state`` (None: recording is off).
STATE_KEY = "tacroute.history.store"


def run_store(ctx: RunContext) -> HistoryStore | None:
    """The store this run records into, opened on first use; None when recording is off."""
    if STATE_KEY not in ctx.state:
        from tacroute.history.damage import give_up, is_broken
        from tacroute.history.settings import load_settings

        settings = load_settings(ctx.config)
        store = None
        if settings.enabled and not is_broken(settings.path):
            from tacroute.history.store import HistoryError, HistoryStore

            try:
                store = HistoryStore(settings.path, policy=settings.cooldown)
            except HistoryError as exc:  # a file that cannot be opened: the run goes on without it
                give_up(settings.path, exc)
        ctx.state[STATE_KEY] = store
    store_: HistoryStore | None = ctx.state[STATE_KEY]
    return store_


def _record(ctx: RunContext, write: Callable[[HistoryStore], None]) -> None:
    """Run ``write`` on the run's store; a history file that cannot be used is given up
    (one warning on stderr for the whole process), and the run goes on without history."""
    from tacroute.history.damage import give_up, is_broken
    from tacroute.history.store import HistoryError

    store = run_store(ctx)
    if store is None or is_broken(store.path):
        return
    try:
        write(store)
    except HistoryError as exc:
        give_up(store.path, exc)


@hookimpl
def observe_decision(ctx: RunContext) -> None:
    """Store the decision the runner is about to act on."""
    _record(ctx, lambda store: store.record_decision(ctx.decision, ctx.task))


@hookimpl
def observe_attempt_start(ctx: RunContext, attempt: int, provider: str, model: str) -> None:
    """Mark the attempt as running, for ``max_concurrent`` and ``rpm`` (kept as is when
    the runner already took the attempt's slot)."""
    _record(ctx, lambda store: store.attempt_started(ctx.run_id, attempt, provider, model))


@hookimpl
def observe_attempt(ctx: RunContext, record: AttemptRecord) -> None:
    """Store the attempt; repeated failures or a rate limit start a cooldown."""
    _record(ctx, lambda store: store.record_attempt(record))


@hookimpl
def observe_run(ctx: RunContext, result: RunResult) -> None:
    """Store the run with its totals, then close the run's store."""
    try:
        _record(ctx, lambda store: store.record_run(result))
    finally:
        store = ctx.state.pop(STATE_KEY, None)
        if store is not None:
            store.close()
