"""What each budget has spent this day and this month, kept in memory.

A :class:`SpendTable` holds the spend per budget key and period. The
router reads it with dictionary look-ups only: no query per decision.

- :class:`HistorySpend` fills it from the history file: one query, summing
  every run of this month by project, user and model (a run's reported cost,
  else its tokens priced at its model), when the table is first used, when a
  new day or month starts, and when another connection has written to the
  file (``PRAGMA data_version``, looked at no more than once a second). Runs
  of this process are added as they are recorded (the ``observe_run`` hook of
  :mod:`tacroute.preferences.plugin`), so the table is current without a query.
  One table per history file and budget layout is shared by the whole process.
  With shared state, the fleet's spend instead (:mod:`tacroute.preferences.fleetspend`).
- ``tacroute simulate`` / ``replay`` use a plain SpendTable fed each simulated task's cost.

Calendar periods are those of ``routing.timezone`` (local time without one).
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import tzinfo

    from tacroute.config.model import Config
    from tacroute.preferences.fleetspend import FleetSpend
    from tacroute.preferences.model import Entry, Preferences
    from tacroute.pricing import PricingTable

__all__ = ["HistorySpend", "SpendTable", "budget_key", "period_bounds", "shared_spend"]

#: ``(kind, name)`` for one project or user; ``(kind + "*", pattern)`` for a shared glob budget.
Key = tuple[str, str]


def period_bounds(now: float, tz: tzinfo | None, period: str) -> tuple[float, float]:
    """Start and end (epoch seconds) of the calendar day or month holding ``now``."""
    local = datetime.fromtimestamp(now, tz)
    if period == "day":
        start = datetime(local.year, local.month, local.day, tzinfo=tz)
        nxt = local.date() + timedelta(days=1)
        end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    else:
        start = datetime(local.year, local.month, 1, tzinfo=tz)
        end = datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=tz)
    return start.timestamp(), end.timestamp()


def budget_key(entry: Entry, name: str) -> Key:
    """Whose spend ``entry``'s budget counts for the task whose project (user) is ``name``."""
    if entry.budget is not None and entry.budget.shared:
        return (entry.kind + "*", entry.pattern)
    return (entry.kind, name)


class SpendTable:
    """Spend per budget key for the current day and month (see the module's text)."""

    def __init__(self, prefs: Preferences, tz: tzinfo | None) -> None:
        self.prefs = prefs
        self.tz = tz
        self.day = (0.0, 0.0)
        self.month = (0.0, 0.0)
        self.lock = threading.RLock()
        #: Counts the table's changes (a spend added, a table filled anew, a new period): a
        #: decision checked at one version holds while the version is the same. Bumped under
        #: ``lock``, after the change (a reader that reads it first never pairs it with newer sums).
        self.version = 0
        self._spend: dict[Key, list[float]] = {}
        #: ``current(now)`` has nothing to do while ``fresh[0] <= now < fresh[1]`` (routers check first).
        self.fresh = (0.0, 0.0)

    @property
    def spend(self) -> dict[Key, list[float]]:
        """key -> [spent today, spent this month]; set a new dict to replace the whole table."""
        return self._spend

    @spend.setter
    def spend(self, table: dict[Key, list[float]]) -> None:
        with self.lock:
            self._spend = table
            self.version += 1

    def get(self, key: Key, period: str) -> float:
        v = self._spend.get(key)
        return 0.0 if v is None else v[0] if period == "day" else v[1]

    def bounds(self, period: str) -> tuple[float, float]:
        return self.day if period == "day" else self.month

    def current(self, now: float) -> None:
        """Make the table hold the periods of ``now`` (a new period starts at zero)."""
        if not self.day[0] <= now < self.day[1]:
            with self.lock:
                self._roll(now)
                self.version += 1  # a subclass's roll may zero the sums in place
        self.fresh = self.day

    def _roll(self, now: float) -> None:
        with self.lock:
            self.day = period_bounds(now, self.tz, "day")
            self.month = period_bounds(now, self.tz, "month")
            self.spend = {}

    def keys(self, project: Any, user: Any) -> list[Key]:
        """Every budget key a run of ``project`` and ``user`` counts toward."""
        out: list[Key] = []
        for name, entries in ((project, self.prefs.projects), (user, self.prefs.users)):
            if isinstance(name, str):
                entry = entries.match(name)
                if entry is not None and entry.budget is not None:
                    out.append(budget_key(entry, name))
        return out

    def add(self, project: Any, user: Any, usd: float, at: float) -> None:
        """Count ``usd`` spent by a run that started at ``at`` (outside this month: ignored)."""
        if not (usd > 0 and math.isfinite(usd)) or not self.month[0] <= at < self.month[1]:
            return
        today = self.day[0] <= at < self.day[1]
        with self.lock:
            for key in self.keys(project, user):
                v = self._spend.setdefault(key, [0.0, 0.0])
                v[1] += usd
                if today:
                    v[0] += usd
                self.version += 1


_SUM = """
SELECT json_extract(task, '$.project'), json_extract(task, '$.user'), model, started_at >= ?,
       SUM(cost_usd),
       SUM(CASE WHEN cost_usd IS NULL THEN input_tokens ELSE 0 END),
       SUM(CASE WHEN cost_usd IS NULL THEN output_tokens ELSE 0 END),
       SUM(CASE WHEN cost_usd IS NULL THEN cache_read_tokens ELSE 0 END),
       SUM(CASE WHEN cost_usd IS NULL THEN cache_creation_tokens ELSE 0 END)
FROM runs
WHERE started_at >= ? AND started_at < ? AND json_valid(task)
  AND (json_extract(task, '$.project') IS NOT NULL OR json_extract(task, '$.user') IS NOT NULL)
GROUP BY 1, 2, 3, 4
"""


class HistorySpend(SpendTable):
    """A :class:`SpendTable` kept from the history file (see the module's text)."""

    #: Seconds between two looks at ``PRAGMA data_version``.
    RECHECK_S = 1.0

    def __init__(self, prefs: Preferences, tz: tzinfo | None, path: Path,
                 pricing: PricingTable, fleet: FleetSpend | None = None) -> None:
        super().__init__(prefs, tz)
        self.path = path
        self.pricing = pricing
        #: With shared state: the fleet's spend, read instead of the file while it answers.
        self.fleet = fleet
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None
        self._checked = -math.inf
        #: Sums read from the file (tests and benchmarks count them).
        self.loads = 0

    def current(self, now: float) -> None:
        fleet = self.fleet
        if fleet is not None and self._from_fleet(fleet, now):
            return
        if not self.day[0] <= now < self.day[1]:
            self._roll(now)
            self._checked = now
            self._load()
        elif now - self._checked >= self.RECHECK_S or now < self._checked:
            self._checked = now
            if self._changed():
                self._load()
        self.fresh = (max(self.day[0], self._checked), min(self.day[1], self._checked + self.RECHECK_S))

    def _from_fleet(self, fleet: FleetSpend, now: float) -> bool:
        """Hold the fleet's spend; False while it cannot be read (then the file's, read anew)."""
        if not self.day[0] <= now < self.day[1]:
            self._roll(now)
            fleet.pulled = -math.inf
        was, table = fleet.used, fleet.pull(now) if fleet.due(now) else None
        if table is not None:
            with self.lock:
                self.spend = table
        elif not fleet.used:
            if was:  # degraded now: read the file anew
                self._version, self._checked = None, -math.inf
            return False
        self.fresh = (max(self.day[0], fleet.pulled), min(self.day[1], fleet.pulled + fleet.REFRESH_S))
        return True

    def add(self, project: Any, user: Any, usd: float, at: float, op_id: str | None = None) -> None:
        """Count a run of this process; with shared state and ``op_id``, in the fleet's spend too."""
        super().add(project, user, usd, at)
        if self.fleet is not None and op_id is not None:
            self.fleet.push(self.keys(project, user), usd, at, op_id)

    def _connect(self) -> sqlite3.Connection | None:
        if self._conn is None and self.path.exists():
            from tacroute.history.damage import is_broken

            if is_broken(self.path):
                return None
            try:
                self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5.0,
                                             isolation_level=None, check_same_thread=False)
            except sqlite3.Error as exc:
                self._give_up(exc)
        return self._conn

    def _changed(self) -> bool:
        with self.lock:
            conn = self._connect()
            if conn is None:
                return False
            try:
                (version,) = conn.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error as exc:
                self._give_up(exc)
                return False
            return bool(version != self._version)

    def _load(self) -> None:
        with self.lock:
            conn = self._connect()
            self.spend = {}
            if conn is None:
                return
            try:
                conn.execute("BEGIN")
                try:
                    (self._version,) = conn.execute("PRAGMA data_version").fetchone()
                    rows = conn.execute(_SUM, (self.day[0], self.month[0], self.month[1])).fetchall()
                finally:
                    conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if "no such table" not in str(exc):  # a file no run was recorded in yet
                    self._give_up(exc)
                return
            self.loads += 1
            from tacroute.pricing import run_cost

            for project, user, model, today, cost, *tokens in rows:
                usd = run_cost(cost, str(model), tuple(int(t or 0) for t in tokens), self.pricing)  # type: ignore[arg-type]
                at = self.day[0] if today else self.month[0]
                SpendTable.add(self, project, user, usd, at)  # counted here, not recorded anew

    def _give_up(self, exc: Exception) -> None:
        from tacroute.history.damage import give_up

        give_up(self.path, RuntimeError(f"history database {self.path} cannot be read for budgets: {exc}"))
        if self._conn is not None:
            self._conn.close()
            self._conn = None


_SHARED: dict[tuple[Any, ...], HistorySpend] = {}
_SHARED_LOCK = threading.Lock()


def shared_spend(config: Config, prefs: Preferences, create: bool = True) -> HistorySpend | None:
    """The process's spend table for ``config``'s history file and budgets (None: no history, or
    ``create`` is False and none exists yet); the fleet's with ``[state]`` (:mod:`.fleetspend`)."""
    settings = config.history
    if not settings.enabled:
        return None
    layout = tuple((e.kind, e.pattern, e.budget.shared if e.budget else False) for e in prefs.budgeted())
    key = (str(settings.path), config.timezone_name, layout, _pricing_key(config.raw),
           repr(config.raw.get("state")))  # another [state]: another (fleet's) spend
    with _SHARED_LOCK:
        table = _SHARED.get(key)
        if table is None and create:
            from tacroute.preferences.fleetspend import fleet_spend
            from tacroute.pricing import PricingTable

            table = _SHARED[key] = HistorySpend(prefs, config.timezone, settings.path,
                                                PricingTable.load(config.raw), fleet_spend(config))
        return table


def tables_for(config: Config) -> list[HistorySpend]:
    """Every shared table that counts runs recorded in ``config``'s history file."""
    path = str(config.history.path)
    with _SHARED_LOCK:
        return [t for k, t in _SHARED.items() if k[0] == path]


def _pricing_key(raw: Mapping[str, Any]) -> str:
    pricing = raw.get("pricing")
    return repr(sorted(pricing.items())) if isinstance(pricing, dict) else ""

