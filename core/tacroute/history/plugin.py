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
        from tacroute.history.settings import load_settings

        settings = load_settings(ctx.config)
        store = None
        if settings.enabled:
            from tacroute.history.store import HistoryStore

            store = HistoryStore(settings.path, policy=settings.cooldown)
        ctx.state[STATE_KEY] = store
    store_: HistoryStore | None = ctx.state[STATE_KEY]
    return store_


@hookimpl
def observe_decision(ctx: RunContext) -> None:
    """Store the decision the runner is about to act on."""
    store = run_store(ctx)
    if store is not None:
        store.record_decision(ctx.decision, ctx.task)


@hookimpl
def observe_attempt_start(ctx: RunContext, attempt: int, provider: str, model: str) -> None:
    """Mark the attempt as running, for ``max_concurrent`` and ``rpm``."""
    store = run_store(ctx)
    if store is not None:
        store.attempt_started(ctx.run_id, attempt, provider, model)


@hookimpl
def observe_attempt(ctx: RunContext, record: AttemptRecord) -> None:
    """Store the attempt; repeated failures or a rate limit start a cooldown."""
    store = run_store(ctx)
    if store is not None:
        store.record_attempt(record)


@hookimpl
def observe_run(ctx: RunContext, result: RunResult) -> None:
    """Store the run with its totals, then close the run's store."""
    store = run_store(ctx)
    if store is not None:
        try:
            store.record_run(result)
        finally:
            ctx.state.pop(STATE_KEY, None)
            store.close()
