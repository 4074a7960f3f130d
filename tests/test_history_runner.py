"""The history layer with the real runner: ``tacroute run`` on the real Claude CLI (fake API server).

Recording goes through the entry-point plugin (``history``) as in production;
the cooldown a failure sets is honoured by the next run's routing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.history import HistoryStore
from tacroute.plugins import Registry, set_registry
from testkit.anthropic_server import FakeAnthropicServer, HttpError, Text

pytestmark = pytest.mark.real_cli

MODEL = "claude-sonnet-4-5"


@pytest.fixture
def registry_with_history() -> Iterator[Registry]:
    reg = Registry.load(env={"TACROUTE_LOAD_PLUGINS": "priority,labels,retry_count,hour_range,claude_cli,"
                                                      "history"})
    assert "history" in reg.plugins and not reg.plugins["history"].error
    set_registry(reg)
    yield reg
    set_registry(None)


def _provider(name: str, claude: Path, server: FakeAnthropicServer) -> str:
    argv = [str(claude), "-p", "--model", "{model}", "--output-format", "stream-json", "--verbose"]
    return (f'[providers.{name}]\ntype = "claude-cli"\ncommand_template = {json.dumps(argv)}\n'
            f'env = {{ ANTHROPIC_BASE_URL = "{server.base_url}" }}\n')


def _config(work: Path, claude: Path, first: FakeAnthropicServer, second: FakeAnthropicServer,
            history: str) -> Path:
    text = (_provider("first", claude, first) + _provider("second", claude, second)
            + f'[routing]\nenabled = true\ndefault_provider = "second"\ndefault_model = "{MODEL}"\n\n'
            f'[[routing.rules]]\nname = "high-first"\npriority = 90\nconditions = {{ priority = "high" }}\n'
            f'provider = "first"\nmodel = "{MODEL}"\n\n' + history)
    path = work / "tacroute.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(work: Path, config: Path) -> tuple[int, dict[str, Any]]:
    prompt = work / "prompt.txt"
    prompt.write_text("Say OK.\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["run", str(prompt), "--priority", "high", "--label", "Bug", "--json",
                                   "--timeout", "120", "--config", str(config)])
    return res.exit_code, json.loads(res.stdout)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, claude_home: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_run_is_recorded_and_a_failure_cools_the_provider_down(
        work: Path, claude_bin: Path, registry_with_history: Registry,
        anthropic_server: FakeAnthropicServer, second_anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(HttpError(401, message="invalid x-api-key"))
    anthropic_server.side = HttpError(401, message="invalid x-api-key")
    second_anthropic_server.script(Text("second answered", input_tokens=120, output_tokens=7),
                                   Text("second again", input_tokens=80, output_tokens=3))
    config = _config(work, claude_bin, anthropic_server, second_anthropic_server,
                     '[history]\npath = "h.db"\n[history.cooldown]\nfailures = 1\ncooldown_s = 3600\n')

    code, first_run = _run(work, config)
    assert code == 0, first_run
    assert [(a["provider"], a["error_class"]) for a in first_run["attempts"]] == [("first", "auth"),
                                                                                 ("second", None)]
    with HistoryStore(work / "h.db") as store:
        (row,) = list(store.runs())
        assert row.run_id and row.success and (row.provider, row.rule) == ("second", "high-first")
        assert row.task == {"priority": "high", "labels": ["Bug"]}
        assert row.attempts == 2
        assert row.usage.input_tokens == first_run["usage"]["input_tokens"]
        assert row.cost_usd == pytest.approx(first_run["cost_usd"])
        assert store.count("decisions") == 1
        assert [r.key for r in store.stats("label")] == ["bug"]
        (cool,) = store.cooldowns()
        assert (cool.provider, cool.model, cool.kind) == ("first", MODEL, "failures")
        assert "auth" in cool.reason
        # the runner marked both attempts' start and end
        conn = sqlite3.connect(work / "h.db")
        assert conn.execute("SELECT count(*) FROM slots WHERE ended_at IS NOT NULL").fetchone()[0] == 2
        conn.close()
    requests_before = len(anthropic_server.message_requests())

    # The next run skips "first" (cooling down) and goes straight to "second".
    code, second_run = _run(work, config)
    assert code == 0, second_run
    assert [a["provider"] for a in second_run["attempts"]] == ["second"]
    assert len(anthropic_server.message_requests()) == requests_before
    res = CliRunner().invoke(cli, ["route", "--priority", "high", "--explain", "--config", str(config)])
    assert "[skipped: cooldown until" in res.output and "auth" in res.output
    res = CliRunner().invoke(cli, ["stats", "--by", "provider", "--json", "--config", str(config)])
    rows = {r["key"]: r for r in json.loads(res.output)["rows"]}
    assert rows["second"]["runs"] == 2 and rows["second"]["success_rate"] == 1.0
