"""HistoryGate: skip a provider/model on cooldown or at its rate limits, and hand out slots.

It implements :class:`tacroute.types.CandidateGate`; pass it to
``ModelRouter(config, gate=...)``. Its state is the history database, so every
process on the machine sees the same cooldowns and the same running attempts.

Limits come from the ``[providers.NAME]`` tables: ``max_concurrent`` (attempts
running at once) and ``rpm`` (attempts started in the last 60 seconds). They
are enforced in two steps. Routing (:meth:`HistoryGate.skip_reason`) reads a
snapshot, cached for ``refresh_s``, to pass over a provider that is already
full; that is fast but may be stale. Starting an attempt
(:meth:`HistoryGate.acquire_slot`, which ``run_task`` calls) checks again and
takes the slot in one ``BEGIN IMMEDIATE`` transaction, so across every process
sharing the history file the limits hold exactly (see
:mod:`tacroute.history.slots`). A slot whose owner died without giving it back
(its pid is gone or belongs to another process now) is closed by the next
process that takes a slot, and no longer counted by the snapshot.

Both go through the state seam (:mod:`tacroute.state`): the machine's own state
is :class:`~tacroute.state.sqlite.SqliteState`; with ``shared`` (``[state]
backend = "redis"``, for example) slots, ``rpm`` and the limits snapshot come
from the shared backend, its cooldowns are honoured besides the local ones, and
each finished attempt feeds its aggregates and publishes the cooldown it
started. While the shared backend cannot be reached (degraded), the machine's
own state is used as before.

Without provider limits, routing first looks at the cooldown horizon beside the
database (:mod:`tacroute.history.horizon`): when it has passed, no cooldown can
be running and the database is not read. A gate made with a store factory
(what :func:`tacroute.history.open_gate` gives ``tacroute route``) opens the
store only when it must read it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from tacroute.history import horizon
from tacroute.history.damage import HistoryError, give_up, is_broken
from tacroute.history.reads import Cooldown, LimitsSnapshot

if TYPE_CHECKING:
    from tacroute.config.model import Config
    from tacroute.history.slots import ProviderLimits
    from tacroute.history.store import HistoryStore
    from tacroute.state.api import Lease, Reservation, Snapshot, StateBackend
    from tacroute.state.shared import SharedState
    from tacroute.state.sqlite import SqliteState
    from tacroute.types import AttemptRecord

__all__ = ["HistoryGate"]


def _limit_reason(provider: str, limit: ProviderLimits, usage: LimitsSnapshot) -> str | None:
    from tacroute.history.slots import limit_reason

    return limit_reason(provider, limit, usage.running.get(provider, 0),
                        usage.started_last_minute.get(provider, 0))


class HistoryGate:
    """Skips candidates that are cooling down or whose provider is at a limit.

    ``refresh_s``: how long one read of the database is reused (a router may
    ask for several candidates per decision and many decisions per second);
    0 reads on every call. ``clock`` gives "now" in epoch seconds. ``store``: the
    history store, or a function opening it on first need (``path``, the database
    it opens, is then required); a failure to open it is a :class:`HistoryError`
    like any other read's.
    """

    #: How long one read of the shared state is reused: about one decision.
    shared_refresh_s = 0.01

    def __init__(self, store: HistoryStore | Callable[[], HistoryStore], config: Config | None = None, *,
                 clock: Callable[[], float] = time.time, refresh_s: float = 1.0,
                 shared: SharedState | None = None, path: str | Path | None = None) -> None:
        if callable(store):
            if path is None:
                raise TypeError("HistoryGate: a store factory needs the database's path")
            self._store: HistoryStore | None = None
            self._open: Callable[[], HistoryStore] | None = store
        else:
            self._store, self._open = store, None
            path = store.path if path is None else path
        #: The history database (known before the store is opened).
        self.path = Path(path)
        self._opening = threading.Lock()
        self.shared = shared
        self.clock = clock
        self.refresh_s = refresh_s
        self.limits: dict[str, ProviderLimits] = {}
        if config is not None:
            for name, p in config.providers.items():
                if p.max_concurrent is not None or p.rpm is not None:
                    from tacroute.history.slots import ProviderLimits  # the slots load with a limit

                    self.limits[name] = ProviderLimits(p.max_concurrent, p.rpm)
        self._read_at = -1.0
        self._cooldowns: dict[tuple[str, str], Cooldown] = {}
        #: [from, until): the last read found no cooldown running and is reused until then.
        self._quiet = (0.0, 0.0)
        self._usage = LimitsSnapshot({}, {})
        self._shared_at = -1.0
        self._shared: Snapshot | None = None

    @property
    def store(self) -> HistoryStore:
        """The history store, opened on first use (raises :class:`HistoryError` when it cannot be)."""
        store = self._store
        if store is None:
            with self._opening:
                if self._store is None:
                    assert self._open is not None
                    self._store = self._open()
                store = self._store
        return store

    @cached_property
    def local(self) -> SqliteState:
        """This machine's state backend over :attr:`store` (slots, budget holds).

        Made when a slot is first taken: routing reads the store itself (what
        :meth:`SqliteState.snapshot` reads), so ``tacroute route`` never loads
        the state backends."""
        from tacroute.state.sqlite import SqliteState

        return SqliteState(self.store, self.clock)

    def _refresh(self, now: float) -> None:
        if self._read_at >= 0 and now - self._read_at < self.refresh_s and now >= self._read_at:
            return
        if not self.limits and horizon.passed(self.path, now):  # no cooldown can be running
            self._cooldowns, self._read_at, self._quiet = {}, now, (now, now + self.refresh_s)
            return
        self._cooldowns = {(c.provider, c.model): c for c in self.store.cooldowns(now)}
        self._usage = self.store.limits(now) if self.limits else LimitsSnapshot({}, {})
        self._read_at = now
        quiet = all(c.until <= now for c in self._cooldowns.values())
        self._quiet = (now, now + self.refresh_s) if quiet else (0.0, 0.0)

    def _shared_snapshot(self, now: float) -> Snapshot | None:
        """The shared state's snapshot (one round trip per decision), None when degraded."""
        if self.shared is None:
            return None
        if self._shared is not None and 0 <= now - self._shared_at < self.shared_refresh_s:
            return self._shared
        from tacroute.state.api import StateUnavailable

        try:
            self._shared = self.shared.call(lambda b: b.snapshot(self.limits, now))
        except StateUnavailable:
            self._shared = None
        self._shared_at = now
        return self._shared

    def _local_reason(self, provider: str, model: str, now: float) -> tuple[Cooldown | None, str | None]:
        """The local cooldown of ``provider``/``model`` and the local limit reason."""
        if is_broken(self.path):
            return None, None
        try:
            self._refresh(now)
        except HistoryError as exc:
            give_up(self.path, exc)
            return None, None
        limit = self.limits.get(provider)
        why = None if limit is None else _limit_reason(provider, limit, self._usage)
        return self._cooldowns.get((provider, model)), why

    def skip_reason(self, provider: str, model: str) -> str | None:
        """Why ``provider``/``model`` must be skipped now, or None.

        None for everything once the history file proves unusable (said once
        on stderr): routing goes on without cooldowns and limits.
        """
        now = self.clock()
        cool, why = self._local_reason(provider, model, now)
        snap = self._shared_snapshot(now)
        if snap is not None:
            for c in snap.cooldowns:
                if (c.provider, c.model) == (provider, model) and (cool is None or c.until > cool.until):
                    cool = c
            limit = self.limits.get(provider)
            why = None if limit is None else _limit_reason(provider, limit, snap.usage)
        if cool is not None and cool.until > now:
            until = datetime.fromtimestamp(cool.until).strftime("%H:%M:%S")
            return f"cooldown until {until} ({cool.until - now:.0f} s left): {cool.reason}"
        return why

    def skips_nothing_now(self) -> bool:
        """True when :meth:`skip_reason` would pass every candidate now: no provider
        limits and no cooldown running. A router then keeps its cached decision
        without asking about each candidate (:class:`tacroute.routing.ModelRouter`)."""
        if self.limits or self.shared is not None:  # another machine may start a cooldown any time
            return False
        now = self.clock()
        quiet = self._quiet  # the common case, one comparison: nothing ran hot at the last read
        if quiet[0] <= now < quiet[1]:
            return True
        if is_broken(self.path):
            return True
        try:
            self._refresh(now)
        except HistoryError as exc:
            give_up(self.path, exc)
            return True
        return all(c.until <= now for c in self._cooldowns.values())

    def acquire_slot(self, run_id: str, attempt: int, provider: str, model: str,
                     reserve: Sequence[Reservation] = ()) -> Lease:
        """Take a slot on ``provider`` for one attempt, atomically with the limit check and
        with the budget reservations ``reserve`` (:class:`tacroute.state.Reservation`).

        Returns the held slot (a context manager: leaving it releases the slot;
        ``release(spent)`` replaces the reservations by the attempt's cost);
        raises :class:`tacroute.history.slots.SlotRefused` when the provider is at
        ``max_concurrent`` or ``rpm`` now (:class:`~tacroute.history.slots.BudgetRefused`
        when a reservation does not fit). A provider without limits and a run
        without budgets need no slot (nothing is written; the start hook still
        records the attempt). With shared state the slot is a lease there
        (renewed while held); while it is degraded, a slot of this machine's history file.
        """
        from tacroute.history.slots import NO_SLOT, ProviderLimits

        limit = self.limits.get(provider)
        if limit is None:
            if not reserve:
                return NO_SLOT
            limit = ProviderLimits()
        shared = self.shared
        if shared is None:
            return self.local.acquire(run_id, attempt, provider, model, limit, self.clock(), reserve)
        from tacroute.state.api import StateUnavailable
        from tacroute.state.shared import SettlingLease

        if shared.available():
            try:
                lease = shared.call(lambda b: b.acquire(run_id, attempt, provider, model, limit,
                                                       self.clock(), reserve))
                return SettlingLease(lease, shared, run_id, attempt, reserve, False) if reserve else lease
            except StateUnavailable:
                pass
        lease = self.local.acquire(run_id, attempt, provider, model, limit, self.clock(), reserve)
        if reserve:
            return SettlingLease(lease, shared, run_id, attempt, reserve, True)
        return lease

    def attempt_done(self, record: AttemptRecord) -> None:
        """Feed a finished attempt to the shared aggregates, with the cooldown it started here
        (the history plugin has recorded it by now). Never raises."""
        if self.shared is None:
            return
        cool = None
        if not record.success and not is_broken(self.path):
            try:
                now = self.clock()
                cool = next((c for c in self.store.cooldowns(now)
                             if (c.provider, c.model) == (record.provider, record.model)), None)
            except HistoryError:
                cool = None

        op_id = f"attempt.{record.run_id}.{record.attempt}"

        def publish(backend: StateBackend) -> None:
            backend.record_attempt(record, op_id)
            if cool is not None:
                backend.put_cooldown(cool)

        from tacroute.state.api import StateUnavailable

        try:
            self.shared.call(publish)
        except StateUnavailable:  # kept for the aggregates (a cooldown ends by itself: not kept)
            from tacroute.state.outbox import attempt_body

            self.shared.keep("attempt", attempt_body(record), op_id)
        self._shared_at = -1.0  # the next decision reads the state again
