"""Stats and model stats over real SQLite, checked against hand-computed figures.

Percentiles interpolate linearly between the nearest ranks: for sorted values
v[0..n-1], the q-quantile is at position q*(n-1).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tacroute.history import HistoryStore, StatsRow
from tacroute.types import ErrorClass, ModelStats, StatsSource, Usage
from testkit.history import make_attempt, make_run

# (run id, provider, model, rule, labels, duration ms, success, cost)
RUNS = [
    ("o1", "claude-cli", "claude-opus-4", "critical", ["bug"], 1000, True, 0.001),
    ("s1", "claude-cli", "claude-sonnet-4-5", None, ["docs"], 2000, True, 0.002),
    ("o2", "claude-cli", "claude-opus-4", "critical", ["Bug", "security"], 3000, True, 0.003),
    ("s2", "claude-cli", "claude-sonnet-4-5", None, [], 4000, False, None),
    ("g1", "openrouter", "gpt-4o", "critical", ["bug"], 10_000, True, 0.01),
    ("g2", "openrouter", "gpt-4o", "critical", ["bug"], 20_000, False, 0.02),
]


@pytest.fixture
def store(history_db: Path) -> HistoryStore:
    s = HistoryStore(history_db)
    for i, (rid, prov, model, rule, labels, dur, ok, cost) in enumerate(RUNS):
        a = make_attempt(rid, 1, provider=prov, model=model, rule=rule, success=ok,
                         error_class=None if ok else ErrorClass.CRASH, started_at=1000.0 + i * 100,
                         duration_ms=dur, usage=Usage(dur // 10, 1, 2, 3), cost_usd=cost,
                         task={"priority": "high", "labels": labels})
        s.record_attempt(a)
        s.record_run(make_run([a], rule=rule))
    return s


def _by_key(rows: list[StatsRow]) -> dict[str, StatsRow]:
    return {r.key: r for r in rows}


def test_stats_by_provider(store: HistoryStore) -> None:
    rows = store.stats("provider")
    assert [r.key for r in rows] == ["claude-cli", "openrouter"]  # most runs first
    cli, orr = rows
    assert (cli.runs, cli.successes, cli.success_rate) == (4, 3, 0.75)
    assert cli.median_duration_s == pytest.approx(2.5)   # 2000 + 0.5 * (3000 - 2000)
    assert cli.p95_duration_s == pytest.approx(3.85)     # 3000 + 0.85 * (4000 - 3000)
    assert cli.usage == Usage(1000, 4, 8, 12)            # 100 + 200 + 300 + 400 input
    assert cli.cost_usd == pytest.approx(0.006)          # s2 has no cost
    assert (orr.runs, orr.success_rate) == (2, 0.5)
    assert orr.median_duration_s == pytest.approx(15.0)
    assert orr.p95_duration_s == pytest.approx(19.5)     # 10000 + 0.95 * 10000
    assert orr.cost_usd == pytest.approx(0.03)


def test_stats_by_model(store: HistoryStore) -> None:
    rows = _by_key(store.stats("model"))
    assert set(rows) == {"claude-cli/claude-opus-4", "claude-cli/claude-sonnet-4-5", "openrouter/gpt-4o"}
    opus = rows["claude-cli/claude-opus-4"]
    assert (opus.runs, opus.success_rate) == (2, 1.0)
    assert opus.median_duration_s == pytest.approx(2.0)
    assert opus.p95_duration_s == pytest.approx(2.9)
    sonnet = rows["claude-cli/claude-sonnet-4-5"]
    assert (sonnet.runs, sonnet.success_rate) == (2, 0.5)
    assert sonnet.p95_duration_s == pytest.approx(3.9)
    assert sonnet.cost_usd == pytest.approx(0.002)


def test_stats_by_rule_names_the_default(store: HistoryStore) -> None:
    rows = _by_key(store.stats("rule"))
    crit = rows["critical"]
    assert (crit.runs, crit.successes) == (4, 3)
    assert crit.median_duration_s == pytest.approx(6.5)   # 3000 + 0.5 * 7000
    assert crit.p95_duration_s == pytest.approx(18.5)     # 10000 + 0.85 * 10000
    default = rows["(default)"]
    assert (default.runs, default.successes) == (2, 1)
    assert default.median_duration_s == pytest.approx(3.0)


def test_stats_by_label_case_insensitive(store: HistoryStore) -> None:
    rows = _by_key(store.stats("label"))
    assert set(rows) == {"bug", "security", "docs"}
    bug = rows["bug"]
    assert (bug.runs, bug.successes) == (4, 3)
    assert bug.median_duration_s == pytest.approx(6.5)
    assert bug.usage.input_tokens == 100 + 300 + 1000 + 2000
    assert rows["security"].median_duration_s == pytest.approx(3.0)
    assert rows["security"].p95_duration_s == pytest.approx(3.0)
    assert rows["docs"].cost_usd == pytest.approx(0.002)


def test_stats_since(store: HistoryStore) -> None:
    rows = _by_key(store.stats("provider", since=1250.0))  # s2, g1, g2
    assert rows["claude-cli"].runs == 1
    assert rows["claude-cli"].cost_usd is None
    assert rows["claude-cli"].median_duration_s == pytest.approx(4.0)
    assert rows["openrouter"].runs == 2
    assert store.stats("label", since=10_000.0) == []


def test_stats_rejects_unknown_key(store: HistoryStore) -> None:
    with pytest.raises(ValueError, match="provider, model, rule, label"):
        store.stats("colour")


def test_model_stats_from_attempts(store: HistoryStore) -> None:
    source: StatsSource = store
    opus = source.model_stats("claude-cli", "claude-opus-4")
    assert opus is not None and (opus.samples, opus.success_rate) == (2, 1.0)
    assert opus.p95_duration_s == pytest.approx(2.9)
    sonnet = store.model_stats("claude-cli", "claude-sonnet-4-5")
    assert sonnet is not None
    assert (sonnet.samples, sonnet.success_rate) == (2, 0.5)
    assert sonnet.p95_duration_s == pytest.approx(2.0)  # only the successful attempt's duration
    assert store.model_stats("claude-cli", "nope") is None
    assert store.model_stats("claude-cli", "claude-opus-4", since=1100.0) == ModelStats(1, 1.0, 3.0)


def test_all_model_stats_matches_single_lookups(store: HistoryStore) -> None:
    everything = store.all_model_stats()
    assert set(everything) == {("claude-cli", "claude-opus-4"), ("claude-cli", "claude-sonnet-4-5"),
                               ("openrouter", "gpt-4o")}
    for (prov, model), st in everything.items():
        assert st == store.model_stats(prov, model)
    failed_only = store.all_model_stats(since=1250.0)[("claude-cli", "claude-sonnet-4-5")]
    assert failed_only == ModelStats(1, 0.0, None)


def test_percentiles_match_statistics_module(history_db: Path) -> None:
    import random
    import statistics

    rnd = random.Random(7)
    durations = [rnd.randrange(100, 100_000) for _ in range(101)]
    with HistoryStore(history_db) as s:
        for i, d in enumerate(durations):
            a = make_attempt(f"p{i}", 1, duration_ms=d, started_at=float(i))
            s.record_attempt(a)
            s.record_run(make_run([a]))
        (row,) = s.stats("provider")
    assert row.median_duration_s == pytest.approx(statistics.median(durations) / 1000)
    q = statistics.quantiles(durations, n=20, method="inclusive")[-1]  # the 95th percentile
    assert row.p95_duration_s == pytest.approx(q / 1000)


def _reference(values: list[int], q: float) -> float:
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def test_percentiles_for_small_and_odd_counts(history_db: Path) -> None:
    import random

    rnd = random.Random(3)
    samples = {f"prov{n}": [rnd.randrange(1, 10_000) for _ in range(n)] for n in range(1, 14)}
    with HistoryStore(history_db) as s:
        for prov, durations in samples.items():
            for i, d in enumerate(durations):
                a = make_attempt(f"{prov}-{i}", 1, provider=prov, duration_ms=d, started_at=float(i))
                s.record_attempt(a)
                s.record_run(make_run([a]))
        rows = _by_key(s.stats("provider"))
    for prov, durations in samples.items():
        assert rows[prov].median_duration_s == pytest.approx(_reference(durations, 0.5) / 1000), prov
        assert rows[prov].p95_duration_s == pytest.approx(_reference(durations, 0.95) / 1000), prov
