"""``tacroute run --json`` end to end: a rule sends the task to OpenRouter (against the loopback
fake server), and failures fail over to a second candidate.

Every test runs twice: in-process (the table names no command: the default) and through the
real wrapper process (``command_template`` names it, as the seed's config does); both paths
must give the same answers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.plugins import Registry
from testkit.anthropic_server import FakeAnthropicServer, Text
from testkit.openrouter_fixtures import TEST_KEY
from testkit.openrouter_server import (
    FakeOpenRouter,
    drop_reply,
    error_reply,
    midstream_error_reply,
    stall_reply,
    stream_reply,
)

WRAPPER = str(Path(sys.executable).parent / "tacroute-openrouter")
HAIKU = "anthropic/claude-3.5-haiku"


WRAPPER_ARGV = json.dumps([WRAPPER, "-p", "{prompt_file}", "--model", "{model}",
                           "--output-file", "{output_file}"])
CLAUDE_ARGS = ["-p", "--model", "{model}", "--output-format", "stream-json", "--verbose"]


def openrouter_table(name: str, server: FakeOpenRouter, key_env: str, command: str, extra: str = "") -> str:
    return (f'[providers.{name}]\ntype = "openrouter"\napi_key_env = "{key_env}"\n'
            f'base_url = "{server.base_url}"\nx_title = "tacroute e2e"\n'
            f"{command}{extra}\n")


def config(tmp_path: Path, tables: list[str], first: str, first_model: str, second: str | None = None,
           second_model: str = "openai/gpt-4o-mini", runner: str = "") -> Path:
    """A rule sends priority=high to ``first``; ``second`` (or ``first``) is the default."""
    text = "\n".join(tables)
    text += (f'\n[routing]\nenabled = true\ndefault_provider = "{second or first}"\n'
             f'default_model = "{second_model}"\n\n[[routing.rules]]\nname = "high-to-openrouter"\n'
             f'priority = 90\nconditions = {{ priority = "high" }}\nprovider = "{first}"\n'
             f'model = "{first_model}"\n{runner}')
    path = tmp_path / "tacroute.toml"
    path.write_text(text, encoding="utf-8")
    return path


def tacroute_run(tmp_path: Path, cfg: Path) -> tuple[int, dict[str, Any], str]:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Fix the failing test.\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(prompt), "--priority", "high", "--json",
                                      "--config", str(cfg)])
    try:
        data = json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"not JSON (exit {result.exit_code}): {result.output!r} {result.exception!r}")
    return result.exit_code, data, result.output


@pytest.fixture(params=["in-process", "wrapper"])
def keys(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, builtin_registry: Registry,
         pricing_cache: Path, tmp_path: Path) -> str:
    """The keys set; returns the tables' command line (empty: in-process)."""
    monkeypatch.setenv("OR_KEY_A", TEST_KEY)
    monkeypatch.setenv("OR_KEY_B", TEST_KEY)
    monkeypatch.chdir(tmp_path)
    return "" if request.param == "in-process" else f"command_template = {WRAPPER_ARGV}\n"


def test_rule_sends_the_task_to_openrouter(keys: str, tmp_path: Path,
                                           openrouter_server: FakeOpenRouter) -> None:
    openrouter_server.valid_key = TEST_KEY
    openrouter_server.script(stream_reply(["Patched ", "the test."], model=HAIKU, prompt_tokens=120,
                                          completion_tokens=30, cost=0.00021, cached=20))
    cfg = config(tmp_path, [openrouter_table("openrouter", openrouter_server, "OR_KEY_A", keys)],
                 "openrouter", HAIKU)
    code, data, output = tacroute_run(tmp_path, cfg)
    assert code == 0, [(a["error_class"], a["message"]) for a in data["attempts"]]
    assert data["success"] is True
    assert (data["provider"], data["model"], data["rule"]) == ("openrouter", HAIKU, "high-to-openrouter")
    assert data["result"] == "Patched the test."
    assert data["cost_usd"] == pytest.approx(0.00021)
    assert data["usage"] == {"input_tokens": 100, "output_tokens": 30, "cache_read_tokens": 20,
                             "cache_creation_tokens": 0, "reasoning_tokens": 0}
    assert [a["error_class"] for a in data["attempts"]] == [None]
    (req,) = openrouter_server.chat_requests()
    assert req.body["model"] == HAIKU and req.headers["x-title"] == "tacroute e2e"
    assert req.body["messages"][-1]["content"] == "Fix the failing test.\n"
    lines = Path(data["output_file"]).read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["type"] == "result"
    assert TEST_KEY not in output + "\n".join(lines)


@pytest.mark.parametrize(("first_reply", "error_class"), [
    (error_reply(401, "Invalid credentials"), "auth"),
    (error_reply(402, "Insufficient credits"), "auth"),
    (error_reply(404, "No endpoints found"), "model_not_found"),
    (error_reply(500, "Internal error"), "overloaded"),
    (midstream_error_reply(["half"], code=502, message="Provider returned error"), "overloaded"),
    (drop_reply(["half an answer"]), "overloaded"),
    (stall_reply(60), "timeout"),
])
def test_failover_from_openrouter_to_a_second_candidate(keys: str, tmp_path: Path,
                                                        openrouter_server: FakeOpenRouter,
                                                        first_reply: Any, error_class: str) -> None:
    second = FakeOpenRouter().start()
    try:
        second.script(stream_reply(["from the second provider"]))
        cfg = config(tmp_path, [
            # A short timeout only where the stall is the point: elsewhere a loaded machine
            # must not turn a slow answer into a timeout.
            openrouter_table("openrouter", openrouter_server, "OR_KEY_A", keys,
                             "request_timeout = 1.0" if error_class == "timeout" else ""),
            openrouter_table("backup", second, "OR_KEY_B", keys)], "openrouter", HAIKU, second="backup")
        openrouter_server.script(first_reply)
        code, data, output = tacroute_run(tmp_path, cfg)
    finally:
        second.stop()
    assert code == 0, [(a["error_class"], a["message"]) for a in data["attempts"]]
    assert [(a["provider"], a["error_class"]) for a in data["attempts"]] == [
        ("openrouter", error_class), ("backup", None)]
    assert data["provider"] == "backup" and data["result"] == "from the second provider"
    assert len(second.chat_requests()) == 1
    assert TEST_KEY not in output


def test_rate_limit_after_the_wrappers_retries_fails_over(keys: str, tmp_path: Path,
                                                          openrouter_server: FakeOpenRouter) -> None:
    second = FakeOpenRouter().start()
    try:
        second.script(stream_reply(["ok"]))
        openrouter_server.script(*[error_reply(429, "Rate limit exceeded", retry_after="0")] * 6)
        cfg = config(tmp_path, [openrouter_table("openrouter", openrouter_server, "OR_KEY_A", keys),
                                openrouter_table("backup", second, "OR_KEY_B", keys)],
                     "openrouter", HAIKU, second="backup")
        code, data, _ = tacroute_run(tmp_path, cfg)
    finally:
        second.stop()
    assert code == 0, [(a["error_class"], a["message"]) for a in data["attempts"]]
    assert [(a["provider"], a["error_class"]) for a in data["attempts"]] == [
        ("openrouter", "rate_limit"), ("backup", None)]
    assert data["success"] is True


def test_bad_request_does_not_fail_over(keys: str, tmp_path: Path,
                                        openrouter_server: FakeOpenRouter) -> None:
    openrouter_server.script(error_reply(400, "Invalid request parameters"), stream_reply(["unused"]))
    cfg = config(tmp_path, [openrouter_table("openrouter", openrouter_server, "OR_KEY_A", keys)],
                 "openrouter", HAIKU)
    code, data, _ = tacroute_run(tmp_path, cfg)
    assert code == 1
    exit_code = 1 if keys else None  # in-process there is no process, so no exit code
    assert [(a["error_class"], a["exit_code"]) for a in data["attempts"]] == [("bad_request", exit_code)]
    assert "Invalid request parameters" in data["attempts"][0]["message"]


@pytest.mark.real_cli
def test_failover_from_openrouter_to_the_real_claude_cli(keys: str, tmp_path: Path, claude_bin: Path,
                                                         claude_home: Path,
                                                         openrouter_server: FakeOpenRouter,
                                                         anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(Text("Claude took over", input_tokens=50, output_tokens=5))
    claude = (f'[providers.claude]\ntype = "claude-cli"\n'
              f"command_template = {json.dumps([str(claude_bin), *CLAUDE_ARGS])}\n"
              f'env = {{ ANTHROPIC_BASE_URL = "{anthropic_server.base_url}" }}\n')
    openrouter_server.script(error_reply(401, "Invalid credentials"))
    cfg = config(tmp_path, [openrouter_table("openrouter", openrouter_server, "OR_KEY_A", keys), claude],
                 "openrouter", HAIKU, second="claude", second_model="claude-sonnet-4-5")
    code, data, _ = tacroute_run(tmp_path, cfg)
    assert code == 0, [(a["error_class"], a["message"]) for a in data["attempts"]]
    assert [(a["provider"], a["error_class"]) for a in data["attempts"]] == [("openrouter", "auth"),
                                                                             ("claude", None)]
    assert data["result"] == "Claude took over"
