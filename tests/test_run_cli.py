"""``tacroute run`` through CliRunner with the script provider; process and status-line units."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.plugins import Registry, set_registry
from tacroute.runner.process import SpawnError, stream_process
from tacroute.runner.status import StatusLine
from tacroute.types import Usage
from testkit.script_provider import ScriptPlugin, script_config


@pytest.fixture(autouse=True)
def plugin() -> Iterator[ScriptPlugin]:
    plugin = ScriptPlugin()
    set_registry(Registry.from_plugins([plugin]))
    yield plugin
    set_registry(None)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_run_json_success(tmp_path: Path) -> None:
    config = script_config(tmp_path, ["fatal", "ok"])
    prompt = tmp_path / "p.txt"
    prompt.write_text("hello")
    out = tmp_path / "raw.jsonl"
    code, stdout, _ = invoke("run", str(prompt), "--priority", "high", "--label", "bug",
                             "--output-file", str(out), "--json", "--config", str(config))
    assert code == 0
    data = json.loads(stdout)
    assert {"provider", "model", "success", "cost_usd", "usage", "duration_ms", "result",
            "attempts"} <= set(data)
    assert (data["provider"], data["model"], data["success"], data["result"]) == ("s0", "ok", True, "hello")
    assert set(data["usage"]) == {"input_tokens", "output_tokens", "cache_read_tokens",
                                  "cache_creation_tokens", "reasoning_tokens"}
    assert [(a["provider"], a["model"], a["error_class"]) for a in data["attempts"]] == [
        ("s0", "fatal", "auth"), ("s0", "ok", None)]
    # Every attempt keeps its own file; --output-file holds the winner's output.
    first, second = tmp_path / "raw.attempt-1.jsonl", tmp_path / "raw.attempt-2.jsonl"
    assert [a["output_file"] for a in data["attempts"]] == [str(first), str(second)]
    assert data["output_file"] == str(out)
    assert out.read_bytes() == second.read_bytes() != first.read_bytes()
    assert data["task"] == {"priority": "high", "labels": ["bug"]}
    assert data["cost_usd"] == 0.01


def test_run_all_failed_exits_1(tmp_path: Path) -> None:
    config = script_config(tmp_path, ["crash"])
    prompt = tmp_path / "p.txt"
    prompt.write_text("hello")
    code, stdout, stderr = invoke("run", str(prompt), "--config", str(config))
    assert code == 1
    assert "attempt 1: s0/crash" in stderr and "crash" in stderr
    assert "tokens: in" in stdout


def test_run_human_output(tmp_path: Path) -> None:
    config = script_config(tmp_path, ["ok"])
    prompt = tmp_path / "p.txt"
    prompt.write_text("the answer")
    code, stdout, _ = invoke("run", str(prompt), "--config", str(config))
    assert code == 0
    assert "done: s0/ok" in stdout and stdout.rstrip().endswith("the answer")


def test_run_usage_and_config_errors_exit_2(tmp_path: Path) -> None:
    config = script_config(tmp_path, ["ok"], runner="[runner]\nmax_attempts = -1\n")
    prompt = tmp_path / "p.txt"
    prompt.write_text("x")
    code, _, stderr = invoke("run", str(prompt), "--config", str(config))
    assert code == 2 and "runner.max_attempts" in stderr
    good = script_config(tmp_path, ["ok"])
    code, _, stderr = invoke("run", str(tmp_path / "missing.txt"), "--config", str(good))
    assert code == 2 and "does not exist" in stderr
    code, _, _ = invoke("run", str(prompt), "--timeout", "0", "--config", str(good))
    assert code == 2


def test_run_is_listed() -> None:
    code, stdout, _ = invoke("--help")
    assert code == 0 and "run" in stdout.split()


def test_stream_process_spawn_error() -> None:
    with pytest.raises(SpawnError, match="cannot start"):
        stream_process(["/nonexistent/program"], on_line=lambda line: False)


def test_stream_process_lines_without_trailing_newline_and_stderr_tail() -> None:
    lines: list[str] = []
    code = "import sys; sys.stdout.write('a\\r\\nb\\nlast'); sys.stderr.write('E' * 10000 + 'end')"
    res = stream_process([sys.executable, "-c", code], on_line=lambda x: bool(lines.append(x)))
    assert lines == ["a", "b", "last"]
    assert res.exit_code == 0 and res.stopped is None and res.stdout_lines == 3
    assert res.stderr_tail.endswith("end") and len(res.stderr_tail) <= 8192


def test_status_line_only_on_a_terminal() -> None:
    buf = io.StringIO()
    quiet = StatusLine(buf)
    quiet.start(1, "p", "m")
    quiet.update(Usage(5, 6))
    quiet.done("finished")
    assert buf.getvalue() == ""
    live = StatusLine(buf, enabled=True)
    live.start(2, "claude", "opus")
    live.update(Usage(1200, 34))
    live.done("[2] claude/opus: ok")
    text = buf.getvalue()
    assert "\r[2] claude/opus" in text and "tokens in 1200 out 34" in text
    assert text.split("\r")[-1].rstrip(" \n") == "[2] claude/opus: ok" and text.endswith("\n")


def test_config_validate_checks_the_runner_table(tmp_path: Path) -> None:
    config = script_config(tmp_path, ["ok"], runner='[runner]\nfailover = ["sometimes"]\n')
    code, _, stderr = invoke("config", "validate", "--config", str(config))
    assert code == 2 and "runner.failover[0]: unknown error class 'sometimes'" in stderr
    code, stdout, _ = invoke("config", "validate", "--config", str(script_config(tmp_path, ["ok"])))
    assert code == 0 and "valid" in stdout


def test_stream_process_calls_on_spawn_once_before_reading_output() -> None:
    events: list[str] = []
    code = "import sys; sys.stdout.write('a\\nb\\n')"
    res = stream_process([sys.executable, "-c", code], on_line=lambda x: bool(events.append(x)),
                         on_spawn=lambda: events.append("spawned"))
    assert events == ["spawned", "a", "b"]
    assert res.exit_code == 0


def test_stream_process_on_spawn_failure_stops_the_process() -> None:
    def boom() -> None:
        raise RuntimeError("warm-up failed")

    with pytest.raises(RuntimeError, match="warm-up failed"):
        stream_process([sys.executable, "-c", "import time; time.sleep(60)"], on_line=lambda x: False,
                       on_spawn=boom, kill_grace=0.5)
