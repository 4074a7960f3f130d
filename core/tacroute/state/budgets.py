"""SharedSpend: the budgets' spend kept on the shared state backend, for a whole fleet.

With ``[state] backend`` other than ``sqlite``, every machine adds each run's
cost to the shared spend (``add_spend`` of each budget key the run counts toward,
for the run's day and month in ``routing.timezone``), and the table the router
reads is the fleet's: every budget key of today and this month, read in one
round trip (``spend_periods``) at most every :attr:`SharedSpend.REFRESH_S`
seconds, so the per-decision check stays dictionary look-ups. Runs of this
process are counted in the table at once. While the shared state is degraded
(one warning, from :class:`~tacroute.state.shared.SharedState`), the table is
this machine's history, as without shared state; costs recorded then are not
added to the fleet's spend.

Keys are ``KIND:NAME`` (``project:acme/api``, ``project*:acme/*`` for a pooled
glob budget); periods ``day:YYYY-MM-DD`` and ``month:YYYY-MM``.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tacroute.preferences.spend import HistorySpend, Key, SpendTable
from tacroute.state.api import StateUnavailable

if TYPE_CHECKING:
    from datetime import tzinfo
    from pathlib import Path

    from tacroute.preferences.model import Preferences
    from tacroute.pricing import PricingTable
    from tacroute.state.shared import SharedState

__all__ = ["SharedSpend", "key_text", "periods_of"]


def key_text(key: Key) -> str:
    return f"{key[0]}:{key[1]}"


def periods_of(at: float, tz: tzinfo | None) -> tuple[str, str]:
    """The day and month periods holding ``at`` in ``tz``."""
    local = datetime.fromtimestamp(at, tz)
    return f"day:{local:%Y-%m-%d}", f"month:{local:%Y-%m}"


class SharedSpend(HistorySpend):
    """A spend table read from the shared backend, the history file while it is degraded."""

    #: Seconds one read of the shared spend is reused.
    REFRESH_S = 0.5

    def __init__(self, prefs: Preferences, tz: tzinfo | None, path: Path, pricing: PricingTable,
                 shared: SharedState) -> None:
        super().__init__(prefs, tz, path, pricing)
        self.shared = shared
        self._pulled = -math.inf
        #: Whether the table holds the fleet's spend now (else this machine's history).
        self.fleet = False
        #: Reads of the shared spend (tests count them).
        self.pulls = 0

    def current(self, now: float) -> None:
        if not self.day[0] <= now < self.day[1]:
            self._roll(now)
            self._pulled = -math.inf
        if self.fleet and 0 <= now - self._pulled < self.REFRESH_S:
            self.fresh = (max(self.day[0], self._pulled), min(self.day[1], self._pulled + self.REFRESH_S))
            return
        if self._pull(now):
            self.fresh = (max(self.day[0], now), min(self.day[1], now + self.REFRESH_S))
            return
        if self.fleet:  # degraded now: read this machine's history again
            self.fleet = False
            self._version = None
            self._checked = -math.inf
        super().current(now)

    def _pull(self, now: float) -> bool:
        day, month = periods_of(now, self.tz)
        try:
            today, this_month = self.shared.call(lambda b: b.spend_periods([day, month]))
        except StateUnavailable:
            return False
        table: dict[Key, list[float]] = {}
        for i, period in enumerate((today, this_month)):
            for text, usd in period.items():
                kind, sep, name = text.partition(":")
                if sep and math.isfinite(usd):
                    table.setdefault((kind, name), [0.0, 0.0])[i] = usd
        with self.lock:
            self.spend = table
        self._pulled = now
        self.fleet = True
        self.pulls += 1
        return True

    def add(self, project: Any, user: Any, usd: float, at: float) -> None:
        """Count a run of this process here, and add it to the fleet's spend."""
        SpendTable.add(self, project, user, usd, at)
        if not (usd > 0 and math.isfinite(usd)):
            return
        keys = [key_text(k) for k in self.keys(project, user)]
        if not keys:
            return
        periods = periods_of(at, self.tz)

        def push(backend: Any) -> None:
            for key in keys:
                for period in periods:
                    backend.add_spend(key, period, usd)

        try:
            self.shared.call(push)
        except StateUnavailable:
            return  # degraded: this machine's history has the run
