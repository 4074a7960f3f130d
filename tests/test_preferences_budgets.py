"""Budgets against real runs: the script worker reports $0.01 a run, the history records it."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute import NoAvailableProviderError, run_task
from tacroute.cli import cli
from tacroute.config import load_config
from tacroute.history import HistoryStore
from tacroute.history import plugin as history_plugin
from tacroute.plugins import Registry, set_registry
from tacroute.preferences import budget_states, preferences
from tacroute.preferences import plugin as prefs_plugin
from tacroute.preferences.router import preference_router
from tacroute.preferences.spend import period_bounds, shared_spend
from testkit.history import make_attempt, make_run
from testkit.script_provider import AGENT, ScriptPlugin


@pytest.fixture(autouse=True)
def plugins() -> Iterator[None]:
    set_registry(Registry.from_plugins([ScriptPlugin(), history_plugin, prefs_plugin]))
    yield
    set_registry(None)


def budget_config(folder: Path, budgets: str) -> Path:
    (folder / "agent.py").write_text(AGENT, encoding="utf-8")
    argv = json.dumps([sys.executable, str(folder / "agent.py"), "{model}"])
    text = "".join(f'[providers.{p}]\ntype = "script"\ncommand_template = {argv}\n\n' for p in ("s0", "s1"))
    text += '[routing]\nenabled = true\ndefault_provider = "s0"\ndefault_model = "ok"\ntimezone = "UTC"\n\n'
    path = folder / "tacroute.toml"
    path.write_text(text + budgets, encoding="utf-8")
    return path


@pytest.fixture
def prompt(tmp_path: Path) -> Path:
    path = tmp_path / "prompt.txt"
    path.write_text("fix it\n", encoding="utf-8")
    return path


def test_runs_cross_a_monthly_budget_then_the_next_decision_downgrades(
        tmp_path: Path, prompt: Path, history_db: Path) -> None:
    config = load_config(budget_config(tmp_path, '[projects."acme/api"]\nbudget = { monthly_usd = 0.025, '
                                                 'over = "downgrade", to = "s1/ok" }\n'))
    task = {"project": "acme/api"}
    for _ in range(3):  # $0.00, $0.01, $0.02 spent before each: all under $0.025
        result = run_task(prompt, task, config=config)
        assert result.success and result.provider == "s0"
    table = shared_spend(config, preferences(config))
    assert table is not None
    loads = table.loads
    d = preference_router(config).route(task)
    assert (d.provider, d.model) == ("s1", "ok") and "downgraded to s1/ok" in d.reason
    assert "$0.03 of $0.03 this month" in d.reason  # $0.030 spent of $0.025
    assert run_task(prompt, task, config=config).provider == "s1"
    assert table.loads == loads  # kept current by the runs' own costs: no new query
    other = preference_router(config).route({"project": "acme/web"})
    assert other.provider == "s0"


def test_a_daily_block_stops_run_task_with_the_budget_in_the_message(
        tmp_path: Path, prompt: Path, history_db: Path) -> None:
    config = load_config(budget_config(tmp_path, '[users.alice]\nbudget = { daily_usd = 0.015 }\n'))
    for _ in range(2):
        assert run_task(prompt, {"user": "alice"}, config=config).success
    with pytest.raises(NoAvailableProviderError, match=r"daily budget of user 'alice' is spent: \$0.02 of "
                       r"\$0.01 today; blocked until it resets at \d{4}-\d\d-\d\d 00:00 UTC"):
        run_task(prompt, {"user": "alice"}, config=config)
    assert run_task(prompt, {"user": "bob"}, config=config).success
    states = {(s.name, s.period): s for s in budget_states(config)}
    assert states[("alice", "day")].state == "blocked"
    assert states[("alice", "day")].spent_usd == pytest.approx(0.02)


def test_a_new_month_resets_the_budget(tmp_path: Path, prompt: Path, history_db: Path) -> None:
    config = load_config(budget_config(tmp_path, '[projects."docs/*"]\nbudget = { monthly_usd = 0.005 }\n'))
    assert run_task(prompt, {"project": "docs/site"}, config=config).success
    now = time.time()
    assert not preference_router(config, clock=lambda: now).route({"project": "docs/site"}).available
    assert preference_router(config, clock=lambda: now).route({"project": "docs/blog"}).available
    next_month = period_bounds(now, config.timezone, "month")[1] + 60
    assert preference_router(config, clock=lambda: next_month).route({"project": "docs/site"}).available


def test_another_process_writes_are_seen_after_data_version_changes(tmp_path: Path, history_db: Path) -> None:
    config = load_config(budget_config(tmp_path, '[projects."p"]\nbudget = { daily_usd = 1 }\n'))
    HistoryStore(history_db).close()  # the file exists, as on a machine that ran tasks before
    clock = [time.time()]
    router = preference_router(config, clock=lambda: clock[0])
    assert router.route({"project": "p"}).available
    table = router.spend
    assert table is not None
    loads = table.loads
    for _ in range(1000):
        router.route({"project": "p"})
    assert table.loads == loads  # no query per decision
    with HistoryStore(history_db) as other:  # another connection, as another process would be
        other.record_run(make_run([make_attempt("x", started_at=clock[0], cost_usd=2.0,
                                                task={"project": "p"})]))
    assert router.route({"project": "p"}).available  # looked at no more than once a second
    clock[0] += 1.5
    assert not router.route({"project": "p"}).available
    assert table.loads == loads + 1


def test_cli_route_explain_budgets_and_a_blocked_run(tmp_path: Path, prompt: Path, history_db: Path) -> None:
    path = budget_config(tmp_path, '[projects."docs/*"]\ndeny_providers = ["s1"]\n'
                         'budget = { daily_usd = 0.5, over = "block" }\n')
    with HistoryStore(history_db) as store:
        store.record_run(make_run([make_attempt("y", started_at=time.time(), cost_usd=0.75,
                                                task={"project": "docs/site"})]))
    runner = CliRunner()
    out = runner.invoke(cli, ["route", "--config", str(path), "--project", "docs/site", "--user", "u",
                              "--explain"])
    assert out.exit_code == 0, out.output
    assert "budget:" in out.output and "blocked" in out.output and "deny filter:" in out.output
    assert "(unavailable)" in out.output
    out = runner.invoke(cli, ["budgets", "--config", str(path), "--json"])
    assert out.exit_code == 0, out.output
    (state,) = json.loads(out.output)["budgets"]
    assert (state["name"], state["state"], state["spent_usd"], state["remaining_usd"]) == \
        ("docs/site", "blocked", 0.75, 0.0)
    out = runner.invoke(cli, ["run", str(prompt), "--config", str(path)],
                        env={"TACROUTE_TASK": '{"project": "docs/site"}'})
    assert out.exit_code == 1
    assert "daily budget of project 'docs/*' for 'docs/site' is spent" in out.output
    out = runner.invoke(cli, ["route", "--config", str(path)], env={"TACROUTE_TASK": "[1]"})
    assert out.exit_code == 2 and "TACROUTE_TASK must be a JSON object" in out.output
