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
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from tacroute.history.damage import give_up, is_broken
from tacroute.history.slots import NO_SLOT, ProviderLimits, Slot, acquire, limit_reason
from tacroute.history.store import Cooldown, HistoryError, HistoryStore, LimitsSnapshot

if TYPE_CHECKING:
    from tacroute.config.model import Config

__all__ = ["HistoryGate", "ProviderLimits"]


class HistoryGate:
    """Skips candidates that are cooling down or whose provider is at a limit.

    ``refresh_s``: how long one read of the database is reused (a router may
    ask for several candidates per decision and many decisions per second);
    0 reads on every call. ``clock`` gives "now" in epoch seconds.
    """

    def __init__(self, store: HistoryStore, config: Config | None = None, *,
                 clock: Callable[[], float] = time.time, refresh_s: float = 1.0) -> None:
        self.store = store
        self.clock = clock
        self.refresh_s = refresh_s
        self.limits: dict[str, ProviderLimits] = {}
        if config is not None:
            for name, p in config.providers.items():
                if p.max_concurrent is not None or p.rpm is not None:
                    self.limits[name] = ProviderLimits(p.max_concurrent, p.rpm)
        self._read_at = -1.0
        self._cooldowns: dict[tuple[str, str], Cooldown] = {}
        self._usage = LimitsSnapshot({}, {})

    def _refresh(self, now: float) -> None:
        if self._read_at >= 0 and now - self._read_at < self.refresh_s and now >= self._read_at:
            return
        self._cooldowns = {(c.provider, c.model): c for c in self.store.cooldowns(now)}
        self._usage = self.store.limits(now) if self.limits else LimitsSnapshot({}, {})
        self._read_at = now

    def skip_reason(self, provider: str, model: str) -> str | None:
        """Why ``provider``/``model`` must be skipped now, or None.

        None for everything once the history file proves unusable (said once
        on stderr): routing goes on without cooldowns and limits.
        """
        if is_broken(self.store.path):
            return None
        now = self.clock()
        try:
            self._refresh(now)
        except HistoryError as exc:
            give_up(self.store.path, exc)
            return None
        cool = self._cooldowns.get((provider, model))
        if cool is not None and cool.until > now:
            until = datetime.fromtimestamp(cool.until).strftime("%H:%M:%S")
            return f"cooldown until {until} ({cool.until - now:.0f} s left): {cool.reason}"
        limit = self.limits.get(provider)
        if limit is None:
            return None
        return limit_reason(provider, limit, self._usage.running.get(provider, 0),
                            self._usage.started_last_minute.get(provider, 0))

    def skips_nothing_now(self) -> bool:
        """True when :meth:`skip_reason` would pass every candidate now: no provider
        limits and no cooldown running. A router then keeps its cached decision
        without asking about each candidate (:class:`tacroute.routing.ModelRouter`)."""
        if self.limits:
            return False
        if is_broken(self.store.path):
            return True
        now = self.clock()
        try:
            self._refresh(now)
        except HistoryError as exc:
            give_up(self.store.path, exc)
            return True
        return all(c.until <= now for c in self._cooldowns.values())

    def acquire_slot(self, run_id: str, attempt: int, provider: str, model: str) -> Slot:
        """Take a slot on ``provider`` for one attempt, atomically with the limit check.

        Returns the held slot (a context manager: leaving it releases the slot);
        raises :class:`tacroute.history.slots.SlotRefused` when the provider is at
        ``max_concurrent`` or ``rpm`` now. A provider without limits needs no slot
        (nothing is written; the start hook still records the attempt).
        """
        limit = self.limits.get(provider)
        if limit is None:
            return NO_SLOT
        acquire(self.store, run_id, attempt, provider, model, limit, self.clock())
        return Slot(self.store, run_id, attempt, self.clock)

