"""tacroute replay over a real SQLite history, and strategy cheapest fed by it.

Prices (USD per million tokens, built in): opus 15/75, sonnet 3/15, haiku 1/5.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.config import parse_config
from tacroute.history import HistoryStore
from tacroute.plugins import Registry
from tacroute.routing import ModelRouter
from tacroute.routing.stats import history_stats
from tacroute.types import ErrorClass, Usage
from tacroute.whatif.inputs import AssumeAvailable
from tacroute.whatif.replay import replay
from testkit.history import make_attempt, make_run
from testkit.seed import seed_text

MIDNIGHT_UTC = 1_699_920_000.0  # 2023-11-14 00:00 UTC

#: Config B: normal-priority work at night goes to Haiku.
B_RULE = """
[[routing.rules]]
name = "night-normal-haiku"
priority = 99
conditions = { priority = "normal", hour_range = [0, 8] }
model = "claude-haiku-4"
"""


@pytest.fixture(autouse=True)
def _no_pricing_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TACROUTE_PRICING_CACHE", str(tmp_path / "no-cache.json"))


def b_config_text() -> str:
    return seed_text(True).replace('default_model = "claude-sonnet-4-5"\n',
                                   'default_model = "claude-sonnet-4-5"\ntimezone = "UTC"\n', 1) + B_RULE


@pytest.fixture
def store(history_db: Path) -> HistoryStore:
    s = HistoryStore(history_db)
    runs = [
        # run, task, provider/model, rule, started at, usage, recorded cost
        ("r1", {"priority": "critical", "hour": 14}, "claude-opus-4", "critical-issues-opus",
         MIDNIGHT_UTC + 14 * 3600, Usage(100_000, 10_000), 2.25),
        ("r2", {"priority": "low", "labels": ["docs"], "hour": 15}, "claude-sonnet-4-5", None,
         MIDNIGHT_UTC + 15 * 3600, Usage(50_000, 5_000), None),
        ("r3", {"priority": "normal"}, "claude-sonnet-4-5", "high-priority-sonnet",
         MIDNIGHT_UTC + 3 * 3600, Usage(200_000, 20_000), 0.5),
    ]
    for rid, task, model, rule, at, usage, cost in runs:
        a = make_attempt(rid, 1, model=model, rule=rule, started_at=at, usage=usage, cost_usd=cost, task=task)
        s.record_attempt(a)
        s.record_run(make_run([a], rule=rule, task=task))
    return s


def test_replay_numbers_by_hand(store: HistoryStore, builtin_registry: Registry) -> None:
    cfg = parse_config(b_config_text(), Path("b.toml"), registry=builtin_registry)
    r = replay(store.runs(), cfg).as_dict()
    assert r["tasks"] == 3
    # r3 was recorded without an hour: it started at 03:00 UTC, so the night rule applies.
    assert r["by_rule"]["night-normal-haiku"] == 1
    assert r["by_rule"]["docs-haiku"] == 1
    assert r["by_rule"]["critical-issues-opus"] == 1
    # Recorded: 2.25 + r2 priced at sonnet (50k * 3 + 5k * 15 = 0.225) + 0.5
    assert r["recorded_cost_usd"] == pytest.approx(2.975)
    assert r["recorded_cost_estimated"] == 1
    # Under B: opus 2.25; haiku r2 0.05 + 0.025; haiku r3 0.2 + 0.1
    assert r["cost_usd"] == pytest.approx(2.625)
    assert r["difference_usd"] == pytest.approx(2.625 - 2.975)
    assert r["tasks_changed"] == 2
    assert r["changed_runs"] == ["r2", "r3"]
    assert r["changes"] == [{"from": "claude-cli/claude-sonnet-4-5", "to": "claude-cli/claude-haiku-4",
                             "tasks": 2, "recorded_cost_usd": pytest.approx(0.725),
                             "cost_usd": pytest.approx(0.375), "difference_usd": pytest.approx(-0.35)}]
    # Baseline: everything on sonnet: 350k * 3 + 35k * 15
    assert r["baseline_cost_usd"] == pytest.approx(1.05 + 0.525)


def test_replay_since_filters_runs(store: HistoryStore, builtin_registry: Registry) -> None:
    cfg = parse_config(b_config_text(), Path("b.toml"), registry=builtin_registry)
    r = replay(store.runs(since=MIDNIGHT_UTC + 10 * 3600), cfg).as_dict()
    assert r["tasks"] == 2


def test_replay_cli(store: HistoryStore, history_db: Path, tmp_path: Path, builtin_registry: Registry) -> None:
    b = tmp_path / "b.toml"
    b.write_text(b_config_text(), encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(cli, ["replay", "--since", "100000d", "--config", str(b), "--history",
                              str(history_db), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["tasks"] == 3 and data["cost_usd"] == pytest.approx(2.625)
    res = runner.invoke(cli, ["replay", "--config", str(b), "--history", str(history_db), "--since", "100000d"])
    assert res.exit_code == 0, res.output
    assert "Replayed 3 recorded runs" in res.output
    assert "Recorded cost:    $2.98  (1 runs priced from their tokens)" in res.output
    assert "claude-cli/claude-sonnet-4-5 -> claude-cli/claude-haiku-4: 2 runs, -$0.35" in res.output
    res = runner.invoke(cli, ["replay", "--config", str(b), "--history", str(tmp_path / "none.db")])
    assert res.exit_code == 2 and "no history recorded yet" in res.output
    res = runner.invoke(cli, ["replay", "--config", str(b), "--history", str(history_db), "--since", "soon"])
    assert res.exit_code == 2 and "--since" in res.output


CHEAPEST = """
[[routing.rules]]
name = "low-cheapest"
priority = 200
conditions = { priority = "low" }
strategy = "cheapest"
targets = [{ model = "claude-sonnet-4-5" }, { model = "claude-haiku-4" }]
requires = { min_success_rate = 0.9, min_samples = 20 }
"""


def test_cheapest_reads_real_history_stats(history_db: Path, builtin_registry: Registry) -> None:
    cfg = parse_config(seed_text(True) + CHEAPEST, Path("c.toml"), registry=builtin_registry)

    def decide() -> tuple[str, tuple[tuple[str, str | None], ...]]:
        r = ModelRouter(cfg, AssumeAvailable(cfg, builtin_registry), stats=history_stats(cfg))
        d = r.route({"priority": "low", "hour": 12})
        return d.model, tuple((c.model, c.reason) for c in d.skipped)

    assert history_stats(cfg) is None  # nothing recorded yet: no file is created
    assert decide() == ("claude-haiku-4", ())
    s = HistoryStore(history_db)
    for i in range(25):  # 25 haiku attempts, 5 of them failed: 80% < 90%
        ok = i % 5 != 0
        a = make_attempt(f"h{i}", 1, model="claude-haiku-4", success=ok,
                         error_class=None if ok else ErrorClass.CRASH, started_at=MIDNIGHT_UTC + i)
        s.record_attempt(a)
    model, skipped = decide()
    assert model == "claude-sonnet-4-5"
    assert skipped == (("claude-haiku-4", "unmet requirement: success rate 80% < 90% over 25 runs"),)
