"""SharedState: a backend shared by several machines, and what to do when it cannot be reached.

Every call goes through :meth:`SharedState.call`. When the backend raises
:class:`~tacroute.state.api.StateUnavailable` (down, timed out after
``[state] timeout_ms``), the state is *degraded*: one warning on stderr, and
for the next ``retry_s`` seconds every call fails at once (no waiting), so the
caller (the gate) routes with this machine's own state. The first call after
that tries again; when it succeeds the shared state resumes (said once too).

Writes that must not be lost (spend, aggregates: :meth:`SharedState.send`) go to
the :class:`~tacroute.state.outbox.Outbox` when the backend cannot take them,
and are replayed in a background thread after the first successful call of
the process and after every return from degraded.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from tacroute.state.api import Lease, Reservation, StateBackend, StateUnavailable, spend_op_id

if TYPE_CHECKING:
    from tacroute.state.outbox import Outbox

__all__ = ["SettlingLease", "SharedState"]

T = TypeVar("T")


class SharedState:
    """A :class:`StateBackend` with the degraded mode; thread-safe."""

    def __init__(self, backend: StateBackend, retry_s: float, lease_ttl_s: float, *,
                 clock: Callable[[], float] = time.monotonic, outbox: Outbox | None = None) -> None:
        self.backend = backend
        self.outbox = outbox
        #: Whether the outbox is to be replayed after the next successful call.
        self._replay_due = outbox is not None
        self._replaying = False
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
        if self._replay_due:
            self._start_replay()
        return result

    # ------------------------------------------------------------- the outbox
    def send(self, kind: str, body: dict[str, Any], op_id: str) -> None:
        """Make a write (:func:`tacroute.state.outbox.apply`) now, else keep it in the outbox."""
        from tacroute.state.outbox import apply

        try:
            self.call(lambda b: apply(b, kind, body, op_id))
        except StateUnavailable:
            self.keep(kind, body, op_id)

    def keep(self, kind: str, body: dict[str, Any], op_id: str) -> None:
        """Put a write in the outbox, replayed when the backend answers again (lost without one)."""
        if self.outbox is not None:
            self.outbox.put(op_id, kind, body)
            self._replay_due = True

    def _start_replay(self) -> None:
        with self._lock:
            if self._replaying or not self._replay_due:
                return
            self._replaying, self._replay_due = True, False
        # not a daemon: a process that ends soon after (a CLI run) finishes the replay first; every
        # call is bounded by the backend's timeout, and a failure stops it
        threading.Thread(target=self.replay, name="tacroute-state-replay").start()

    def replay(self) -> int:
        """Apply the outbox's rows (oldest first) until it is empty or the backend fails; how many."""
        from tacroute.state.outbox import apply

        done = 0
        try:
            while self.outbox is not None and (rows := self.outbox.pending()):
                for op_id, kind, body in rows:
                    if not self.available():
                        self._replay_due = True
                        return done
                    try:
                        apply(self.backend, kind, body, op_id)
                    except StateUnavailable as exc:
                        self._failed(str(exc))
                        self._replay_due = True
                        return done
                    except (KeyError, TypeError, ValueError):
                        pass  # a row that makes no sense: dropped
                    self.outbox.done(op_id)
                    done += 1
            return done
        finally:
            self._replaying = False

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


class SettlingLease:
    """A held lease whose attempt's actual cost must reach the shared spend.

    ``release(spent)`` releases ``inner`` (which settles its holds on its own
    backend); the cost also goes to the shared backend when ``inner`` is not
    its lease (taken locally while degraded), and into the outbox when the
    shared backend did not take it. Same operation id throughout: counted once.
    """

    def __init__(self, inner: Lease, shared: SharedState, run_id: str, attempt: int,
                 reserve: Sequence[Reservation], local: bool) -> None:
        self.inner, self.shared, self.local = inner, shared, local
        self.op_id = spend_op_id(run_id, attempt)
        self.entries = [[r.key, r.period, 0.0] for r in reserve]

    def release(self, spent: float = 0.0) -> bool:
        ok = self.inner.release(spent)
        if spent > 0 and (self.local or not ok):
            body = {"entries": [[k, p, spent] for k, p, _ in self.entries]}
            if self.local:
                self.shared.send("spend", body, self.op_id)
            else:
                self.shared.keep("spend", body, self.op_id)
        return ok

    def __enter__(self) -> SettlingLease:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
