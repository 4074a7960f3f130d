"""A worker printing hostile output (200,000 nested brackets) and output parsers that raise:
the failure is contained in the attempt, which is recorded and fails over like any other."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tacroute import ErrorClass, Outcome, OutputParserType, ParserSignal, hookimpl, run_task
from tacroute.plugins import Registry, set_registry
from tacroute_claude_cli.stream_json import ClaudeStreamJsonParser
from testkit.hostile import run_cli
from testkit.script_provider import LinesParser, LinesParserType, ScriptPlugin, script_config

NESTED = "[" * 200_000 + "]" * 200_000
RESULT = json.dumps({"type": "result", "subtype": "success", "is_error": False, "result": "done",
                     "total_cost_usd": 0.01})

#: Prints one line of 200,000 nested brackets; with argument "result", then a result line.
AGENT = f"""
import sys
print({NESTED[:1]!r} * 200_000 + {NESTED[-1:]!r} * 200_000, flush=True)
if sys.argv[1] == "result":
    print({RESULT!r}, flush=True)
"""


def claude_parsed_config(tmp_path: Path) -> Path:
    """Rule "brackets" runs the bracket printer under the Claude parser (model "bare": no
    result line follows; "result": one does); the default is the script provider's "ok"."""
    script_config(tmp_path, ["ok"])  # writes the script provider's agent.py
    (tmp_path / "brackets.py").write_text(AGENT)
    config = tmp_path / "hostile.toml"
    config.write_text(f"""
[providers.s0]
type = "script"
output_parser = "claude-stream-json"
command_template = {json.dumps([sys.executable, str(tmp_path / "brackets.py"), "{model}"])}

[providers.s1]
type = "script"
command_template = {json.dumps([sys.executable, str(tmp_path / "agent.py"), "{model}"])}

[routing]
enabled = true
default_provider = "s1"
default_model = "ok"

[[routing.rules]]
name = "brackets"
conditions = {{}}
provider = "s0"
model = "bare"

[runner]
failover = ["crash"]
""")
    return config


def test_claude_parser_keeps_a_too_deep_line_as_a_diagnostic() -> None:
    parser = ClaudeStreamJsonParser()
    assert parser.feed(NESTED) is None
    assert parser.feed(RESULT) is None
    outcome = parser.finish(0, "")
    assert outcome.success and outcome.result == "done"
    assert outcome.diagnostics and outcome.diagnostics[0].startswith("[[[")


def test_claude_parser_ignores_numbers_a_float_cannot_hold() -> None:
    parser = ClaudeStreamJsonParser()
    huge = "9" * 400
    parser.feed('{"type": "system", "subtype": "api_retry", "error_status": 429, '
                f'"retry_delay_ms": {huge}}}')
    parser.feed('{"type": "result", "subtype": "success", "is_error": false, "result": "x", '
                f'"total_cost_usd": {huge}}}')
    outcome = parser.finish(0, "")
    assert outcome.success and outcome.cost_usd is None


def test_nested_brackets_from_the_worker_fail_over_and_are_recorded(tmp_path: Path,
                                                                    history_db: Path) -> None:
    config = claude_parsed_config(tmp_path)
    prompt = tmp_path / "p.md"
    prompt.write_text("hello")
    proc = run_cli("run", str(prompt), "--json", "--config", str(config), cwd=tmp_path)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [(a["model"], a["error_class"]) for a in data["attempts"]] == [("bare", "crash"), ("ok", None)]
    conn = sqlite3.connect(history_db)
    rows = conn.execute("SELECT model, error_class FROM attempts ORDER BY attempt").fetchall()
    conn.close()
    assert rows == [("bare", "crash"), ("ok", None)]


# ------------------------------------------------------------------ parsers that raise
class RaisingParser(LinesParser):
    """The test parser, but ``feed`` raises on a ``BOOM`` line and ``finish`` on a ``DIE`` line."""

    def feed(self, line: str) -> ParserSignal | None:
        if line == "BOOM":
            raise RecursionError("maximum recursion depth exceeded")
        return super().feed(line)

    def finish(self, exit_code: int | None, stderr_tail: str) -> Outcome:
        if "DIE" in self.lines:
            raise KeyError("result")
        return super().finish(exit_code, stderr_tail)


class RaisingParserType(OutputParserType):
    name = "raising"

    def create(self) -> RaisingParser:
        return RaisingParser()


class RaisingPlugin(ScriptPlugin):
    @hookimpl
    def register_output_parsers(self, register: Any) -> None:
        register(LinesParserType())
        register(RaisingParserType())


@pytest.fixture
def raising() -> Iterator[RaisingPlugin]:
    plugin = RaisingPlugin()
    set_registry(Registry.from_plugins([plugin]))
    yield plugin
    set_registry(None)


def raising_config(tmp_path: Path) -> Path:
    config = script_config(tmp_path, ["ok", "ok"], providers=2, runner='[runner]\nfailover = ["crash"]\n')
    text = config.read_text().replace('default_provider = "s0"', 'default_provider = "s1"')
    config.write_text(text.replace('[providers.s0]\ntype = "script"\n',
                                   '[providers.s0]\ntype = "script"\noutput_parser = "raising"\n'))
    return config


def test_a_parser_raising_on_a_line_leaves_the_attempt_going(raising: RaisingPlugin, tmp_path: Path) -> None:
    prompt = tmp_path / "p.md"
    prompt.write_text("BOOM")  # the "ok" agent echoes the prompt, then DONE
    result = run_task(prompt, {}, config=raising_config(tmp_path))
    assert result.success and [a.provider for a in result.attempts] == ["s0"]


def test_a_parser_raising_in_finish_fails_the_attempt_as_crash(raising: RaisingPlugin, tmp_path: Path) -> None:
    prompt = tmp_path / "p.md"
    prompt.write_text("BOOM\nDIE")
    result = run_task(prompt, {}, config=raising_config(tmp_path))
    first, second = result.attempts
    assert (first.provider, first.error_class) == ("s0", ErrorClass.CRASH)
    assert first.message is not None and "output parser 'raising' failed to conclude" in first.message
    assert "KeyError" in first.message and "RecursionError" in first.message
    assert result.success and second.provider == "s1"
