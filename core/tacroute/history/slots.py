"""Provider slots: taking one is atomic with the ``max_concurrent``/``rpm`` check.

A slot is one row of the history database's ``slots`` table: one attempt on a
provider, with its owner's pid and that process's start time (``pid_start``:
field 22 of ``/proc/PID/stat``, clock ticks after boot), its start and, once
it is over, its end. :func:`acquire` runs in one ``BEGIN IMMEDIATE``
transaction: it closes the open slots whose owner is gone, counts the live
ones and the starts of the last 60 seconds for the provider, and inserts the
new slot only when both are under the limits. Every process sharing the file
takes the same lock, so the limits hold exactly on one machine.

A slot's owner is gone when its pid no longer exists, is a zombie, or now
belongs to another process (the start time differs: the pid was recycled).
Such a slot is closed (its end set), not deleted: its start still counts for
``rpm``, since the attempt did reach the provider.

Kept light (no SQLite import): the runner imports it on every run.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Sequence
    from types import TracebackType

    from tacroute.history.store import HistoryStore
    from tacroute.state.api import Lease, Reservation
    from tacroute.types import AttemptRecord, Candidate

__all__ = ["NO_SLOT", "BudgetRefused", "ProviderLimits", "Slot", "SlotKeeper", "SlotRefused", "acquire",
           "close_dead", "end_slot", "limit_reason", "owner_alive", "process_start", "prune",
           "report_attempt", "take_slot"]

#: Finished slot rows older than this are pruned (rpm only looks back 60 s).
SLOT_KEEP_S = 3600.0
#: An unfinished slot older than this is abandoned, whatever its pid says.
SLOT_MAX_AGE_S = 86_400.0
#: The ``rpm`` window.
RPM_WINDOW_S = 60.0


class ProviderLimits(NamedTuple):
    """A provider's ``max_concurrent`` and ``rpm`` (None: no limit)."""

    max_concurrent: int | None = None
    rpm: int | None = None


class SlotRefused(Exception):
    """The provider is at a limit: no slot was taken. ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BudgetRefused(SlotRefused):
    """A budget reservation did not fit: ``key`` (``project:acme/api``) in ``period``
    (``day:2025-06-01``) has ``committed`` spent and held of ``cap``."""

    def __init__(self, key: str, period: str, committed: float, cap: float) -> None:
        super().__init__(f"budget: {key!r} has ${committed:.4f} spent or held of ${cap:.4f} in {period}")
        self.key, self.period, self.committed, self.cap = key, period, committed, cap


def limit_reason(provider: str, limit: ProviderLimits, running: int, started: int) -> str | None:
    """Why ``provider`` cannot start another attempt now, or None (the one wording for both
    the routing snapshot and the slot check)."""
    if limit.max_concurrent is not None and running >= limit.max_concurrent:
        return (f"limit: {running} attempt(s) running on provider {provider!r}, "
                f"max_concurrent = {limit.max_concurrent}")
    if limit.rpm is not None and started >= limit.rpm:
        return (f"limit: {started} attempt(s) started on provider {provider!r} in the last "
                f"60 s, rpm = {limit.rpm}")
    return None


# ------------------------------------------------------------------ owners
def _stat(pid: int) -> tuple[str, int] | None:
    """``pid``'s state letter and start time from ``/proc``, or None when unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
        fields = data[data.rindex(b")") + 2:].split()  # the command name may hold spaces
        return fields[0].decode("ascii", "replace"), int(fields[19])  # fields 3 and 22
    except (OSError, ValueError, IndexError):
        return None


def process_start(pid: int) -> int | None:
    """When ``pid`` started (clock ticks after boot), or None where ``/proc`` cannot tell."""
    stat = _stat(pid)
    return None if stat is None else stat[1]


def owner_alive(pid: int, start: int | None) -> bool:
    """Whether the process that took a slot still runs: ``pid`` exists, is no zombie
    and (when ``start`` is known) started at ``start``, so it is not a recycled pid."""
    stat = _stat(pid)
    if stat is not None:
        state, now_start = stat
        if state in ("Z", "X", "x"):
            return False
        return start is None or now_start == start
    # No /proc entry we can read: ask the kernel whether the pid exists at all.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process (or /proc hidden from us)
    except (OSError, OverflowError):
        return False
    return True


# -------------------------------------------------------------- transactions
def prune(conn: sqlite3.Connection, now: float) -> None:
    """Forget finished slots the limits no longer look at, and abandoned ones."""
    conn.execute("DELETE FROM slots WHERE (ended_at IS NOT NULL AND ended_at < ?) OR started_at < ?",
                 (now - SLOT_KEEP_S, now - SLOT_MAX_AGE_S))


def close_dead(conn: sqlite3.Connection, now: float) -> None:
    """Close the open slots whose owner is gone (inside the caller's write transaction)."""
    rows = conn.execute("SELECT id, pid, pid_start FROM slots WHERE ended_at IS NULL").fetchall()
    seen: dict[tuple[int, int | None], bool] = {}
    dead = []
    for row_id, pid, start in rows:
        key = (int(pid), None if start is None else int(start))
        if key not in seen:
            seen[key] = owner_alive(*key)
        if not seen[key]:
            dead.append((now, row_id))
    if dead:
        conn.executemany("UPDATE slots SET ended_at = ? WHERE id = ?", dead)


def acquire(store: HistoryStore, run_id: str, attempt: int, provider: str, model: str,
            limit: ProviderLimits, now: float,
            also: Callable[[sqlite3.Connection], SlotRefused | None] | None = None) -> None:
    """Take a slot for attempt ``attempt`` of ``run_id`` on ``provider`` if it is under
    ``limit``, in one write transaction; raise :class:`SlotRefused` otherwise.

    ``also`` (the budget reservations) runs in the same transaction once the limits
    pass; the refusal it returns is raised (it must then have written nothing).

    Raises :class:`~tacroute.history.HistoryError` when the database fails.
    """
    import sqlite3

    from tacroute.history.damage import HistoryError

    pid = os.getpid()
    try:
        with store._write() as conn:
            prune(conn, now)
            close_dead(conn, now)  # committed even when refused: the next look need not redo it
            running = started = 0
            if limit.max_concurrent is not None:
                (running,) = conn.execute(
                    "SELECT count(*) FROM slots WHERE provider = ? AND ended_at IS NULL AND started_at >= ?",
                    (provider, now - SLOT_MAX_AGE_S)).fetchone()
            if limit.rpm is not None:
                (started,) = conn.execute(
                    "SELECT count(*) FROM slots WHERE provider = ? AND started_at > ?",
                    (provider, now - RPM_WINDOW_S)).fetchone()
            reason = limit_reason(provider, limit, int(running), int(started))
            refused = None if reason is None else SlotRefused(reason)
            if refused is None and also is not None:
                refused = also(conn)
            if refused is None:
                conn.execute("INSERT OR IGNORE INTO slots (provider, model, run_id, attempt, pid, pid_start,"
                             " started_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (provider, model, run_id, attempt, pid, process_start(pid), now))
    except sqlite3.Error as exc:
        raise HistoryError(f"cannot take a slot on provider {provider!r} in the history database "
                           f"{store.path}: {exc}") from exc
    if refused is not None:
        raise refused


def release(store: HistoryStore, run_id: str, attempt: int, now: float) -> None:
    """End the slot of ``run_id``/``attempt`` (a no-op when the attempt's record closed it)."""
    with store._write() as conn:
        end_slot(conn, run_id, attempt, now)


def end_slot(conn: sqlite3.Connection, run_id: str, attempt: int, now: float) -> None:
    """Set the end of the slot of ``run_id``/``attempt`` (inside the caller's transaction)."""
    conn.execute("UPDATE slots SET ended_at = ? WHERE run_id = ? AND attempt = ? AND ended_at IS NULL",
                 (now, run_id, attempt))


# --------------------------------------------------------------- the seam
class Slot:
    """A slot held by this process; a context manager that releases it on exit.

    Releasing never raises: a database that fails now only leaves the slot
    open until this process ends (then the next process that looks closes it).
    """

    __slots__ = ("_attempt", "_clock", "_held", "_run_id", "_store")

    def __init__(self, store: HistoryStore | None, run_id: str, attempt: int,
                 clock: Callable[[], float]) -> None:
        self._store = store
        self._run_id = run_id
        self._attempt = attempt
        self._clock = clock
        self._held = store is not None

    def release(self, spent: float = 0.0) -> bool:
        """Give the slot back (once; later calls do nothing). ``spent``: see
        :class:`tacroute.state.Lease` (a plain slot holds no budget)."""
        if not self._held or self._store is None:
            return True
        self._held = False
        try:
            self._give_back(self._store, spent)
        except Exception as exc:  # noqa: BLE001 - the run's outcome matters more than the slot
            print(f"tacroute: warning: cannot release the provider slot: {exc}; it is freed when this "
                  "process ends", file=sys.stderr)
            return False
        return True

    def _give_back(self, store: HistoryStore, spent: float) -> None:
        release(store, self._run_id, self._attempt, self._clock())

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


#: The slot of a provider without limits: nothing is recorded, nothing released.
NO_SLOT = Slot(None, "", 0, lambda: 0.0)


@runtime_checkable
class SlotKeeper(Protocol):
    """A gate that also hands out provider slots (:class:`tacroute.history.HistoryGate`)."""

    def acquire_slot(self, run_id: str, attempt: int, provider: str, model: str,
                     reserve: Sequence[Reservation] = ()) -> Lease:
        """A held slot for the attempt (with ``reserve`` held), or :class:`SlotRefused` when the
        provider is at a limit (:class:`BudgetRefused` when a reservation does not fit)."""
        ...


def take_slot(gate: object, run_id: str, attempt: int, cand: Candidate,
              reserve: Sequence[Reservation] = ()) -> Lease:
    """The slot for attempt ``attempt`` on ``cand``: from ``gate`` when it keeps slots,
    else :data:`NO_SLOT` (no history: no limits, no budgets). Raises :class:`SlotRefused`."""
    # What isinstance(gate, SlotKeeper) answers, without the Protocol check's cost
    # (~1 ms the first time, before every run's first attempt starts).
    acquire = getattr(gate, "acquire_slot", None)
    if acquire is None:
        return NO_SLOT
    lease: Lease = (acquire(run_id, attempt, cand.provider, cand.model, reserve) if reserve
                    else acquire(run_id, attempt, cand.provider, cand.model))
    return lease


def report_attempt(gate: object, record: AttemptRecord) -> None:
    """Tell ``gate`` an attempt finished (shared state: aggregates, cooldowns)."""
    done = getattr(gate, "attempt_done", None)  # optional: gates without shared state lack it
    if callable(done):
        done(record)
