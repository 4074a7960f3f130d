"""Strategy ``cheapest`` end to end: ``tacroute run`` on the real Claude CLI (fake API server).

Recorded history says the cheaper model misses ``requires``, so the run goes to
the next cheapest target, and ``route --explain`` says why.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.history import HistoryStore
from tacroute.plugins import Registry, set_registry
from tacroute.types import ErrorClass
from testkit.anthropic_server import FakeAnthropicServer, Text
from testkit.history import make_attempt

pytestmark = pytest.mark.real_cli


@pytest.fixture
def registry_with_history() -> Iterator[Registry]:
    reg = Registry.load(env={"TACROUTE_LOAD_PLUGINS": "priority,labels,retry_count,hour_range,claude_cli,"
                                                      "history"})
    set_registry(reg)
    yield reg
    set_registry(None)


def test_run_takes_the_cheapest_target_that_meets_requirements(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, claude_home: Path, claude_bin: Path,
        registry_with_history: Registry, anthropic_server: FakeAnthropicServer) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    argv = [str(claude_bin), "-p", "--model", "{model}", "--output-format", "stream-json", "--verbose"]
    config = work / "tacroute.toml"
    config.write_text(
        f'[providers.claude]\ntype = "claude-cli"\ncommand_template = {json.dumps(argv)}\n'
        f'env = {{ ANTHROPIC_BASE_URL = "{anthropic_server.base_url}" }}\n\n'
        '[routing]\nenabled = true\ndefault_provider = "claude"\ndefault_model = "claude-sonnet-4-5"\n\n'
        '[[routing.rules]]\nname = "low-cheapest"\nconditions = { priority = "low" }\n'
        'strategy = "cheapest"\n'
        'targets = [{ model = "claude-opus-4" }, { model = "claude-haiku-4-5" }, '
        '{ model = "claude-sonnet-4-5" }]\n'
        'requires = { min_success_rate = 0.9, min_samples = 20 }\n\n'
        '[history]\npath = "h.db"\n', encoding="utf-8")
    # Two days ago: 30 Haiku attempts, half of them failed (long expired as a cooldown).
    with HistoryStore(work / "h.db") as store:
        old = time.time() - 2 * 86400
        for i in range(30):
            ok = i % 2 == 0
            store.record_attempt(make_attempt(f"old{i}", 1, provider="claude", model="claude-haiku-4-5",
                                              success=ok, error_class=None if ok else ErrorClass.CRASH,
                                              started_at=old + i))
    anthropic_server.script(Text("OK", input_tokens=100, output_tokens=5))
    prompt = work / "prompt.txt"
    prompt.write_text("Say OK.\n", encoding="utf-8")

    res = CliRunner().invoke(cli, ["run", str(prompt), "--priority", "low", "--json", "--timeout", "120",
                                   "--config", str(config)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [(a["provider"], a["model"]) for a in out["attempts"]] == [("claude", "claude-sonnet-4-5")]
    assert {r.model for r in anthropic_server.message_requests() if r.main} == {"claude-sonnet-4-5"}

    res = CliRunner().invoke(cli, ["route", "--priority", "low", "--explain", "--config", str(config)])
    assert res.exit_code == 0, res.output
    assert "low-cheapest -> cheapest of claude/claude-opus-4, claude/claude-haiku-4-5, " \
           "claude/claude-sonnet-4-5" in res.output
    assert "skipped:   claude/claude-haiku-4-5 (low-cheapest): unmet requirement: success rate 50% < 90% " \
           "over 30 runs" in res.output
    assert "fallbacks: claude/claude-opus-4 (low-cheapest)" in res.output
