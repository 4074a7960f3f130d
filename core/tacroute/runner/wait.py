"""Waiting for a provider slot (``run_task(wait=...)``, ``tacroute run --wait SECONDS``).

Without a wait, a candidate whose provider is at ``max_concurrent``/``rpm`` is
skipped. With one, the run polls instead, with a jittered backoff (50 ms
doubling up to 1 s) and honouring its cancel event, until the slot is free or
the wait is over: first when routing found every candidate at a limit (it
routes again), then when taking a candidate's slot is refused (it tries the
same candidate again). There is no queue: whoever polls first after a slot is
given back takes it, so the order among waiting runs is not first come, first served.
Runs of the same process (``tacroute batch``, threads, ``arun_task``) do not
sleep out their backoff when one of them gives a slot back: :func:`slot_freed`
wakes them at once, so a freed slot does not stay idle for a backoff step.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from tacroute.history.slots import BudgetRefused, SlotRefused, take_slot

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tacroute.preferences.router import PreferenceRouter
    from tacroute.routing.router import ModelRouter
    from tacroute.state.api import Lease, Reservation
    from tacroute.types import Candidate, Decision, Task

__all__ = ["Waiter", "slot_freed"]

_FIRST_S = 0.05
_MOST_S = 1.0
#: How often a waiting run looks at its cancel event while it waits for a wake-up.
_CANCEL_CHECK_S = 0.05

_FREED = threading.Condition()
_freed_count = 0


def slot_freed() -> None:
    """A run of this process gave a slot back: wake the runs of this process waiting for one."""
    global _freed_count
    with _FREED:
        _freed_count += 1
        _FREED.notify_all()


class Waiter:
    """The wait of one run: a deadline (None: no waiting) and the cancel event."""

    def __init__(self, wait_s: float | None, cancel: threading.Event) -> None:
        self.deadline = None if not wait_s else time.monotonic() + wait_s
        self.cancel = cancel
        self._delay = _FIRST_S

    def _pause(self) -> bool:
        """Sleep one backoff step; False when the wait is over or the run was cancelled."""
        if self.deadline is None or self.cancel.is_set():
            return False
        left = self.deadline - time.monotonic()
        if left <= 0:
            return False
        import random  # only a run that waits needs it (~1 ms of every run's start otherwise)

        step = min(self._delay * (0.5 + random.random()), left)
        self._delay = min(self._delay * 2, _MOST_S)
        end = time.monotonic() + step
        with _FREED:
            seen = _freed_count
            while _freed_count == seen and not self.cancel.is_set():
                now = time.monotonic()
                if now >= end:
                    break
                _FREED.wait(min(end - now, _CANCEL_CHECK_S))
            if _freed_count != seen:
                self._delay = _FIRST_S  # a slot was given back here: look again at once, and soon after
        return not self.cancel.is_set()

    def route(self, router: ModelRouter | PreferenceRouter, task: Task) -> Decision:
        """Route; while every candidate is held back by a provider limit, wait and route again."""
        decision = router.route(task)
        while not decision.available and any((c.reason or "").startswith("limit:")
                                             for c in decision.skipped) and self._pause():
            decision = router.route(task)
        self._delay = _FIRST_S
        return decision

    def take(self, gate: object, run_id: str, number: int, cand: Candidate,
             reserve: Sequence[Reservation] = ()) -> Lease:
        """The candidate's slot (with the budget ``reserve``), waiting for it; :class:`SlotRefused`
        once the wait is over. A budget refusal (:class:`BudgetRefused`) is not waited out."""
        while True:
            try:
                lease = take_slot(gate, run_id, number, cand, reserve)
            except BudgetRefused:
                raise
            except SlotRefused:
                if not self._pause():
                    raise
                continue
            self._delay = _FIRST_S
            return lease
