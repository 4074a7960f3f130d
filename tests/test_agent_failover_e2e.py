"""One task fails over Claude (401) -> Codex (401) -> Gemini, with the three real CLIs.

Each CLI talks to its own fake API on 127.0.0.1. History and stats then show
the run's three attempts, and the estimated cost marked as estimated.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from testkit.agent_api import HttpError, Text
from testkit.agents import codex_table, gemini_table, run_json, write_agent_config
from testkit.anthropic_server import FakeAnthropicServer
from testkit.anthropic_server import HttpError as AnthropicError
from testkit.claude import FAKE_API_KEY
from testkit.gemini_server import FakeGeminiServer
from testkit.openai_server import FakeOpenAIServer

pytestmark = [pytest.mark.real_cli, pytest.mark.real_agent_cli]


def claude_table(claude: Path, server: FakeAnthropicServer) -> str:
    argv = [str(claude), "-p", "--model", "{model}", "--output-format", "stream-json", "--verbose"]
    return (f'[providers.claude]\ntype = "claude-cli"\ncommand_template = {json.dumps(argv)}\n'
            f'env = {{ ANTHROPIC_BASE_URL = "{server.base_url}" }}\n')


def test_claude_401_then_codex_401_then_gemini(agent_workdir: Path, claude_bin: Path, codex_bin: Path,
                                               gemini_bin: Path, history_db: Path,
                                               anthropic_server: FakeAnthropicServer,
                                               openai_server: FakeOpenAIServer,
                                               gemini_server: FakeGeminiServer,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_API_KEY)
    monkeypatch.setenv("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
    anthropic_server.script(AnthropicError(401, message="invalid x-api-key"))
    openai_server.script(HttpError(401, "Incorrect API key provided"))
    gemini_server.script(Text("Gemini did it", input_tokens=1000, output_tokens=100, cached_tokens=0,
                              reasoning_tokens=0))
    tables = [claude_table(claude_bin, anthropic_server), codex_table("codex", codex_bin, openai_server),
              gemini_table("gemini", gemini_bin, gemini_server)]
    config = write_agent_config(agent_workdir, tables, "claude", "claude-sonnet-4-5",
                                fallbacks=(("codex", "gpt-5-codex"), ("gemini", "gemini-2.5-pro")))
    code, data = run_json(config)
    assert code == 0, data
    assert [(a["provider"], a["error_class"]) for a in data["attempts"]] == [
        ("claude", "auth"), ("codex", "auth"), ("gemini", None)]
    assert data["result"] == "Gemini did it"
    assert data["cost_source"] == "estimated" and data["cost_usd"] == pytest.approx(1000 * 1.25e-6 + 100 * 10e-6)
    assert all(a["session_id"] for a in data["attempts"][1:])

    # History: one run of three attempts, its cost marked estimated.
    res = CliRunner().invoke(cli, ["history", "--json", "--config", str(config)])
    assert res.exit_code == 0, res.output
    run = json.loads(res.stdout)["runs"][0]
    assert run["attempts"] == 3 and run["provider"] == "gemini" and run["cost_source"] == "estimated"
    with sqlite3.connect(history_db) as conn:
        rows = conn.execute("SELECT provider, error_class, cost_source, session_id IS NOT NULL "
                            "FROM attempts ORDER BY attempt").fetchall()
    assert [r[:2] for r in rows] == [("claude", "auth"), ("codex", "auth"), ("gemini", None)]
    assert rows[2][2] == "estimated" and rows[1][3] and rows[2][3]

    # Stats: the cost is flagged as tacroute's estimate, in JSON and in the table.
    res = CliRunner().invoke(cli, ["stats", "--by", "provider", "--json", "--config", str(config)])
    row = json.loads(res.stdout)["rows"][0]
    assert row["key"] == "gemini" and row["cost_source"] == "estimated"
    assert row["estimated_cost_usd"] == pytest.approx(row["cost_usd"])
    res = CliRunner().invoke(cli, ["stats", "--config", str(config)])
    assert "~$" in res.stdout and "estimated by tacroute" in res.stdout
