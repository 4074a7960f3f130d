"""FleetSpend: the budgets' spend kept on the shared state backend, for a whole fleet.

With ``[state] backend`` other than ``sqlite``, a :class:`~tacroute.preferences.spend.HistorySpend`
holds one: every machine adds each run's cost to the shared spend (``add_spend`` of
each budget key the run counts toward, for the run's day and month in
``routing.timezone``), and the table the router reads is the fleet's: every budget
key of today and this month, read in one round trip (``spend_periods``) at most
every :attr:`FleetSpend.REFRESH_S` seconds, so the per-decision check stays
dictionary look-ups. Runs of this process are counted in the table at once.
While the shared state is degraded (one warning, from
:class:`~tacroute.state.shared.SharedState`), the table is this machine's history,
as without shared state; costs recorded then are kept in the machine's outbox
and added to the fleet's spend when it is back (:mod:`tacroute.state.outbox`).
A run whose attempts held budget (``tacroute run``, :mod:`tacroute.preferences.reserve`)
added each attempt's cost when it ended: its run is not pushed again.

Keys are ``KIND:NAME`` (``project:acme/api``, ``project*:acme/*`` for a pooled
glob budget); periods ``day:YYYY-MM-DD`` and ``month:YYYY-MM``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from tacroute.state.api import StateUnavailable

if TYPE_CHECKING:
    from datetime import tzinfo

    from tacroute.config.model import Config
    from tacroute.state.shared import SharedState

__all__ = ["FleetSpend", "fleet_spend", "key_text", "periods_of"]


def fleet_spend(config: Config) -> FleetSpend | None:
    """The fleet's spend for ``config``'s ``[state]`` table; None without shared state."""
    if not isinstance(config.raw.get("state"), dict):
        return None
    from tacroute.state import open_state

    shared = open_state(config)
    return None if shared is None else FleetSpend(shared, config.timezone)


def key_text(key: tuple[str, str]) -> str:
    return f"{key[0]}:{key[1]}"


def periods_of(at: float, tz: tzinfo | None) -> tuple[str, str]:
    """The day and month periods holding ``at`` in ``tz``."""
    local = datetime.fromtimestamp(at, tz)
    return f"day:{local:%Y-%m-%d}", f"month:{local:%Y-%m}"


class FleetSpend:
    """Reads and adds to the fleet's spend on a shared backend."""

    #: Seconds one read of the shared spend is reused.
    REFRESH_S = 0.5

    def __init__(self, shared: SharedState, tz: tzinfo | None) -> None:
        self.shared = shared
        self.tz = tz
        #: When the table was last read (-inf: never, or it must be read again).
        self.pulled = -math.inf
        #: Whether the spend table holds the fleet's spend now (else this machine's history).
        self.used = False
        #: Reads of the shared spend (tests count them).
        self.pulls = 0

    def due(self, now: float) -> bool:
        return not (self.used and 0 <= now - self.pulled < self.REFRESH_S)

    def pull(self, now: float) -> dict[tuple[str, str], list[float]] | None:
        """key -> [spent today, spent this month] over the fleet; None while degraded."""
        day, month = periods_of(now, self.tz)
        try:
            today, this_month = self.shared.call(lambda b: b.spend_periods([day, month]))
        except StateUnavailable:
            self.used = False
            return None
        table: dict[tuple[str, str], list[float]] = {}
        for i, period in enumerate((today, this_month)):
            for text, usd in period.items():
                kind, sep, name = text.partition(":")
                if sep and math.isfinite(usd):
                    table.setdefault((kind, name), [0.0, 0.0])[i] = usd
        self.pulled = now
        self.used = True
        self.pulls += 1
        return table

    def push(self, keys: Sequence[tuple[str, str]], usd: float, at: float, op_id: str) -> None:
        """Add a run's cost to each of ``keys`` for its day and month, once per ``op_id``
        (kept in the outbox while degraded, replayed when the state is back)."""
        texts = [key_text(k) for k in keys]
        if not texts or not (usd > 0 and math.isfinite(usd)):
            return
        periods = periods_of(at, self.tz)
        entries = [[text, period, usd] for text in texts for period in periods]
        self.shared.send("spend", {"entries": entries}, op_id)
