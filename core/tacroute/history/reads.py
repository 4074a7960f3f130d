"""What the history store reads back: runs, cooldowns, limits, stats.

:class:`StoreReads` is the reading half of
:class:`~tacroute.history.store.HistoryStore` (which owns the connection,
the schema and the writes): every query here goes through the store's
``_read``/``_reading``, so it shares its lock and its damage handling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from tacroute.history.damage import timestamp, warn
from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

    from tacroute.history.records import RunRow
    from tacroute.history.settings import CooldownPolicy
    from tacroute.history.stats import StatsRow
    from tacroute.types import ModelStats

__all__ = ["Cooldown", "LimitsSnapshot", "StoreReads"]

_FAR_PAST = -1e300


class Cooldown(NamedTuple):
    """A provider/model skipped until ``until`` (epoch seconds)."""

    provider: str
    model: str
    until: float
    kind: str
    reason: str
    set_at: float


class LimitsSnapshot(NamedTuple):
    """Attempts running now and attempts started in the last minute, per provider."""

    running: dict[str, int]
    started_last_minute: dict[str, int]


class StoreReads:
    """The store's queries; :class:`~tacroute.history.store.HistoryStore` supplies the connection."""

    path: Path
    policy: CooldownPolicy
    clock: Callable[[], float]

    def _reading(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        raise NotImplementedError

    def runs(self, since: float | None = None) -> Iterator[RunRow]:
        """Recorded runs, oldest first (``since``: epoch seconds)."""

        sql = ("SELECT id, run_id, started_at, task, rule, provider, model, success, error, attempts,"
               " input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd,"
               " duration_ms, cost_source, session_id FROM runs WHERE started_at >= ? AND id > ?"
               " ORDER BY id LIMIT 5000")
        last = 0
        low = _low(since)
        while True:
            rows = self._read(sql, (low, last))
            if not rows:
                return
            last = rows[-1][0]
            yield from self._run_rows(row[1:] for row in rows)

    def recent(self, limit: int | None = 50, since: float | None = None) -> list[RunRow]:
        """The newest runs first (``limit`` None: all of them)."""
        return list(self.iter_recent(limit, since))

    def iter_recent(self, limit: int | None = 50, since: float | None = None) -> Iterator[RunRow]:
        """:meth:`recent`, one row at a time: memory stays flat however many runs there are.

        Holds the store's lock until the iterator is exhausted or closed.
        """
        with self._reading() as conn:
            cursor = conn.execute(
                "SELECT run_id, started_at, task, rule, provider, model, success, error, attempts,"
                " input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd,"
                " duration_ms, cost_source, session_id FROM runs WHERE started_at >= ?"
                " ORDER BY started_at DESC, id DESC LIMIT ?",
                (_low(since), -1 if limit is None else limit))
            try:
                while rows := cursor.fetchmany(1000):
                    yield from self._run_rows(rows)
            finally:
                cursor.close()

    def _run_rows(self, rows: Iterable[Sequence[Any]]) -> Iterator[RunRow]:
        """Runs of ``runs`` rows; a row that makes no sense is skipped with a warning."""
        from tacroute.history.records import RunRow

        for row in rows:
            try:
                yield RunRow.from_row(row)
            except (TypeError, ValueError) as exc:
                warn(f"history database {self.path}: skipping damaged run rows (first: {exc})",
                     once_per=f"{self.path} runs")

    def count(self, table: str) -> int:
        """Rows in one of the store's tables (for tests, benchmarks and ``history --json``)."""
        if table not in {"runs", "attempts", "decisions", "cooldowns", "slots", "run_labels"}:
            raise ValueError(f"unknown table {table!r}")
        return int(self._read(f"SELECT count(*) FROM {table}")[0][0])

    def cooldowns(self, now: float | None = None) -> list[Cooldown]:
        """Cooldowns still running at ``now``, none longer than ``policy.max_cooldown_s``.

        A row that makes no sense (no time a calendar shows, a start in the
        future) is skipped with a warning; one ending too late is cut short.
        """
        at = self.clock() if now is None else now
        out: list[Cooldown] = []
        for row in self._read("SELECT provider, model, until, kind, reason, set_at FROM cooldowns "
                              "WHERE until > ? ORDER BY provider, model", (at,)):
            try:
                cool = _cooldown(row, at, self.policy.max_cooldown_s)
            except (TypeError, ValueError) as exc:
                warn(f"history database {self.path}: skipping damaged cooldown rows (first: {exc})",
                     once_per=f"{self.path} cooldowns")
                continue
            if cool.until > at:
                out.append(cool)
        return out

    def limits(self, now: float | None = None) -> LimitsSnapshot:
        """Attempts running (their owner process still alive) and started in the last 60 s,
        per provider: the routing snapshot (taking a slot checks again, atomically)."""
        from tacroute.history.slots import RPM_WINDOW_S, SLOT_MAX_AGE_S, owner_alive  # with a limit only

        at = self.clock() if now is None else now
        running: dict[str, int] = {}
        alive: dict[tuple[int, int | None], bool] = {}
        for provider, pid, start in self._read("SELECT provider, pid, pid_start FROM slots WHERE ended_at "
                                               "IS NULL AND started_at >= ?", (at - SLOT_MAX_AGE_S,)):
            key = (pid, start)
            if key not in alive:
                alive[key] = owner_alive(pid, start)
            if alive[key]:
                running[provider] = running.get(provider, 0) + 1
        started = {p: int(n) for p, n in self._read(
            "SELECT provider, count(*) FROM slots WHERE started_at > ? GROUP BY provider",
            (at - RPM_WINDOW_S,))}
        return LimitsSnapshot(running, started)

    def model_stats(self, provider: str, model: str, since: float | None = None) -> ModelStats | None:
        """Attempts, success rate and p95 duration (of successful attempts) of one provider/model."""
        from tacroute.history.stats import model_stats

        with self._reading() as conn:
            return model_stats(conn, provider, model, _low(since))

    def all_model_stats(self, since: float | None = None) -> dict[tuple[str, str], ModelStats]:
        """:meth:`model_stats` for every recorded provider/model, in one pass."""
        from tacroute.history.stats import all_model_stats

        with self._reading() as conn:
            return all_model_stats(conn, _low(since))

    def attempt_counts(self, since: float | None = None) -> list[tuple[str, str, str | None, int]]:
        """Every attempt started at or after ``since``, counted by provider, model and error
        class (None: succeeded; ``"failed"``: failed without a class), most first per model."""
        rows = self._read(
            "SELECT provider, model, CASE WHEN success THEN NULL ELSE coalesce(error_class, 'failed') END,"
            " count(*) FROM attempts WHERE started_at >= ? GROUP BY 1, 2, 3", (_low(since),))
        counts = [(str(p), str(m), None if e is None else str(e), int(n)) for p, m, e, n in rows]
        return sorted(counts, key=lambda r: (r[0], r[1], -r[3], r[2] or ""))

    def stats(self, by: str = "provider", since: float | None = None) -> list[StatsRow]:
        """Per-key run figures (see :class:`tacroute.history.stats.StatsRow`)."""
        from tacroute.history.stats import stats

        with self._reading() as conn:
            return stats(conn, by, _low(since))


def _cooldown(row: Sequence[Any], now: float, longest: float) -> Cooldown:
    provider, model, until, kind, reason, set_at = row
    if not isinstance(provider, str) or not isinstance(model, str):
        raise ValueError(f"provider/model {provider!r}/{model!r} are not names")
    start = timestamp(set_at)
    if not isinstance(until, (int, float)) or isinstance(until, bool) or until != until:  # NaN
        raise ValueError(f"cooldown of {provider}/{model} ends at {until!r:.40}, no time")
    if start > now + longest:
        raise ValueError(f"cooldown of {provider}/{model} set in the future ({start:.0f})")
    return Cooldown(provider, model, min(until, start + longest), str(kind), str(reason), start)


def _low(since: float | None) -> float:
    return _FAR_PAST if since is None else since

