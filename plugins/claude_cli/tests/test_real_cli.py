"""`tacroute run --json` with the real Claude CLI against the fake Anthropic API server.

Each test scripts the fake server (testkit/anthropic_server.py), writes a config
whose providers point the CLI at it (``env.ANTHROPIC_BASE_URL``), and runs the
CLI command through click's CliRunner. No timed assertions: "stopped at once"
is shown by the class the attempt ends with and by the requests the server saw.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tacroute import run_task
from tacroute.cli import cli
from tacroute.plugins import Registry
from testkit.anthropic_server import Drop, FakeAnthropicServer, HttpError, Slow, Text, ToolUse
from testkit.claude import FAKE_API_KEY, claude_env
from testkit.script_provider import process_alive

pytestmark = pytest.mark.real_cli

MODEL = "claude-sonnet-4-5"


def provider_table(name: str, claude: Path, server: FakeAnthropicServer | None, *,
                   skip_permissions: bool = False, sandbox: bool = True) -> str:
    argv = [str(claude), "-p", "--model", "{model}", "--output-format", "stream-json", "--verbose"]
    if skip_permissions:
        argv.append("--dangerously-skip-permissions")
    env = {}
    if server is not None:
        env["ANTHROPIC_BASE_URL"] = server.base_url
    if skip_permissions and sandbox:
        env["IS_SANDBOX"] = "1"
    env_toml = ", ".join(f'{k} = "{v}"' for k, v in env.items())
    return (f'[providers.{name}]\ntype = "claude-cli"\ncommand_template = {json.dumps(argv)}\n'
            f"env = {{ {env_toml} }}\n")


def write_config(tmp_path: Path, providers: list[str], default: str, fallback: str | None = None,
                 runner: str = "") -> Path:
    """One rule for priority=high on ``default``; ``fallback`` (if any) is the default provider."""
    text = "\n".join(providers)
    if fallback is None:
        text += f'\n[routing]\nenabled = true\ndefault_provider = "{default}"\ndefault_model = "{MODEL}"\n'
    else:
        text += (f'\n[routing]\nenabled = true\ndefault_provider = "{fallback}"\n'
                 f'default_model = "{MODEL}"\n\n[[routing.rules]]\nname = "high-first"\npriority = 90\n'
                 f'conditions = {{ priority = "high" }}\nprovider = "{default}"\nmodel = "{MODEL}"\n')
    text += runner
    path = tmp_path / "tacroute.toml"
    path.write_text(text, encoding="utf-8")
    return path


def tacroute_run(tmp_path: Path, config: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    prompt = tmp_path / "prompt.txt"
    if not prompt.exists():
        prompt.write_text("Say OK.\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(prompt), "--priority", "high", "--json",
                                      "--config", str(config), *extra])
    try:
        data = json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"not JSON (exit {result.exit_code}): {result.output!r} {result.exception!r}")
    return result.exit_code, data, result.stderr


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, claude_home: Path,
            builtin_registry: Registry) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def result_line(path: str) -> dict[str, Any]:
    lines = [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()]
    return next(x for x in reversed(lines) if x.get("type") == "result")


def test_success_reads_text_cost_and_tokens(workdir: Path, claude_bin: Path,
                                            anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(Text("Hello from the fake API", input_tokens=321, output_tokens=17,
                                 cache_read_tokens=40, cache_creation_tokens=9))
    config = write_config(workdir, [provider_table("claude", claude_bin, anthropic_server)], "claude")
    code, data, _ = tacroute_run(workdir, config)
    assert code == 0, data
    assert data["success"] is True
    assert (data["provider"], data["model"]) == ("claude", MODEL)
    assert data["result"] == "Hello from the fake API"
    # Tokens: everything the server reported, over every request the CLI made.
    assert data["usage"] == anthropic_server.reported_usage()
    assert data["usage"]["input_tokens"] >= 321
    # Cost: the CLI's own total_cost_usd, read from the raw output kept on disk.
    raw = result_line(data["output_file"])
    assert data["cost_usd"] == raw["total_cost_usd"] and data["cost_usd"] > 0
    assert [a["error_class"] for a in data["attempts"]] == [None]
    assert data["duration_ms"] >= data["attempts"][0]["duration_ms"] > 0


def test_two_turn_tool_run(workdir: Path, claude_bin: Path, anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(ToolUse("echo tool-was-here > marker.txt && echo written"),
                            Text("The command ran.", input_tokens=500, output_tokens=12))
    config = write_config(workdir, [provider_table("claude", claude_bin, anthropic_server,
                                                   skip_permissions=True)], "claude")
    code, data, _ = tacroute_run(workdir, config)
    assert code == 0, data
    assert data["result"] == "The command ran."
    assert (workdir / "marker.txt").read_text().strip() == "tool-was-here"
    main = [r for r in anthropic_server.message_requests() if r.main]
    assert [r.has_tool_result for r in main] == [False, True]
    assert data["usage"] == anthropic_server.reported_usage()
    kinds = [json.loads(x)["type"] for x in Path(data["output_file"]).read_text().splitlines()]
    assert kinds.count("assistant") >= 2 and "user" in kinds and kinds[-1] == "result"


def test_bad_request_does_not_fail_over(workdir: Path, claude_bin: Path,
                                        anthropic_server: FakeAnthropicServer,
                                        second_anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(HttpError(400, message="messages: field required"))
    config = write_config(workdir, [provider_table("first", claude_bin, anthropic_server),
                                    provider_table("second", claude_bin, second_anthropic_server)],
                          "first", fallback="second")
    code, data, _ = tacroute_run(workdir, config)
    assert code == 1
    assert data["success"] is False
    assert [(a["provider"], a["error_class"]) for a in data["attempts"]] == [("first", "bad_request")]
    assert "400" in data["attempts"][0]["message"]
    assert second_anthropic_server.message_requests() == []


def test_auth_error_stops_at_first_retry_and_fails_over(workdir: Path, claude_bin: Path,
                                                         anthropic_server: FakeAnthropicServer,
                                                         second_anthropic_server: FakeAnthropicServer
                                                         ) -> None:
    anthropic_server.script(HttpError(401, message="invalid x-api-key"))
    anthropic_server.side = HttpError(401, message="invalid x-api-key")
    second_anthropic_server.script(Text("second provider answered"))
    config = write_config(workdir, [provider_table("first", claude_bin, anthropic_server),
                                    provider_table("second", claude_bin, second_anthropic_server)],
                          "first", fallback="second")
    # The CLI alone would retry a 401 for minutes; a 120 s timeout would show as "timeout".
    code, data, _ = tacroute_run(workdir, config, "--timeout", "120")
    assert code == 0, data
    assert [(a["provider"], a["error_class"]) for a in data["attempts"]] == [("first", "auth"),
                                                                            ("second", None)]
    assert data["provider"] == "second" and data["result"] == "second provider answered"
    # Stopped at the CLI's first api_retry line: it never got far into its retries.
    assert len(anthropic_server.message_requests()) <= 3
    assert FAKE_API_KEY not in json.dumps(data)


def test_rate_limit_fails_over_with_retry_after(workdir: Path, claude_bin: Path,
                                                anthropic_server: FakeAnthropicServer,
                                                second_anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(HttpError(429, retry_after=1))
    second_anthropic_server.script(Text("not limited here"))
    config = write_config(workdir, [provider_table("first", claude_bin, anthropic_server),
                                    provider_table("second", claude_bin, second_anthropic_server)],
                          "first", fallback="second")
    code, data, _ = tacroute_run(workdir, config, "--timeout", "120")
    assert code == 0, data
    assert [a["error_class"] for a in data["attempts"]] == ["rate_limit", None]
    assert data["provider"] == "second"


def test_dropped_stream_is_recovered_by_the_cli(workdir: Path, claude_bin: Path,
                                                anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(Drop(after_deltas=1), Text("answer after the drop"))
    config = write_config(workdir, [provider_table("claude", claude_bin, anthropic_server)], "claude")
    code, data, _ = tacroute_run(workdir, config)
    assert code == 0, data
    assert data["result"] == "answer after the drop"
    assert [r.reply for r in anthropic_server.message_requests() if r.main][:2] == ["Drop", "Text"]


def test_missing_binary_is_spawn_failed_and_fails_over(workdir: Path, claude_bin: Path, tmp_path: Path,
                                                       anthropic_server: FakeAnthropicServer) -> None:
    # An executable whose interpreter is gone: found at routing time, cannot be started.
    broken = tmp_path / "claude-broken"
    broken.write_text("#!/nonexistent/node\n")
    broken.chmod(0o755)
    anthropic_server.script(Text("fallback did it"))
    first = provider_table("first", claude_bin, None).replace(json.dumps(str(claude_bin)),
                                                              json.dumps(str(broken)))
    config = write_config(workdir, [first, provider_table("second", claude_bin, anthropic_server)],
                          "first", fallback="second")
    code, data, _ = tacroute_run(workdir, config)
    assert code == 0, data
    assert [(a["provider"], a["error_class"]) for a in data["attempts"]] == [("first", "spawn_failed"),
                                                                            ("second", None)]
    assert "claude-broken" in data["attempts"][0]["message"]


def test_no_binary_at_all_is_a_clear_error(workdir: Path, tmp_path: Path) -> None:
    config = workdir / "missing.toml"
    config.write_text('[providers.claude]\ntype = "claude-cli"\ncommand_template = ["/nonexistent/claude",'
                      ' "-p"]\n[routing]\ndefault_provider = "claude"\ndefault_model = "m"\n')
    (workdir / "p.txt").write_text("hi")
    result = CliRunner().invoke(cli, ["run", str(workdir / "p.txt"), "--json", "--config", str(config)])
    assert result.exit_code == 1
    assert "no available provider" in result.stderr and "/nonexistent/claude" in result.stderr


def test_timeout_kills_the_process_group(workdir: Path, claude_bin: Path,
                                         anthropic_server: FakeAnthropicServer) -> None:
    # The CLI runs a tool that would sleep for ten minutes; the timeout ends the whole group.
    anthropic_server.script(ToolUse("echo $$ > tool.pid; sleep 600"), Slow("never", delay_s=600))
    config = write_config(workdir, [provider_table("claude", claude_bin, anthropic_server,
                                                   skip_permissions=True)], "claude")
    code, data, _ = tacroute_run(workdir, config, "--timeout", "12")
    assert code == 1
    assert [a["error_class"] for a in data["attempts"]] == ["timeout"]
    assert "process group was killed" in data["attempts"][0]["message"]
    pid = int((workdir / "tool.pid").read_text())
    assert not process_alive(pid)


def test_root_without_sandbox_is_permission(workdir: Path, claude_bin: Path,
                                            anthropic_server: FakeAnthropicServer) -> None:
    if os.geteuid() != 0:
        pytest.skip("the CLI only refuses --dangerously-skip-permissions when run as root")
    config = write_config(workdir, [provider_table("claude", claude_bin, anthropic_server,
                                                   skip_permissions=True, sandbox=False)], "claude")
    code, data, _ = tacroute_run(workdir, config)
    assert code == 1
    assert [a["error_class"] for a in data["attempts"]] == ["permission"]
    assert "IS_SANDBOX" in data["attempts"][0]["message"]


def test_concurrent_runs_from_threads(tmp_path: Path, claude_bin: Path, builtin_registry: Registry,
                                      anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(Text("shared answer"))
    config = write_config(tmp_path, [provider_table("claude", claude_bin, anthropic_server)], "claude")
    results: dict[int, Any] = {}

    def one(i: int) -> None:
        work = tmp_path / f"w{i}"
        (work / "home").mkdir(parents=True)
        prompt = work / "prompt.txt"
        prompt.write_text(f"task {i}")
        results[i] = run_task(prompt, {"priority": "high"}, config=config, registry=builtin_registry,
                              env=claude_env(work / "home"), cwd=work)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1, 2]
    assert all(r.success and r.result == "shared answer" for r in results.values())
    files = {r.attempts[0].output_file for r in results.values()}
    assert len(files) == 3
    assert len({r.run_id for r in results.values()}) == 3


def test_overloaded_fails_over_after_the_cli_own_retries(workdir: Path, claude_bin: Path,
                                                         anthropic_server: FakeAnthropicServer,
                                                         second_anthropic_server: FakeAnthropicServer
                                                         ) -> None:
    anthropic_server.script(HttpError(529, message="Overloaded"))
    second_anthropic_server.script(Text("less busy here"))
    config = write_config(workdir, [provider_table("first", claude_bin, anthropic_server),
                                    provider_table("second", claude_bin, second_anthropic_server)],
                          "first", fallback="second")
    code, data, _ = tacroute_run(workdir, config, "--timeout", "120")
    assert code == 0, data
    assert [a["error_class"] for a in data["attempts"]] == ["overloaded", None]
    assert "529" in data["attempts"][0]["message"]


def test_stream_json_output_and_output_file_hold_the_winner(
        workdir: Path, claude_bin: Path, anthropic_server: FakeAnthropicServer,
        second_anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(HttpError(401))
    second_anthropic_server.script(Text("the winner"))
    config = write_config(workdir, [provider_table("bad", claude_bin, anthropic_server),
                                    provider_table("good", claude_bin, second_anthropic_server)],
                          "bad", fallback="good")
    prompt = workdir / "prompt.txt"
    prompt.write_text("Say OK.\n", encoding="utf-8")
    out = workdir / "out.jsonl"
    result = CliRunner().invoke(cli, ["run", str(prompt), "--priority", "high", "--output-format",
                                      "stream-json", "--output-file", str(out), "--config", str(config)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["type"] for x in lines].count("result") == 1 and lines[-1]["type"] == "result"
    assert lines[-1]["is_error"] is False and lines[-1]["result"] == "the winner"
    assert any(x.get("error_status") == 401 for x in lines)  # the failed attempt streamed too
    # --output-file is the winner's raw output; each attempt kept its own file.
    first, second = workdir / "out.attempt-1.jsonl", workdir / "out.attempt-2.jsonl"
    assert out.read_bytes() == second.read_bytes()
    assert '"error_status":401' in first.read_text() and result_line(str(out))["result"] == "the winner"
