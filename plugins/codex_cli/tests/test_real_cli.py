"""`tacroute run` with the real Codex CLI against the fake OpenAI Responses API.

No timed assertions: "stopped at once" is shown by the class the attempt ends
with and by how many requests the server saw (the CLI makes six on a 401).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.pricing import PricingTable
from tacroute.types import Usage
from testkit.agent_api import Drop, HttpError, Text, ToolCall
from testkit.agents import FAKE_OPENAI_KEY, codex_table, run_json, write_agent_config
from testkit.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.real_agent_cli

MODEL = "gpt-5-codex"


def test_success_text_session_tokens_and_estimated_cost(agent_workdir: Path, agent_env: Path, codex_bin: Path,
                                                        openai_server: FakeOpenAIServer) -> None:
    openai_server.script(Text("Hello from fake OpenAI", input_tokens=400, output_tokens=30,
                              cached_tokens=100, reasoning_tokens=12))
    config = write_agent_config(agent_workdir, [codex_table("codex", codex_bin, openai_server)], "codex", MODEL)
    code, data = run_json(config)
    assert code == 0, data
    assert data["success"] and data["result"] == "Hello from fake OpenAI"
    attempt = data["attempts"][0]
    assert attempt["session_id"]  # the CLI's thread_id
    assert data["usage"] == {"input_tokens": 300, "output_tokens": 30, "cache_read_tokens": 100,
                             "cache_creation_tokens": 0, "reasoning_tokens": 12}
    expected = PricingTable().cost(MODEL, Usage(300, 30, 100, 0, 12))
    assert data["cost_usd"] == pytest.approx(expected) and data["cost_source"] == "estimated"
    assert attempt["cost_source"] == "estimated"
    # The CLI ran against the table's own CODEX_HOME, holding no secret; the user's HOME untouched.
    config_toml = (agent_env / "providers" / "codex" / "codex-home" / "config.toml").read_text()
    assert openai_server.base_url in config_toml and FAKE_OPENAI_KEY not in config_toml
    assert not (Path.home() / ".codex").exists()
    main = openai_server.main_requests()
    assert len(main) == 1 and main[0].has_key and main[0].model == MODEL


def test_tool_call_runs_in_the_task_folder(agent_workdir: Path, codex_bin: Path,
                                           openai_server: FakeOpenAIServer) -> None:
    openai_server.script(ToolCall("echo edited > made-by-codex.txt"), Text("done"))
    config = write_agent_config(agent_workdir, [codex_table("codex", codex_bin, openai_server)], "codex", MODEL)
    code, data = run_json(config)
    assert code == 0, data
    assert data["result"] == "done"
    assert (agent_workdir / "made-by-codex.txt").read_text().strip() == "edited"
    assert len(openai_server.main_requests()) == 2


def test_401_is_stopped_at_the_first_reconnect(agent_workdir: Path, codex_bin: Path,
                                               openai_server: FakeOpenAIServer) -> None:
    openai_server.script(HttpError(401, "Incorrect API key provided"))
    config = write_agent_config(agent_workdir, [codex_table("codex", codex_bin, openai_server)], "codex", MODEL)
    code, data = run_json(config)
    assert code == 1
    attempt = data["attempts"][0]
    assert attempt["error_class"] == "auth" and "first retry" in attempt["message"]
    assert FAKE_OPENAI_KEY not in json.dumps(data)
    # Left alone, the CLI asks six times (five reconnects); stopped, it got no further than two.
    assert len(openai_server.main_requests()) <= 2


def test_cut_stream_is_overloaded_after_a_few_cli_retries(agent_workdir: Path, codex_bin: Path,
                                                          openai_server: FakeOpenAIServer) -> None:
    openai_server.script(Drop(after_deltas=1))
    config = write_agent_config(agent_workdir, [codex_table("codex", codex_bin, openai_server)], "codex", MODEL)
    code, data = run_json(config)
    assert code == 1
    assert data["attempts"][0]["error_class"] == "overloaded"
    assert len(openai_server.main_requests()) <= 4


def test_providers_check_runs_the_cli_and_checks_the_key(agent_workdir: Path, codex_bin: Path,
                                                         openai_server: FakeOpenAIServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_agent_config(agent_workdir, [codex_table("codex", codex_bin, openai_server)], "codex", MODEL)
    res = CliRunner().invoke(cli, ["providers", "--check", "--json", "--config", str(config)])
    assert res.exit_code == 0, res.output
    check = json.loads(res.stdout)["providers"][0]["check"]
    assert check["ok"] and "0.169.0" in check["version"] and "OPENAI_API_KEY is set" in check["message"]
    monkeypatch.delenv("OPENAI_API_KEY")
    res = CliRunner().invoke(cli, ["providers", "--json", "--config", str(config)])
    row = json.loads(res.stdout)["providers"][0]
    assert row["available"] is False and "OPENAI_API_KEY" in row["reason"]
