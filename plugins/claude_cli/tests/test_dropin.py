"""``tacroute-claude``: the Claude CLI's command line and output, routed by tacroute.

The end-to-end tests run the installed console script as a coordinator would
(a whitelisted environment, the config found as ``./adws/config.toml`` in the
coordinator's folder) with the real Claude CLI against fake Anthropic servers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tacroute_claude_cli.dropin.argv import UsageProblem, parse
from tacroute_claude_cli.dropin.attrs import task_for_call
from testkit.anthropic_server import FakeAnthropicServer, HttpError, Text
from testkit.claude import FAKE_API_KEY
from testkit.openrouter_server import FakeOpenRouter, echo_auth_reply, stream_reply

DROPIN = str(Path(sys.executable).parent / "tacroute-claude")
COORDINATOR = str(Path(__file__).with_name("adw_coordinator.py"))
MODEL = "claude-sonnet-4-5"
OR_KEY = "fake-or-key-Zq8xW3LpT7mN2vB9cR4kY6hJ1dF5gS0a"


# ------------------------------------------------------------------ the command line
def test_parse_reads_print_mode_like_the_cli() -> None:
    call = parse(["-p", "/chore fix it", "--model", "sonnet", "--output-format", "stream-json", "--verbose",
                  "--dangerously-skip-permissions", "--allowedTools", "Bash", "Edit", "--max-turns=3"])
    assert (call.print_mode, call.prompt, call.model, call.output_format, call.verbose) == (
        True, "/chore fix it", "sonnet", "stream-json", True)
    assert call.forward == ("--dangerously-skip-permissions", "--allowedTools", "Bash", "Edit", "--max-turns=3")
    assert call.session_bound == ()
    assert parse(["--resume", "abc", "-p", "go on"]).session_bound == ("--resume",)
    assert parse(["-p", "--continue"]).session_bound == ("--continue",)
    assert parse(["-p"]).prompt is None and parse(["-p"]).output_format == "text"
    for bad in (["-p", "--frobnicate"], ["-p", "--output-format", "xml"], ["-p", "a", "b"], ["-p", "--model"]):
        with pytest.raises(UsageProblem):
            parse(bad)


def test_task_attributes_from_the_call_or_tacroute_task() -> None:
    issue = {"number": 42, "title": "Docs are stale", "body": "see {braces}",
             "labels": [{"name": "documentation"}, {"name": "good first issue"}]}
    prompt = f"/classify_issue adw-1 {json.dumps(issue)}"
    assert task_for_call(prompt, "Sonnet", {}) == {
        "command": "/classify_issue", "labels": ["documentation", "good first issue"], "issue": 42,
        "requested_model": "sonnet"}
    assert task_for_call("plain words {not json", "claude-opus-4-1", {}) == {
        "requested_model": "claude-opus-4-1"}
    assert task_for_call("/bug x", "sonnet", {"TACROUTE_TASK": '{"priority": "high"}'}) == {"priority": "high"}
    with pytest.raises(UsageProblem):
        task_for_call("x", None, {"TACROUTE_TASK": "[1]"})


# ------------------------------------------------------------------ real processes
def claude_table(name: str, claude: Path, server: FakeAnthropicServer, command: str | None = None) -> str:
    argv = [command or str(claude), "-p", "--model", "{model}", "--output-format", "stream-json", "--verbose"]
    return (f'[providers.{name}]\ntype = "claude-cli"\ncommand_template = {json.dumps(argv)}\n'
            f'env = {{ ANTHROPIC_BASE_URL = "{server.base_url}", IS_SANDBOX = "1", '
            'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1" }\n')


def repo_with_config(tmp_path: Path, tables: str, default: str, chores: str | None = None,
                     extra: str = "") -> Path:
    """A coordinator's repository: ./adws/config.toml and a /chore slash command."""
    repo = tmp_path / "repo"
    (repo / "adws").mkdir(parents=True)
    (repo / ".claude" / "commands").mkdir(parents=True)
    (repo / ".claude" / "commands" / "chore.md").write_text("Plan the chore described here: $ARGUMENTS\n")
    text = tables + f'\n[routing]\nenabled = true\ndefault_provider = "{default}"\ndefault_model = "{MODEL}"\n'
    if chores is not None:
        text += (f'\n[[routing.rules]]\nname = "chores"\npriority = 50\nprovider = "{chores}"\n'
                 f'model = "{MODEL}"\nconditions = {{ match = {{ command = ["/chore", "/docs"], '
                 'requested_model = "sonnet" } }\n')
    (repo / "adws" / "config.toml").write_text(text + extra)
    return repo


def whitelisted_env(tmp_path: Path) -> dict[str, str]:
    """What a coordinator passes: no TACROUTE_*, no OPENROUTER_API_KEY."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), "PATH": os.environ["PATH"], "ANTHROPIC_API_KEY": FAKE_API_KEY,
            "CLAUDE_CODE_PATH": DROPIN, "LANG": "C.UTF-8"}


def run_coordinator(repo: Path, env: dict[str, str], prompt: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    raw = repo / "raw_output.jsonl"
    proc = subprocess.run([sys.executable, COORDINATOR, prompt, str(raw)], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in raw.read_text().splitlines() if x.strip()]
    return json.loads(proc.stdout), lines


@pytest.mark.real_cli
def test_coordinator_fails_over_from_a_401_provider_without_knowing(
        tmp_path: Path, claude_bin: Path, anthropic_server: FakeAnthropicServer,
        second_anthropic_server: FakeAnthropicServer) -> None:
    bad, good = anthropic_server, second_anthropic_server
    bad.script(HttpError(401))
    good.script(Text("chore planned"))
    repo = repo_with_config(tmp_path, claude_table("bad", claude_bin, bad) + claude_table("good", claude_bin, good),
                            default="good", chores="bad")
    seen, lines = run_coordinator(repo, whitelisted_env(tmp_path), "/chore tidy the docs")
    assert seen["returncode"] == 0, seen["stderr"]
    assert (seen["is_error"], seen["result"]) == (False, "chore planned")
    assert seen["total_cost_usd"] > 0
    # Exactly one result line, last; the failed attempt's lines streamed before the winner's.
    types = [x["type"] for x in lines]
    assert types.count("result") == 1 and types[-1] == "result"
    assert any(x.get("subtype") == "api_retry" and x.get("error_status") == 401 for x in lines)
    inits = [x for x in lines if x.get("subtype") == "init"]
    assert len(inits) == 2 and seen["session_id"] == inits[-1]["session_id"]
    final = lines[-1]
    assert {"usage", "duration_ms", "num_turns"} <= set(final) and final["tacroute"]["provider"] == "good"
    # The rule matched the slash command and the requested model; the worker ran in the
    # repository: the CLI expanded .claude/commands/chore.md, and the agent flag reached it.
    assert [r.reply for r in bad.message_requests() if r.main] == ["HttpError(401)"]
    [main] = [r for r in good.message_requests() if r.main]
    assert "Plan the chore described here: tidy the docs" in main.prompt
    assert inits[-1]["permissionMode"] == "bypassPermissions" and inits[-1]["cwd"] == str(repo)


@pytest.mark.real_cli
def test_every_provider_failing_gives_one_claude_shaped_error_result(
        tmp_path: Path, claude_bin: Path, anthropic_server: FakeAnthropicServer,
        second_anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(HttpError(401))
    second_anthropic_server.script(HttpError(401))
    repo = repo_with_config(tmp_path, claude_table("a", claude_bin, anthropic_server)
                            + claude_table("b", claude_bin, second_anthropic_server), default="b", chores="a")
    seen, lines = run_coordinator(repo, whitelisted_env(tmp_path), "/chore x")
    assert [x["type"] for x in lines].count("result") == 1 and lines[-1]["type"] == "result"
    assert seen["is_error"] is True and seen["total_cost_usd"] == 0.0
    assert "attempt 1 a/" in seen["result"] and "attempt 2 b/" in seen["result"] and "auth" in seen["result"]
    assert isinstance(lines[-1]["total_cost_usd"], int | float) and lines[-1]["session_id"]
    assert len(seen["stderr"].strip().splitlines()) == 1 and "every attempt failed" in seen["stderr"]


@pytest.mark.real_cli
def test_text_and_json_formats_and_version(tmp_path: Path, claude_bin: Path,
                                           anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(Text("plain answer"))
    repo = repo_with_config(tmp_path, claude_table("c", claude_bin, anthropic_server), default="c")
    env = whitelisted_env(tmp_path)
    text = subprocess.run([DROPIN, "-p", "hi"], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert (text.returncode, text.stdout) == (0, "plain answer\n"), text.stderr
    as_json = subprocess.run([DROPIN, "-p", "--output-format", "json"], input="hi", cwd=repo, env=env,
                             capture_output=True, text=True, timeout=300)
    obj = json.loads(as_json.stdout)
    assert (obj["type"], obj["is_error"], obj["result"]) == ("result", False, "plain answer")
    version = subprocess.run([DROPIN, "--version"], cwd=repo, env=env, capture_output=True, text=True,
                             timeout=300)
    assert version.returncode == 0 and "tacroute-claude" in version.stdout and "(Claude Code)" in version.stdout


def test_never_calls_itself(tmp_path: Path, anthropic_server: FakeAnthropicServer) -> None:
    link = tmp_path / "claude"
    link.symlink_to(DROPIN)  # a "claude" that is tacroute-claude
    repo = repo_with_config(tmp_path, claude_table("loop", link, anthropic_server), default="loop")
    env = whitelisted_env(tmp_path)
    proc = subprocess.run([DROPIN, "-p", "hi"], cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "itself" in proc.stderr and proc.stdout == ""
    nested = subprocess.run([DROPIN, "-p", "hi"], cwd=repo, env={**env, "TACROUTE_CLAUDE_NESTED": "1"},
                            capture_output=True, text=True, timeout=120)
    assert nested.returncode == 2 and "itself" in nested.stderr
    assert anthropic_server.message_requests() == []


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    env = whitelisted_env(tmp_path)
    for argv, why in ((["hi"], "print mode"), (["-p", "hi", "--output-format", "stream-json"], "--verbose"),
                      (["-p", "hi", "--bogus"], "unknown option"), (["-p"], "Input must be provided")):
        proc = subprocess.run([DROPIN, *argv], cwd=tmp_path, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=120)
        assert proc.returncode == 2 and why in proc.stderr and "Traceback" not in proc.stderr, (argv, proc.stderr)


@pytest.mark.real_cli
def test_openrouter_key_from_the_env_file_streams_and_stays_secret(
        tmp_path: Path, claude_bin: Path, anthropic_server: FakeAnthropicServer,
        openrouter_server: FakeOpenRouter) -> None:
    anthropic_server.script(HttpError(401))
    openrouter_server.script(echo_auth_reply(401), stream_reply(["Hello ", "there"]))
    tables = claude_table("claude", claude_bin, anthropic_server) + (
        f'[providers.or-a]\ntype = "openrouter"\napi_key_env = "OR_TEAM_KEY"\nbase_url = "{openrouter_server.base_url}"\n'
        'max_retries = 0\n'
        f'[providers.or-b]\ntype = "openrouter"\napi_key_env = "OR_TEAM_KEY"\nbase_url = "{openrouter_server.base_url}"\n'
        'max_retries = 0\n')
    extra = ('\n[[routing.rules]]\nname = "docs"\npriority = 40\n'
             'conditions = { match = { command = "/docs" } }\n'
             'targets = [{ provider = "or-a", model = "openai/gpt-4o-mini" }, '
             '{ provider = "or-b", model = "openai/gpt-4o-mini" }]\n'
             '\n[secrets]\nenv_file = "../.env"\n')
    repo = repo_with_config(tmp_path, tables, default="claude", extra=extra)
    (repo / ".env").write_text(f'OR_TEAM_KEY="{OR_KEY}"\n')
    env = whitelisted_env(tmp_path)
    proc = subprocess.run([DROPIN, "-p", "/docs update", "--output-format", "stream-json", "--verbose",
                           "--max-turns", "3"], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [x["type"] for x in lines].count("result") == 1 and lines[-1]["type"] == "result"
    assert lines[-1]["is_error"] is False and lines[-1]["result"] == "Hello there"
    assert any(x["type"] == "assistant" for x in lines[:-1])  # the in-process transcript, streamed
    assert "ran without --max-turns" in proc.stderr
    # The first OpenRouter attempt's error echoed the key: masked, as a secret from the env file.
    assert OR_KEY not in proc.stdout + proc.stderr
    assert OR_KEY[:12] not in proc.stdout + proc.stderr
