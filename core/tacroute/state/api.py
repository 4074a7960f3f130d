"""The state-backend seam: what the gate and the fleet aggregates need from a store of state.

A :class:`StateBackend` keeps, for every coordinator process that uses it:

- **cooldowns** (a provider/model skipped until a time), which expire by themselves;
- **slots** (``max_concurrent``) and **starts** (``rpm``): :meth:`StateBackend.acquire`
  checks both and takes the slot in one atomic step, optionally reserving budget in
  the same step; the slot is a :class:`Lease`, given back with ``release()``;
- **aggregates** per provider/model (attempts, successes, failures by class, tokens,
  cost and a duration histogram), for ``tacroute stats --fleet`` and ``cheapest``;
- **spend** per key and period (:meth:`add_spend`, :meth:`spend`, :meth:`spend_periods`,
  :meth:`reserve`):
  what the per-user/project budgets read and write.

The embedded default is :class:`tacroute.state.sqlite.SqliteState` (the history
database of one machine). A plugin adds another kind (``tacroute-redis``) by
registering a :class:`StateBackendType` from the ``register_state_backends`` hook;
``[state] backend = "NAME"`` picks it. A backend raises :class:`StateUnavailable`
when it cannot answer (a server down, a timeout): the caller goes on with the
machine's own state (:mod:`tacroute.state.shared`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from tacroute.errors import TacrouteError
from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    from tacroute.history.slots import ProviderLimits
    from tacroute.history.store import Cooldown, LimitsSnapshot
    from tacroute.state.settings import StateSettings
    from tacroute.types import AttemptRecord, ModelStats

__all__ = ["FleetRow", "Lease", "RegisterStateBackend", "Reservation", "Snapshot", "StateBackend",
           "StateBackendType", "StateStatus", "StateUnavailable"]


class StateUnavailable(TacrouteError):
    """The backend cannot answer now (unreachable, timed out, refused); the text is safe to print."""


class Snapshot(NamedTuple):
    """What routing reads in one go: the cooldowns in force and the limits' usage."""

    cooldowns: list[Cooldown]
    usage: LimitsSnapshot


class Reservation(NamedTuple):
    """Budget taken together with a slot: add ``usd`` to ``key``'s spend in ``period``
    only when the total stays at or under ``cap``."""

    key: str
    period: str
    usd: float
    cap: float


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
    """A slot held by this process; leaving the ``with`` block (or ``release()``) gives it back.
    Releasing never raises."""

    def release(self) -> None: ...
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
                now: float, reserve: Reservation | None = None) -> Lease:
        """Take a slot when under ``limit`` (and ``reserve`` fits), atomically; else raise
        :class:`tacroute.history.slots.SlotRefused`."""
        ...

    def put_cooldown(self, cooldown: Cooldown) -> None:
        """Publish a cooldown (kept when a later one is already there); it expires by itself."""
        ...

    def record_attempt(self, record: AttemptRecord) -> None:
        """Add one finished attempt to the aggregates."""
        ...

    def model_stats(self) -> dict[tuple[str, str], ModelStats]:
        """Per provider/model: samples (cancelled left out), success rate, p95 of successes."""
        ...

    def fleet(self) -> list[FleetRow]:
        """The aggregates, one row per provider/model."""
        ...

    def add_spend(self, key: str, period: str, usd: float) -> float:
        """Add ``usd`` to ``key``'s spend in ``period`` (any text: ``"2025-06"``); the new total."""
        ...

    def spend(self, key: str, period: str) -> float:
        """``key``'s spend in ``period`` (0 when none)."""
        ...

    def spend_periods(self, periods: Sequence[str]) -> list[dict[str, float]]:
        """Every key's spend in each of ``periods`` (key -> usd), in one round trip."""
        ...

    def reserve(self, key: str, period: str, usd: float, cap: float) -> bool:
        """Add ``usd`` only when the total stays <= ``cap``, atomically; whether it was added."""
        ...

    def status(self, providers: Collection[str]) -> StateStatus:
        """Backend, where, a round trip's latency and the slots held for ``providers``."""
        ...

    def close(self) -> None: ...


class StateBackendType:
    """A kind of state backend a plugin registers (``register_state_backends``).

    ``name`` is what ``[state] backend`` names; ``keys`` the extra ``[state]``
    keys it reads (name -> the types allowed), checked by the core; :meth:`check`
    may add its own problems as ``(key, message)``; :meth:`open` connects lazily
    (it must not block: the first call may fail with :class:`StateUnavailable`).
    """

    name: str = ""
    description: str = ""
    keys: ClassVar[Mapping[str, tuple[type, ...]]] = {}

    def check(self, table: Mapping[str, Any]) -> list[tuple[str, str]]:
        return []

    def open(self, settings: StateSettings, env: Mapping[str, str]) -> StateBackend:
        raise NotImplementedError


#: The ``register`` argument of ``register_state_backends``.
RegisterStateBackend = Callable[[StateBackendType], None]
