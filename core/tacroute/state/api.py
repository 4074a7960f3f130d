"""The state-backend seam: what the gate and the fleet aggregates need from a store of state.

A :class:`StateBackend` keeps, for every coordinator process that uses it:

- **cooldowns** (a provider/model skipped until a time), which expire by themselves;
- **slots** (``max_concurrent``) and **starts** (``rpm``): :meth:`StateBackend.acquire`
  checks both and takes the slot in one atomic step, with the run's budget
  :class:`Reservation` s in the same step; the slot is a :class:`Lease`, given back
  with ``release(spent)``, which replaces the reservations by the attempt's actual
  cost (added to the spend ledger) in one step too;
- **aggregates** per provider/model (attempts, successes, failures by class, tokens,
  cost and a duration histogram), for ``tacroute stats --fleet`` and ``cheapest``;
- **spend** per key and period (:meth:`add_spend`, :meth:`spend`, :meth:`spend_periods`):
  the ledger the per-user/project budgets read and write. Writes carry an
  operation id: the same operation applied twice counts once (a replay after
  the backend was away, :mod:`tacroute.state.outbox`).

The embedded default is :class:`tacroute.state.sqlite.SqliteState` (the history
database of one machine). A plugin adds another kind (``tacroute-redis``) by
registering a :class:`StateBackendType` from the ``register_state_backends`` hook;
``[state] backend = "NAME"`` picks it. A backend raises :class:`StateUnavailable`
when it cannot answer (a server down, a timeout): the caller goes on with the
machine's own state (:mod:`tacroute.state.shared`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tacroute.errors import TacrouteError
from tacroute.tuples import NamedTuple
from tacroute.types.plugin import RegisterStateBackend, StateBackendType

if TYPE_CHECKING:
    from tacroute.history.slots import ProviderLimits
    from tacroute.history.store import Cooldown, LimitsSnapshot
    from tacroute.types import AttemptRecord, ModelStats

__all__ = ["FleetRow", "Lease", "RegisterStateBackend", "Reservation", "Snapshot", "StateBackend",
           "StateBackendType", "StateStatus", "StateUnavailable", "refuses", "spend_op_id"]


class StateUnavailable(TacrouteError):
    """The backend cannot answer now (unreachable, timed out, refused); the text is safe to print."""


class Snapshot(NamedTuple):
    """What routing reads in one go: the cooldowns in force and the limits' usage."""

    cooldowns: list[Cooldown]
    usage: LimitsSnapshot


class Reservation(NamedTuple):
    """Budget held together with a slot, for one budget key and period.

    The slot is taken only when :func:`refuses` is False for every reservation
    of the attempt, counting as *committed* ``max(ledger, floor)`` plus the
    live holds of every lease on that key and period; then ``usd`` is held
    until the lease is released (or expires with it). ``cap < 0``: nothing is
    checked or held, the key only receives the attempt's actual cost.
    """

    key: str
    period: str
    #: The attempt's estimated cost, held while it runs.
    usd: float
    #: The budget's amount for the period (< 0: not checked).
    cap: float
    #: The budget's ``reserve_usd``: less than this left refuses too.
    keep: float = 0.0
    #: The caller's own view of the spend (the history's), when the ledger may lack some of it.
    floor: float = 0.0


def refuses(r: Reservation, committed: float) -> bool:
    """Whether ``r`` refuses a start with ``committed`` spent and held: nothing left, or less
    than ``keep`` (the budgets' own rule; the Redis script says the same in Lua)."""
    if r.cap < 0:
        return False
    left = r.cap - committed
    return left <= 0 or left < r.keep


def spend_op_id(run_id: str, attempt: int) -> str:
    """The operation id of one attempt's actual cost (the same on every backend and in a replay)."""
    return f"spend.{run_id}.{attempt}"


class StateStatus(NamedTuple):
    """What ``tacroute state`` and ``tacroute providers`` show."""

    backend: str
    #: Where (a path, a URL with any password removed).
    where: str
    shared: bool
    degraded: bool
    latency_ms: float | None
    #: Slots held now, per provider with a limit.
    slots: dict[str, int]
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "where": self.where, "shared": self.shared,
                "degraded": self.degraded, "latency_ms": self.latency_ms, "slots": self.slots,
                "message": self.message}


class FleetRow(NamedTuple):
    """The aggregates of one provider/model over every process sharing the state."""

    provider: str
    model: str
    attempts: int
    successes: int
    cancelled: int
    failures: dict[str, int]
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    cost_usd: float | None
    p50_duration_s: float | None
    p95_duration_s: float | None

    def as_dict(self) -> dict[str, Any]:
        out = self._asdict()
        out["failures"] = dict(sorted(self.failures.items()))
        return out


@runtime_checkable
class Lease(Protocol):
    """A slot (and the budget reservations taken with it) held by this process; leaving the
    ``with`` block (or ``release()``) gives it back. ``release(spent)`` also adds ``spent``
    to the ledger of every reservation's key and period, in the same step, under the
    operation id :func:`spend_op_id`. It never raises: False when the backend could not
    be reached (the slot and holds then expire by themselves; the cost is not counted there)."""

    def release(self, spent: float = 0.0) -> bool: ...
    def __enter__(self) -> Any: ...
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class StateBackend(Protocol):
    """One store of shared state. Every method may raise :class:`StateUnavailable`."""

    name: str
    #: Where the state lives, safe to print (a path; a URL without its password).
    where: str

    def snapshot(self, providers: Collection[str], now: float) -> Snapshot:
        """Cooldowns in force and, for ``providers``, slots held and starts in the last 60 s."""
        ...

    def acquire(self, run_id: str, attempt: int, provider: str, model: str, limit: ProviderLimits,
                now: float, reserve: Sequence[Reservation] = ()) -> Lease:
        """Take a slot when under ``limit`` and every reservation of ``reserve`` fits, holding
        them, atomically; else raise :class:`tacroute.history.slots.SlotRefused`
        (:class:`~tacroute.history.slots.BudgetRefused` for a reservation)."""
        ...

    def put_cooldown(self, cooldown: Cooldown) -> None:
        """Publish a cooldown (kept when a later one is already there); it expires by itself."""
        ...

    def record_attempt(self, record: AttemptRecord, op_id: str | None = None) -> None:
        """Add one finished attempt to the aggregates (once per ``op_id``)."""
        ...

    def model_stats(self) -> dict[tuple[str, str], ModelStats]:
        """Per provider/model: samples (cancelled left out), success rate, p95 of successes."""
        ...

    def fleet(self) -> list[FleetRow]:
        """The aggregates, one row per provider/model."""
        ...

    def add_spend(self, entries: Sequence[tuple[str, str, float]], op_id: str | None = None) -> bool:
        """Add each ``(key, period, usd)`` to the ledger (a period is any text: ``"day:2025-06-01"``),
        all or nothing; False when ``op_id`` was applied before (nothing added again)."""
        ...

    def spend(self, key: str, period: str) -> float:
        """``key``'s spend in ``period`` (0 when none)."""
        ...

    def spend_periods(self, periods: Sequence[str]) -> list[dict[str, float]]:
        """Every key's spend in each of ``periods`` (key -> usd), in one round trip."""
        ...

    def status(self, providers: Collection[str]) -> StateStatus:
        """Backend, where, a round trip's latency and the slots held for ``providers``."""
        ...

    def close(self) -> None: ...
