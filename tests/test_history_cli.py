"""``tacroute history`` and ``tacroute stats`` through CliRunner, on a real SQLite file."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.history import CooldownPolicy, HistoryStore
from tacroute.types import ErrorClass, Usage
from testkit.history import make_attempt, make_run


@pytest.fixture
def recorded(history_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)  # no ./adws/config.toml or ./tacroute.toml here
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "noconfig"))
    now = time.time()
    store = HistoryStore(history_db, policy=CooldownPolicy(failures=1, cooldown_s=3600))
    specs = [("old", now - 10 * 86_400, "claude-opus-4", True, 4000, 0.4),
             ("mid", now - 3600, "claude-sonnet-4-5", True, 2000, 0.2),
             ("new", now - 60, "claude-sonnet-4-5", False, 1000, None)]
    for rid, at, model, ok, dur, cost in specs:
        a = make_attempt(rid, 1, model=model, success=ok, error_class=None if ok else ErrorClass.TIMEOUT,
                         started_at=at, duration_ms=dur, usage=Usage(dur, 10, 0, 0), cost_usd=cost,
                         task={"priority": "high", "labels": ["bug"]})
        store.record_attempt(a)
        store.record_run(make_run([a]))
    store.close()
    return history_db


def test_history_lists_newest_first_with_cooldowns(recorded: Path) -> None:
    res = CliRunner().invoke(cli, ["history"])
    assert res.exit_code == 0, res.output
    assert f"History: {recorded}" in res.output
    assert res.output.index("run new") < res.output.index("run mid") < res.output.index("run old")
    assert "FAILED (timeout)" in res.output
    assert "cooldown: claude-cli/claude-sonnet-4-5 until" in res.output


def test_history_json_since(recorded: Path) -> None:
    res = CliRunner().invoke(cli, ["history", "--since", "7d", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [r["run_id"] for r in data["runs"]] == ["new", "mid"]
    assert data["runs"][1]["usage"] == {"input_tokens": 2000, "output_tokens": 10, "cache_read_tokens": 0,
                                        "cache_creation_tokens": 0, "reasoning_tokens": 0}
    assert data["cooldowns"][0]["kind"] == "failures"
    assert data["history"] == str(recorded)


def test_stats_json_by_model(recorded: Path) -> None:
    res = CliRunner().invoke(cli, ["stats", "--by", "model", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["key"]: r for r in json.loads(res.output)["rows"]}
    sonnet = rows["claude-cli/claude-sonnet-4-5"]
    assert (sonnet["runs"], sonnet["success_rate"]) == (2, 0.5)
    assert sonnet["median_duration_s"] == pytest.approx(1.5)
    assert sonnet["p95_duration_s"] == pytest.approx(1.95)
    assert sonnet["cost_usd"] == pytest.approx(0.2)
    assert rows["claude-cli/claude-opus-4"]["usage"]["input_tokens"] == 4000


def test_stats_table_since(recorded: Path) -> None:
    res = CliRunner().invoke(cli, ["stats", "--since", "2d"])
    assert res.exit_code == 0, res.output
    header, row = res.output.splitlines()[1:3]
    assert header.split() == ["PROVIDER", "RUNS", "SUCCESS", "MEDIAN", "P95", "IN", "OUT", "CACHE_R",
                              "CACHE_W", "COST"]
    assert row.split() == ["claude-cli", "2", "50.0%", "1.5s", "1.9s", "3000", "20", "0", "0", "$0.2000"]


def test_stats_by_label_and_rule(recorded: Path) -> None:
    res = CliRunner().invoke(cli, ["stats", "--by", "label", "--json"])
    assert [r["key"] for r in json.loads(res.output)["rows"]] == ["bug"]
    res = CliRunner().invoke(cli, ["stats", "--by", "rule", "--json"])
    assert [r["key"] for r in json.loads(res.output)["rows"]] == ["r"]


def test_no_history_yet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "noconfig"))
    res = CliRunner().invoke(cli, ["stats"])
    assert res.exit_code == 0 and "No runs recorded yet." in res.output
    res = CliRunner().invoke(cli, ["history", "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["runs"] == []


def test_usage_errors_exit_2(recorded: Path) -> None:
    res = CliRunner().invoke(cli, ["stats", "--since", "soon"])
    assert res.exit_code == 2 and "--since 'soon'" in res.output
    res = CliRunner().invoke(cli, ["stats", "--by", "colour"])
    assert res.exit_code == 2


def test_config_option_selects_the_history(tmp_path: Path, builtin_registry: object) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[providers.p]\ncommand_template = ['x']\n[routing]\ndefault_provider = 'p'\n"
                   "default_model = 'm'\n[history]\npath = 'mine.db'\n")
    with HistoryStore(tmp_path / "mine.db") as store:
        a = make_attempt("mine", 1, started_at=time.time())
        store.record_attempt(a)
        store.record_run(make_run([a]))
    res = CliRunner().invoke(cli, ["history", "--json", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    assert [r["run_id"] for r in json.loads(res.output)["runs"]] == ["mine"]
    cfg.write_text(cfg.read_text() + "[history.cooldown]\nfailures = 'many'\n")
    res = CliRunner().invoke(cli, ["stats", "--config", str(cfg)])
    assert res.exit_code == 2
    assert "history.cooldown.failures: must be an integer" in res.output
