"""A slot held on Redis: a lease that a small thread renews until it is given back.

The lease expires ``lease_ttl_s`` after its last renewal, so the slots of a
machine that died (``kill -9``, power loss, a cut network) are free again within
that time. Renewal runs every third of the TTL; a renewal that fails (Redis
down) is tried again at the next tick.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

from tacroute.state import StateUnavailable

__all__ = ["RedisLease"]


class RedisLease:
    """A held slot; ``release()`` (or leaving the ``with`` block) gives it back, never raising."""

    def __init__(self, renew: Callable[[], None], give_back: Callable[[float], None], ttl_s: float) -> None:
        self._renew = renew
        self._give_back = give_back
        self._every = max(ttl_s / 3, 0.05)
        self._stop = threading.Event()
        self._held = True
        self._thread = threading.Thread(target=self._run, name="tacroute-redis-lease", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._renew()
            except StateUnavailable:
                continue  # tried again at the next tick; the lease may expire meanwhile

    def release(self, spent: float = 0.0) -> bool:
        """Give the slot and its holds back, adding ``spent`` to the held budgets' spend (one
        script); False when Redis could not be reached (they expire within the TTL)."""
        if not self._held:
            return True
        self._held = False
        self._stop.set()
        self._thread.join(5.0)  # a renewal in flight must not put the lease back after the release
        try:
            self._give_back(spent)
        except StateUnavailable:
            return False
        return True

    def __enter__(self) -> RedisLease:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
