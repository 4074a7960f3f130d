"""Aggregate queries over the history: ``tacroute stats`` and model performance.

Sums come from one scan of a covering index grouped by (provider, model,
rule), merged per key in Python (a handful of groups), so no query sorts the
table. Percentiles use linear interpolation between the two nearest ranks
(as ``statistics.median`` does for the median); each is read with
``ORDER BY duration_ms LIMIT 2 OFFSET k`` on an index already sorted by key
and duration, from whichever end of the index is nearer.

Cancelled attempts (a run stopped on purpose) and runs that ended with one are
left out of every success rate and of ``ModelStats.samples``: a stop says
nothing about the provider. They are found through the small partial index
``attempts_cancelled``, so leaving them out reads only them.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from typing import Any

from tacroute.tuples import NamedTuple
from tacroute.types import DEFAULT_RULE, ModelStats, Usage

__all__ = ["STATS_KEYS", "StatsRow", "all_model_stats", "model_stats", "percentile_rank", "stats"]

#: What ``stats(by=...)`` accepts.
STATS_KEYS = ("provider", "model", "rule", "label")


class StatsRow(NamedTuple):
    """Figures of the runs sharing one key (a provider, provider/model, rule or label)."""

    key: str
    runs: int
    successes: int
    success_rate: float
    median_duration_s: float | None
    p95_duration_s: float | None
    usage: Usage
    cost_usd: float | None
    #: Runs among ``runs`` that were stopped on purpose (not in ``success_rate``).
    cancelled: int = 0
    #: The part of ``cost_usd`` from runs whose cost tacroute estimated (None: no such run).
    estimated_cost_usd: float | None = None

    @property
    def cost_source(self) -> str | None:
        """``"reported"``, ``"estimated"``, ``"mixed"`` or None (no cost)."""
        if self.cost_usd is None:
            return None
        if self.estimated_cost_usd is None:
            return "reported"
        return "estimated" if self.estimated_cost_usd >= self.cost_usd else "mixed"

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "runs": self.runs, "successes": self.successes,
                "cancelled": self.cancelled,
                "success_rate": self.success_rate, "median_duration_s": self.median_duration_s,
                "p95_duration_s": self.p95_duration_s, "usage": self.usage.as_dict(),
                "cost_usd": self.cost_usd, "estimated_cost_usd": self.estimated_cost_usd,
                "cost_source": self.cost_source}


def percentile_rank(q: float, n: int) -> tuple[int, float]:
    """0-based rank of the lower neighbour and the weight of the upper one."""
    pos = q * (n - 1)
    lo = math.floor(pos)
    return lo, pos - lo


def _percentile(conn: sqlite3.Connection, sql: str, args: Sequence[Any], q: float, n: int) -> float | None:
    if n <= 0:
        return None
    lo, frac = percentile_rank(q, n)
    if lo < n // 2:
        rows = conn.execute(sql + " ORDER BY duration_ms LIMIT 2 OFFSET ?", (*args, lo)).fetchall()
        values = [float(r[0]) for r in rows]
    else:
        # Walk the index from the far end: a p95 steps over 5% of the entries, not 95%.
        hi = min(lo + 1, n - 1)
        rows = conn.execute(sql + " ORDER BY duration_ms DESC LIMIT ? OFFSET ?",
                            (*args, hi - lo + 1, n - 1 - hi)).fetchall()
        values = [float(r[0]) for r in reversed(rows)]
    if not values:
        return None
    low = values[0]
    high = values[1] if len(values) > 1 else low
    return (low + (high - low) * frac) / 1000.0


class _Acc:
    """Running sums of one key (a plain class: a dataclass costs ~0.6 ms to create)."""

    __slots__ = ("ccreate", "cost", "costed", "cread", "inp", "out", "runs", "successes")

    def __init__(self) -> None:
        self.runs = self.successes = self.inp = self.out = self.cread = self.ccreate = self.costed = 0
        self.cost = 0.0

    def add(self, row: Sequence[Any]) -> None:
        n, ok, inp, out, cread, ccreate, cost, costed = row
        self.runs += n
        self.successes += ok
        self.inp += _whole(inp)
        self.out += _whole(out)
        self.cread += _whole(cread)
        self.ccreate += _whole(ccreate)
        self.cost += cost or 0.0
        self.costed += costed


def _whole(total: float) -> int:
    return int(total) if math.isfinite(total) else 0


# total(), not sum(), for the token counts: sum() fails with "integer overflow" past 2**63, which
# a few thousand runs of huge (clamped, but still 2**53) counts reach; total() is a float.
_SUMS = ("count(*), sum(success), total(input_tokens), total(output_tokens), total(cache_read_tokens), "
         "total(cache_creation_tokens), sum(cost_usd), count(cost_usd)")


def stats(conn: sqlite3.Connection, by: str, since: float) -> list[StatsRow]:
    """Per-key figures of the runs started at or after ``since``, most runs first."""
    if by not in STATS_KEYS:
        raise ValueError(f"cannot group stats by {by!r}; choose one of: {', '.join(STATS_KEYS)}")
    groups: dict[Any, _Acc] = {}
    if by == "label":
        rows = conn.execute(f"SELECT label, {_SUMS} FROM run_labels WHERE started_at >= ? GROUP BY label",
                            (since,)).fetchall()
        for label, *sums in rows:
            groups.setdefault(label, _Acc()).add(sums)
    else:
        rows = conn.execute(f"SELECT provider, model, rule, {_SUMS} FROM runs WHERE started_at >= ? "
                            "GROUP BY provider, model, rule", (since,)).fetchall()
        for provider, model, rule, *sums in rows:
            key = {"provider": provider, "model": (provider, model), "rule": rule}[by]
            groups.setdefault(key, _Acc()).add(sums)
    cancelled = _cancelled_runs(conn, by, since)
    estimated = _estimated_costs(conn, by, since)
    out: list[StatsRow] = []
    for key, acc in groups.items():
        sql, args = _duration_query(by, key, since)
        stopped = cancelled.get(key, 0)
        rated = acc.runs - stopped
        out.append(StatsRow(
            key=_key_name(by, key), runs=acc.runs, successes=acc.successes, cancelled=stopped,
            success_rate=acc.successes / rated if rated > 0 else 0.0,
            median_duration_s=_percentile(conn, sql, args, 0.5, acc.runs),
            p95_duration_s=_percentile(conn, sql, args, 0.95, acc.runs),
            usage=Usage(acc.inp, acc.out, acc.cread, acc.ccreate),
            cost_usd=acc.cost if acc.costed else None, estimated_cost_usd=estimated.get(key)))
    out.sort(key=lambda r: (-r.runs, r.key))
    return out


_CANCELLED_RUNS = ("FROM attempts AS a INDEXED BY attempts_cancelled JOIN runs AS r "
                   "ON r.run_id = a.run_id AND r.attempts = a.attempt")


def _cancelled_runs(conn: sqlite3.Connection, by: str, since: float) -> dict[Any, int]:
    """Runs whose last attempt was cancelled, per stats key."""
    counts: dict[Any, int] = {}
    if by == "label":
        for label, n in conn.execute(
                f"SELECT l.label, count(*) {_CANCELLED_RUNS} JOIN run_labels AS l ON l.run = r.id "
                "WHERE a.error_class = 'cancelled' AND l.started_at >= ? GROUP BY l.label", (since,)):
            counts[label] = n
        return counts
    for provider, model, rule, n in conn.execute(
            f"SELECT r.provider, r.model, r.rule, count(*) {_CANCELLED_RUNS} WHERE a.error_class = "
            "'cancelled' AND r.started_at >= ? GROUP BY r.provider, r.model, r.rule", (since,)):
        key = {"provider": provider, "model": (provider, model), "rule": rule}[by]
        counts[key] = counts.get(key, 0) + n
    return counts


def _estimated_costs(conn: sqlite3.Connection, by: str, since: float) -> dict[Any, float]:
    """Cost of the runs with an estimated cost, per stats key (through the partial index)."""
    sums: dict[Any, float] = {}
    if by == "label":
        for label, cost in conn.execute(
                "SELECT l.label, total(r.cost_usd) FROM runs AS r INDEXED BY runs_estimated "
                "JOIN run_labels AS l ON l.run = r.id WHERE r.cost_source = 'estimated' "
                "AND r.started_at >= ? GROUP BY l.label", (since,)):
            sums[label] = cost
        return sums
    for provider, model, rule, cost in conn.execute(
            "SELECT provider, model, rule, total(cost_usd) FROM runs INDEXED BY runs_estimated "
            "WHERE cost_source = 'estimated' AND started_at >= ? GROUP BY provider, model, rule", (since,)):
        key = {"provider": provider, "model": (provider, model), "rule": rule}[by]
        sums[key] = sums.get(key, 0.0) + cost
    return sums


def _key_name(by: str, key: Any) -> str:
    if by == "model":
        return f"{key[0]}/{key[1]}"
    if by == "rule" and key is None:
        return DEFAULT_RULE
    return str(key)


def _duration_query(by: str, key: Any, since: float) -> tuple[str, tuple[Any, ...]]:
    if by == "provider":
        return ("SELECT duration_ms FROM runs INDEXED BY runs_provider_dur WHERE provider = ? "
                "AND started_at >= ?", (key, since))
    if by == "model":
        return ("SELECT duration_ms FROM runs INDEXED BY runs_model_dur WHERE provider = ? AND model = ? "
                "AND started_at >= ?", (key[0], key[1], since))
    if by == "rule":
        return ("SELECT duration_ms FROM runs INDEXED BY runs_rule_dur WHERE rule IS ? "
                "AND started_at >= ?", (key, since))
    return ("SELECT duration_ms FROM run_labels INDEXED BY run_labels_dur WHERE label = ? "
            "AND started_at >= ?", (key, since))


# ------------------------------------------------------------------ model stats
_P95_SUCCESS = ("SELECT duration_ms FROM attempts INDEXED BY attempts_stats WHERE provider = ? "
                "AND model = ? AND success = 1 AND started_at >= ?")


def _model_stats(conn: sqlite3.Connection, provider: str, model: str, since: float, samples: int,
                 successes: int) -> ModelStats:
    return ModelStats(samples=samples, success_rate=successes / samples if samples else 0.0,
                      p95_duration_s=_percentile(conn, _P95_SUCCESS, (provider, model, since), 0.95,
                                                 successes))


_CANCELLED = ("FROM attempts INDEXED BY attempts_cancelled WHERE error_class = 'cancelled' "
              "AND started_at >= ?")


def model_stats(conn: sqlite3.Connection, provider: str, model: str, since: float) -> ModelStats | None:
    """Attempts of one provider/model (cancelled ones left out): count, success rate,
    p95 duration of the successful ones; None when there is none."""
    samples, successes = conn.execute(
        "SELECT count(*), coalesce(sum(success), 0) FROM attempts INDEXED BY attempts_stats "
        "WHERE provider = ? AND model = ? AND started_at >= ?", (provider, model, since)).fetchone()
    if samples:
        samples -= conn.execute(f"SELECT count(*) {_CANCELLED} AND provider = ? AND model = ?",
                                (since, provider, model)).fetchone()[0]
    if not samples:
        return None
    return _model_stats(conn, provider, model, since, samples, successes)


def all_model_stats(conn: sqlite3.Connection, since: float) -> dict[tuple[str, str], ModelStats]:
    """:func:`model_stats` for every provider/model with attempts since ``since``."""
    rows = conn.execute("SELECT provider, model, count(*), sum(success) FROM attempts INDEXED BY "
                        "attempts_stats WHERE started_at >= ? GROUP BY provider, model", (since,)).fetchall()
    cancelled = {(p, m): n for p, m, n in conn.execute(
        f"SELECT provider, model, count(*) {_CANCELLED} GROUP BY provider, model", (since,))}
    out: dict[tuple[str, str], ModelStats] = {}
    for p, m, n, ok in rows:
        n -= cancelled.get((p, m), 0)
        if n > 0:
            out[p, m] = _model_stats(conn, p, m, since, n, ok)
    return out
