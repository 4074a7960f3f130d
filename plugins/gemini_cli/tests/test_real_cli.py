"""`tacroute run` with the real Gemini CLI against the fake Gemini API.

No timed assertions: the CLI's retries are shown by how many requests the server saw.
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
from testkit.agents import FAKE_GEMINI_KEY, gemini_table, run_json, write_agent_config
from testkit.gemini_server import FakeGeminiServer

pytestmark = pytest.mark.real_agent_cli

MODEL = "gemini-2.5-pro"


def test_success_text_session_tokens_and_estimated_cost(agent_workdir: Path, agent_env: Path, gemini_bin: Path,
                                                        gemini_server: FakeGeminiServer) -> None:
    gemini_server.script(Text("Hello from fake Gemini", input_tokens=500, output_tokens=40,
                              cached_tokens=200, reasoning_tokens=10))
    config = write_agent_config(agent_workdir, [gemini_table("gem", gemini_bin, gemini_server)], "gem", MODEL)
    code, data = run_json(config)
    assert code == 0, data
    assert data["success"] and data["result"] == "Hello from fake Gemini"
    attempt = data["attempts"][0]
    assert attempt["session_id"]
    assert data["usage"] == {"input_tokens": 300, "output_tokens": 50, "cache_read_tokens": 200,
                             "cache_creation_tokens": 0, "reasoning_tokens": 10}
    expected = PricingTable().cost(MODEL, Usage(300, 50, 200, 0, 10))
    assert data["cost_usd"] == pytest.approx(expected) and data["cost_source"] == "estimated"
    # API-key auth came from the table's own HOME; the user's HOME was never touched.
    settings = json.loads((agent_env / "providers" / "gem" / "home" / ".gemini" / "settings.json").read_text())
    assert settings["security"]["auth"]["selectedType"] == "gemini-api-key"
    assert not (Path.home() / ".gemini").exists()
    main = gemini_server.main_requests()
    assert len(main) == 1 and main[0].has_key and main[0].model == MODEL


def test_tool_call_runs_in_the_task_folder(agent_workdir: Path, gemini_bin: Path,
                                           gemini_server: FakeGeminiServer) -> None:
    gemini_server.script(ToolCall("echo edited > made-by-gemini.txt"), Text("done"))
    config = write_agent_config(agent_workdir, [gemini_table("gem", gemini_bin, gemini_server)], "gem", MODEL)
    code, data = run_json(config)
    assert code == 0, data
    assert data["result"] == "done"
    assert (agent_workdir / "made-by-gemini.txt").read_text().strip() == "edited"


def test_invalid_key_is_auth(agent_workdir: Path, gemini_bin: Path, gemini_server: FakeGeminiServer) -> None:
    gemini_server.script(HttpError(400, "API key not valid. Please pass a valid API key.", reason="API_KEY_INVALID"))
    config = write_agent_config(agent_workdir, [gemini_table("gem", gemini_bin, gemini_server)], "gem", MODEL)
    code, data = run_json(config)
    assert code == 1
    assert data["attempts"][0]["error_class"] == "auth" and data["attempts"][0]["exit_code"] == 144
    assert FAKE_GEMINI_KEY not in json.dumps(data)


def test_rate_limit_is_not_retried_by_the_cli(agent_workdir: Path, gemini_bin: Path,
                                              gemini_server: FakeGeminiServer) -> None:
    # Left to its defaults the CLI retries a 429 up to ten times, 5-30 s apart.
    gemini_server.script(HttpError(429, "Resource has been exhausted", retry_after=3))
    config = write_agent_config(agent_workdir, [gemini_table("gem", gemini_bin, gemini_server)], "gem", MODEL,
                                extra='\n[runner]\nmax_attempts = 1\n')
    code, data = run_json(config)
    assert code == 1
    assert data["attempts"][0]["error_class"] == "rate_limit", data["attempts"][0]["message"]
    assert len(gemini_server.main_requests()) == 1


def test_cut_stream_is_overloaded(agent_workdir: Path, gemini_bin: Path, gemini_server: FakeGeminiServer) -> None:
    gemini_server.script(Drop(after_deltas=1))
    config = write_agent_config(agent_workdir, [gemini_table("gem", gemini_bin, gemini_server)], "gem", MODEL)
    code, data = run_json(config)
    assert code == 1
    assert data["attempts"][0]["error_class"] == "overloaded"


def test_key_from_another_variable_and_providers_check(agent_workdir: Path, gemini_bin: Path,
                                                       gemini_server: FakeGeminiServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.setenv("MY_GEMINI_KEY", FAKE_GEMINI_KEY)
    table = gemini_table("gem", gemini_bin, gemini_server, 'api_key_env = "MY_GEMINI_KEY"\n')
    config = write_agent_config(agent_workdir, [table], "gem", MODEL)
    code, data = run_json(config)
    assert code == 0, data
    assert gemini_server.main_requests()[0].has_key
    res = CliRunner().invoke(cli, ["providers", "--check", "--json", "--config", str(config)])
    assert res.exit_code == 0, res.output
    check = json.loads(res.stdout)["providers"][0]["check"]
    assert check["ok"] and "0.61.0" in check["version"]
