"""SqliteState: the embedded state backend, over one machine's history database.

Cooldowns, slots and ``rpm`` starts are the history store's own tables (see
:mod:`tacroute.history.slots`); the aggregates are read from its ``attempts``
table; spend lives in a ``spend`` table this module creates on first use. So
every process of one machine shares it, and nothing leaves the machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING

from tacroute.history.slots import ProviderLimits, Slot, acquire, end_slot
from tacroute.history.store import Cooldown, HistoryStore, LimitsSnapshot
from tacroute.state.api import FleetRow, Lease, Reservation, Snapshot, StateStatus
from tacroute.state.fleet import bucket, percentile
from tacroute.state.holds import SPEND_TABLE, hold, settle
from tacroute.state.holds import add as add_spent

if TYPE_CHECKING:
    from tacroute.types import AttemptRecord, ModelStats  # the run types: not loaded to route

__all__ = ["SqliteState"]

_OPS_TABLE = "CREATE TABLE IF NOT EXISTS spend_ops (id TEXT PRIMARY KEY, at REAL NOT NULL)"


class BudgetSlot(Slot):
    """A slot taken with budget holds: releasing it settles them in the same transaction."""

    __slots__ = ()

    def _give_back(self, store: HistoryStore, spent: float) -> None:
        with store._write() as conn:
            settle(conn, self._run_id, self._attempt, spent)
            end_slot(conn, self._run_id, self._attempt, self._clock())


class _Acc:
    __slots__ = ("cost", "fail", "hist", "n", "ok", "tok")

    def __init__(self) -> None:
        self.n = self.ok = 0
        self.fail: dict[str, int] = {}
        self.tok = [0, 0, 0, 0]
        self.cost: float | None = None
        self.hist: dict[int, int] = {}

    def add(self, ok: int, cls: str | None, dur: float | None, *rest: float | None) -> None:
        self.n += 1
        if ok:
            self.ok += 1
        else:
            self.fail[str(cls)] = self.fail.get(str(cls), 0) + 1
        for k, v in enumerate(rest[:4]):
            self.tok[k] += int(v or 0)
        if rest[4] is not None:
            self.cost = (self.cost or 0.0) + float(rest[4])
        b = bucket(float(dur or 0))
        self.hist[b] = self.hist.get(b, 0) + 1

    def row(self, provider: str, model: str) -> FleetRow:
        i, o, cr, cc = self.tok
        return FleetRow(provider, model, self.n, self.ok, self.fail.get("cancelled", 0), self.fail,
                        i, o, cr, cc, self.cost, percentile(self.hist, 0.5), percentile(self.hist, 0.95))


class SqliteState:
    """A :class:`~tacroute.state.api.StateBackend` over a :class:`HistoryStore`.

    Raises :class:`~tacroute.history.HistoryError` (not ``StateUnavailable``) when
    the file fails: the history layer's own handling applies.
    """

    name = "sqlite"

    def __init__(self, store: HistoryStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self.where = str(store.path)

    def snapshot(self, providers: Collection[str], now: float) -> Snapshot:
        usage = self.store.limits(now) if providers else LimitsSnapshot({}, {})
        return Snapshot(self.store.cooldowns(now), usage)

    def acquire(self, run_id: str, attempt: int, provider: str, model: str, limit: ProviderLimits,
                now: float, reserve: Sequence[Reservation] = ()) -> Lease:
        if not reserve:
            acquire(self.store, run_id, attempt, provider, model, limit, now)
            return Slot(self.store, run_id, attempt, self.clock)
        acquire(self.store, run_id, attempt, provider, model, limit, now,
                lambda conn: hold(conn, run_id, attempt, reserve, now))
        return BudgetSlot(self.store, run_id, attempt, self.clock)

    def put_cooldown(self, cooldown: Cooldown) -> None:
        c = cooldown
        with self.store._write() as conn:
            self.store._set_cooldown(conn, (c.provider, c.model), c.until, c.kind, c.reason, c.set_at)

    def record_attempt(self, record: AttemptRecord, op_id: str | None = None) -> None:
        """Nothing to add: the history plugin's ``attempts`` rows are the aggregates."""

    def model_stats(self) -> dict[tuple[str, str], ModelStats]:
        return self.store.all_model_stats()

    def fleet(self) -> list[FleetRow]:
        """Aggregates of this machine's attempts (one pass over the attempts table)."""
        acc: dict[tuple[str, str], _Acc] = {}
        with self.store._reading() as conn:
            for p, m, *row in conn.execute(
                    "SELECT provider, model, success, error_class, duration_ms, input_tokens, output_tokens,"
                    " cache_read_tokens, cache_creation_tokens, cost_usd FROM attempts"):
                acc.setdefault((p, m), _Acc()).add(*row)
        return [a.row(p, m) for (p, m), a in sorted(acc.items())]

    def add_spend(self, entries: Sequence[tuple[str, str, float]], op_id: str | None = None) -> bool:
        with self.store._write() as conn:
            conn.execute(SPEND_TABLE)
            if op_id is not None:
                conn.execute(_OPS_TABLE)
                if conn.execute("INSERT OR IGNORE INTO spend_ops (id, at) VALUES (?, ?)",
                                (op_id, self.clock())).rowcount == 0:
                    return False
            for key, period, usd in entries:
                add_spent(conn, key, period, usd)
        return True

    def spend(self, key: str, period: str) -> float:
        with self.store._write() as conn:  # a write: the table may not exist yet
            conn.execute(SPEND_TABLE)
            row = conn.execute("SELECT usd FROM spend WHERE key = ? AND period = ?", (key, period)).fetchone()
        return float(row[0]) if row else 0.0

    def spend_periods(self, periods: Sequence[str]) -> list[dict[str, float]]:
        with self.store._write() as conn:  # a write: the table may not exist yet
            conn.execute(SPEND_TABLE)
            return [{str(k): float(v) for k, v in conn.execute(
                "SELECT key, usd FROM spend WHERE period = ?", (period,))} for period in periods]

    def status(self, providers: Collection[str]) -> StateStatus:
        t0 = time.perf_counter()
        usage = self.store.limits(self.clock())
        latency = (time.perf_counter() - t0) * 1000
        return StateStatus(self.name, str(self.store.path), False, False, round(latency, 3),
                           {p: usage.running.get(p, 0) for p in providers})

    def close(self) -> None:
        self.store.close()
