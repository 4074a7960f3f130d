"""simulate and replay with [projects]/[users]: deny lists, and budgets crossed mid-file / mid-history.

Prices (USD per million tokens, built in): sonnet 3/15, haiku 1/5. Every task here is
1,000,000 input tokens and no output: $3 on Sonnet, $1 on Haiku.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.config import parse_config
from tacroute.history import HistoryStore
from tacroute.plugins import Registry
from tacroute.types import Usage
from tacroute.whatif.replay import replay
from tacroute.whatif.simulate import TaskFileError, simulate
from testkit.history import make_attempt, make_run
from testkit.seed import seed_text

SONNET, HAIKU = "claude-sonnet-4-5", "claude-haiku-4"


@pytest.fixture(autouse=True)
def _no_pricing_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TACROUTE_PRICING_CACHE", str(tmp_path / "no-cache.json"))


def utc(y: int, mo: int, d: int, h: int = 12) -> float:
    return datetime(y, mo, d, h, tzinfo=UTC).timestamp()


def config_text(extra: str) -> str:
    return seed_text(True).replace(f'default_model = "{SONNET}"\n',
                                   f'default_model = "{SONNET}"\ntimezone = "UTC"\n', 1) + extra


def write_config(tmp_path: Path, extra: str, name: str = "c.toml") -> Path:
    p = tmp_path / name
    p.write_text(config_text(extra), encoding="utf-8")
    return p


DOWNGRADE = """
[projects."acme/api"]
budget = { monthly_usd = 10, over = "downgrade", to = "claude-cli/claude-haiku-4" }
"""
BLOCK = """
[users.alice]
budget = { monthly_usd = 10, over = "block" }
"""


def task(**attrs: object) -> dict[str, object]:
    # priority low, no labels matching a rule, 12:00: the default (Sonnet)
    return {"priority": "low", "labels": ["x"], "hour": 12, "input_tokens": 1_000_000,
            "output_tokens": 0, **attrs}


def tasks_file(tmp_path: Path, tasks: list[dict[str, object]]) -> Path:
    p = tmp_path / "tasks.jsonl"
    p.write_text("".join(json.dumps(t) + "\n" for t in tasks), encoding="utf-8")
    return p


def models(report: dict[str, object]) -> dict[str, int]:
    return {t["model"]: t["tasks"] for t in report["by_target"]}  # type: ignore[attr-defined,index]


def test_simulate_downgrades_from_the_task_after_the_budget_is_crossed(
        tmp_path: Path, builtin_registry: Registry) -> None:
    cfg = parse_config(config_text(DOWNGRADE), tmp_path / "c.toml", registry=builtin_registry)
    # $3 each: after 4 tasks $12 >= $10, so tasks 5..8 go to the downgrade target.
    # Another project's tasks, in between, have no budget and stay on Sonnet.
    lines = [task(project="acme/api", started_at=utc(2025, 6, d)) for d in range(1, 9)]
    lines.insert(2, task(project="other/x", started_at=utc(2025, 6, 2)))
    r = simulate(cfg, tasks_file(tmp_path, lines)).as_dict()
    assert r["tasks"] == 9 and r["blocked_tasks"] == 0
    assert models(r) == {SONNET: 5, HAIKU: 4}
    assert r["by_rule"]["(default)"] == 9  # a downgrade has no rule
    assert r["cost_usd"] == pytest.approx(5 * 3 + 4 * 1)
    # Exactly from the crossing point: a B side without budgets changes lines 6.. (line 3 is other/x).
    plain = parse_config(config_text(""), tmp_path / "plain.toml", registry=builtin_registry)
    r2 = simulate(plain, tasks_file(tmp_path, lines), compare=cfg).as_dict()
    assert r2["compare"]["changed_lines"] == [6, 7, 8, 9]


def test_simulate_blocks_and_reports_blocked_tasks(tmp_path: Path, builtin_registry: Registry) -> None:
    cfg_path = write_config(tmp_path, BLOCK)
    # Without started_at every task falls in the current month.
    lines = [task(user="alice") for _ in range(6)] + [task(user="bob")]
    path = tasks_file(tmp_path, lines)
    res = CliRunner().invoke(cli, ["simulate", str(path), "--config", str(cfg_path), "--json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)
    assert r["tasks"] == 7 and r["blocked_tasks"] == 2
    assert models(r) == {SONNET: 5}
    assert r["cost_usd"] == pytest.approx(15.0)
    res = CliRunner().invoke(cli, ["simulate", str(path), "--config", str(cfg_path)])
    assert res.exit_code == 0, res.output
    assert "Blocked by budget: 2 tasks" in res.output
    # The compared side counts its own blocks.
    plain_path = write_config(tmp_path, "", "plain.toml")
    res = CliRunner().invoke(cli, ["simulate", str(path), "--config", str(plain_path), "--json",
                                   "--compare", str(cfg_path)])
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)
    assert r["blocked_tasks"] == 0 and r["compare"]["blocked_tasks"] == 2
    assert {c["to"] for c in r["compare"]["changes"]} == {"(blocked by budget)"}
    assert r["compare"]["difference_usd"] == pytest.approx(-6.0)


def test_simulate_budget_resets_with_the_month_of_started_at(tmp_path: Path,
                                                             builtin_registry: Registry) -> None:
    cfg = parse_config(config_text(BLOCK), tmp_path / "c.toml", registry=builtin_registry)
    # ISO times without an offset are in routing.timezone (UTC here).
    lines = [task(user="alice", started_at=f"2025-05-{d:02d}T10:00:00") for d in range(20, 26)]
    lines += [task(user="alice", started_at=utc(2025, 6, 1, 0))]
    r = simulate(cfg, tasks_file(tmp_path, lines)).as_dict()
    assert r["blocked_tasks"] == 2 and models(r) == {SONNET: 5}


def test_simulate_started_at_must_be_a_time(tmp_path: Path, builtin_registry: Registry) -> None:
    cfg = parse_config(config_text(BLOCK), tmp_path / "c.toml", registry=builtin_registry)
    with pytest.raises(TaskFileError, match=r"tasks.jsonl:2: started_at must be epoch seconds"):
        simulate(cfg, tasks_file(tmp_path, [task(user="alice"), task(user="alice", started_at="soon")]))


def test_simulate_honours_deny_providers(tmp_path: Path, builtin_registry: Registry) -> None:
    extra = """
[[routing.rules]]
name = "cheap-openrouter"
priority = 110
conditions = { labels = ["cheap"] }
provider = "openrouter"
model = "claude-haiku-4"

[projects."acme/*"]
deny_providers = ["openrouter"]
"""
    cfg = parse_config(config_text(extra), tmp_path / "c.toml", registry=builtin_registry)
    lines = [task(labels=["cheap"], project="acme/api"), task(labels=["cheap"], project="other"),
             task(labels=["cheap"])]
    r = simulate(cfg, tasks_file(tmp_path, lines)).as_dict()
    by = {(t["provider"], t["model"]): t["tasks"] for t in r["by_target"]}
    assert by == {("openrouter", HAIKU): 2, ("claude-cli", SONNET): 1}


def test_replay_budget_resets_with_the_month(tmp_path: Path, builtin_registry: Registry) -> None:
    db = tmp_path / "history.db"
    days = [(2025, 5, d) for d in (10, 11, 12, 13, 14, 15)] + [(2025, 6, 1), (2025, 6, 2)]
    with HistoryStore(db) as store:
        for i, day in enumerate(days):
            t = {"priority": "low", "labels": ["x"], "hour": 12, "project": "acme/api"}
            a = make_attempt(f"r{i}", 1, model=SONNET, started_at=utc(*day), usage=Usage(1_000_000, 0),
                             cost_usd=3.0, task=t)
            store.record_attempt(a)
            store.record_run(make_run([a], task=t))
        cfg = parse_config(config_text(DOWNGRADE), tmp_path / "c.toml", registry=builtin_registry)
        r = replay(store.runs(), cfg).as_dict()
    # May: 4 runs on Sonnet ($12), then 2 downgraded; June starts again at $0.
    assert models(r) == {SONNET: 6, HAIKU: 2}
    assert r["tasks_changed"] == 2 and r["changed_runs"] == ["r4", "r5"]
    assert r["cost_usd"] == pytest.approx(6 * 3 + 2 * 1)


def test_replay_counts_blocked_runs(tmp_path: Path, builtin_registry: Registry) -> None:
    db = tmp_path / "history.db"
    with HistoryStore(db) as store:
        for i in range(5):
            t = {"priority": "low", "labels": ["x"], "hour": 12, "user": "alice"}
            a = make_attempt(f"r{i}", 1, model=SONNET, started_at=utc(2025, 5, 10 + i),
                             usage=Usage(1_000_000, 0), cost_usd=3.0, task=t)
            store.record_attempt(a)
            store.record_run(make_run([a], task=t))
        cfg = parse_config(config_text(BLOCK), tmp_path / "c.toml", registry=builtin_registry)
        report = replay(store.runs(), cfg)
    r = report.as_dict()
    assert r["blocked_tasks"] == 1 and r["recorded_cost_usd"] == pytest.approx(15.0)
    assert r["cost_usd"] == pytest.approx(12.0)
    assert r["changes"][0]["to"] == "(blocked by budget)"
    assert r["changes"][0]["cost_usd"] == 0.0
    from tacroute.whatif.replay import render_replay

    assert "Blocked by budget: 1 tasks" in render_replay(report)
