"""Which failures move on to the next candidate, and when a candidate may start.

One :class:`AttemptPlan` per run (never shared between runs). Candidates are
tried in the decision's order; a failure whose class is in
``runner.failover`` moves on, any other class ends the run. A ``rate_limit``
failure with a retry-after of at most ``runner.max_retry_after`` seconds puts
that candidate back at the end of the queue (once), and no later attempt on
the same provider starts before the retry-after has passed.
"""

from __future__ import annotations

import time
from collections import deque

from tacroute.runner.settings import RunnerSettings
from tacroute.tuples import NamedTuple
from tacroute.types import Candidate, ErrorClass, Outcome

__all__ = ["AttemptPlan", "Step"]


class Step(NamedTuple):
    """The next attempt: which candidate, and how long to wait before starting it."""

    candidate: Candidate
    wait_s: float


class AttemptPlan:
    """The attempt queue of one run."""

    def __init__(self, candidates: tuple[Candidate, ...], settings: RunnerSettings) -> None:
        self.settings = settings
        self._queue: deque[Candidate] = deque(c for c in candidates if c.available)
        self._not_before: dict[str, float] = {}
        self._requeued: set[tuple[str, str]] = set()
        self.attempts = 0
        self.stop_reason: str | None = None

    def next(self) -> Step | None:
        """The next step, or None when the run is over (see :attr:`stop_reason`)."""
        if self.stop_reason is not None:
            return None
        if not self._queue:
            self.stop_reason = self.stop_reason or "every candidate was tried"
            return None
        if self.attempts >= self.settings.max_attempts:
            self.stop_reason = f"runner.max_attempts ({self.settings.max_attempts}) reached"
            return None
        cand = self._queue.popleft()
        self.attempts += 1
        wait = max(0.0, self._not_before.get(cand.provider, 0.0) - time.monotonic())
        return Step(cand, wait)

    def not_started(self) -> None:
        """The last step's candidate could not start (its provider had no free slot):
        it does not count against ``runner.max_attempts``."""
        self.attempts -= 1

    def record(self, cand: Candidate, outcome: Outcome) -> None:
        """Take an attempt's outcome into account."""
        if outcome.success:
            self.stop_reason = "succeeded"
            return
        cls = outcome.error_class or ErrorClass.CRASH
        if cls not in self.settings.failover:
            self.stop_reason = f"{cls.value} does not fail over (runner.failover)"
            return
        if cls is ErrorClass.RATE_LIMIT and outcome.retry_after_s is not None:
            delay = outcome.retry_after_s
            if delay <= self.settings.max_retry_after:
                until = time.monotonic() + delay
                self._not_before[cand.provider] = max(self._not_before.get(cand.provider, 0.0), until)
                key = (cand.provider, cand.model)
                if key not in self._requeued:
                    self._requeued.add(key)
                    self._queue.append(cand)
