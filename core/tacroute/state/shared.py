"""SharedState: a backend shared by several machines, and what to do when it cannot be reached.

Every call goes through :meth:`SharedState.call`. When the backend raises
:class:`~tacroute.state.api.StateUnavailable` (down, timed out after
``[state] timeout_ms``), the state is *degraded*: one warning on stderr, and
for the next ``retry_s`` seconds every call fails at once (no waiting), so the
caller (the gate) routes with this machine's own state. The first call after
that tries again; when it succeeds the shared state resumes (said once too).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from tacroute.state.api import StateBackend, StateUnavailable

__all__ = ["SharedState"]

T = TypeVar("T")


class SharedState:
    """A :class:`StateBackend` with the degraded mode; thread-safe."""

    def __init__(self, backend: StateBackend, retry_s: float, lease_ttl_s: float, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.backend = backend
        self.retry_s = retry_s
        self.lease_ttl_s = lease_ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self.degraded = False
        self.last_error = ""

    def available(self) -> bool:
        """False while degraded and the retry time has not come (a call would fail at once)."""
        return not self.degraded or self.clock() >= self._retry_at

    def call(self, fn: Callable[[StateBackend], T]) -> T:
        """``fn(backend)``; raises :class:`StateUnavailable` (at once while degraded)."""
        if not self.available():
            raise StateUnavailable(f"state degraded: {self.last_error}")
        try:
            result = fn(self.backend)
        except StateUnavailable as exc:
            self._failed(str(exc))
            raise
        if self.degraded:
            with self._lock:
                if self.degraded:
                    self.degraded = False
                    print(f"tacroute: state: the shared {self.backend.name} state is back; "
                          "shared limits and cooldowns resume", file=sys.stderr)
        return result

    def _failed(self, message: str) -> None:
        with self._lock:
            self._retry_at = self.clock() + self.retry_s
            self.last_error = message
            if self.degraded:
                return
            self.degraded = True
        print(f"tacroute: warning: state: degraded: the shared {self.backend.name} state cannot be "
              f"used ({message}); going on with this machine's own state, trying again every "
              f"{self.retry_s:g} s", file=sys.stderr)
