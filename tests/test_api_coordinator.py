"""The coordinator's Python API: prompt text, open_router + decision=, on_event, session_id, arun_task."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tacroute import (
    AttemptFinished,
    AttemptStarted,
    Progress,
    RunFinished,
    UsageError,
    arun_task,
    open_router,
    run_task,
)
from tacroute.history import plugin as history_plugin
from tacroute.plugins import Registry, set_registry
from testkit.script_provider import ScriptPlugin, process_alive, script_config


@pytest.fixture
def plugin() -> Iterator[ScriptPlugin]:
    plug = ScriptPlugin()
    set_registry(Registry.from_plugins([plug, history_plugin]))
    yield plug
    set_registry(None)


def test_prompt_text_reaches_the_worker_and_its_file_is_removed(plugin: ScriptPlugin, tmp_path: Path,
                                                                history_db: Path) -> None:
    out_dir = tmp_path / "runs"
    config = script_config(tmp_path, ["ok"], runner=f'[runner]\noutput_dir = "{out_dir}"\n')
    result = run_task(prompt="fix the bug — ünïcode\n", config=config)
    assert result.success and result.result == "fix the bug — ünïcode"
    assert not (out_dir / result.run_id / "prompt.txt").exists()
    assert (out_dir / result.run_id).is_dir()  # the attempt's output stays


def test_prompt_file_still_works_positionally(plugin: ScriptPlugin, tmp_path: Path, history_db: Path) -> None:
    prompt = tmp_path / "p.txt"
    prompt.write_text("from a file\n", encoding="utf-8")
    result = run_task(prompt, {}, config=script_config(tmp_path, ["ok"]))
    assert result.success and result.result == "from a file"


def test_prompt_and_prompt_file_are_exclusive(plugin: ScriptPlugin, tmp_path: Path, history_db: Path) -> None:
    config = script_config(tmp_path, ["ok"])
    prompt = tmp_path / "p.txt"
    prompt.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="exactly one"):
        run_task(prompt, prompt="also text", config=config)
    with pytest.raises(UsageError, match="exactly one"):
        run_task(config=config)


def test_a_previewed_decision_runs_exactly_its_candidates(plugin: ScriptPlugin, tmp_path: Path,
                                                          history_db: Path) -> None:
    config = script_config(tmp_path, ["fatal", "ok"])
    router = open_router(config)
    decision = router.route({})
    assert [c.model for c in decision.candidates] == ["fatal", "ok"]
    result = run_task(prompt="go", config=config, decision=decision)
    assert result.success and [a.model for a in result.attempts] == ["fatal", "ok"]
    assert result.decision == decision
    # A decision trimmed to its first candidate: no routing again, so no fallback appears.
    only = decision._replace(fallbacks=())
    plugin.events.clear()
    result = run_task(prompt="go", config=config, decision=only)
    assert not result.success and [a.model for a in result.attempts] == ["fatal"]
    assert result.decision == only
    assert [e[1] for e in plugin.events if e[0] == "decision"] == [only]
    with pytest.raises(UsageError, match="does not have: elsewhere"):
        run_task(prompt="go", config=config, decision=only._replace(provider="elsewhere"))
    with pytest.raises(UsageError, match="must be a Decision"):
        run_task(prompt="go", config=config, decision={"provider": "s0"})  # type: ignore[arg-type]


def test_events_of_a_failover_run_in_order(plugin: ScriptPlugin, tmp_path: Path, history_db: Path) -> None:
    events: list[Any] = []
    result = run_task(prompt="go", config=script_config(tmp_path, ["fatal", "ok"]), on_event=events.append)
    assert result.success
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["AttemptStarted", "AttemptFinished", "AttemptStarted", "AttemptFinished", "RunFinished"]
    assert events[0] == AttemptStarted(result.run_id, 1, "s0", "fatal")
    assert isinstance(events[1], AttemptFinished) and events[1].record.error_class == "auth"
    assert events[2] == AttemptStarted(result.run_id, 2, "s0", "ok")
    assert isinstance(events[3], AttemptFinished) and events[3].record.success
    assert events[4] == RunFinished(result.run_id, result)


def test_a_raising_callback_does_not_break_the_run(plugin: ScriptPlugin, tmp_path: Path, history_db: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    def boom(event: Any) -> None:
        raise RuntimeError("watcher bug")

    result = run_task(prompt="go", config=script_config(tmp_path, ["ok"]), on_event=boom)
    assert result.success
    assert capsys.readouterr().err.count("watcher bug") == 1


CLAUDE_WORKER = """\
import json, os, sys
sys.stdin.read()
def out(obj):
    print(json.dumps(obj), flush=True)
out({"type": "system", "subtype": "init", "session_id": "sess-42"})
out({"type": "assistant", "session_id": "sess-42", "message": {"id": "m1", "model": "m",
     "content": [{"type": "text", "text": "Looking at the file."},
                 {"type": "tool_use", "id": "t1", "name": "Read", "input": {"path": "a.py"}}],
     "usage": {"input_tokens": 5, "output_tokens": 2}}})
out({"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": "t1", "content": "x"}]}})
out({"type": "assistant", "session_id": "sess-42", "message": {"id": "m2", "model": "m",
     "content": [{"type": "text", "text": "Fixed. key=" + os.environ.get("MY_API_KEY", "")}], "usage": {"input_tokens": 6, "output_tokens": 3}}})
out({"type": "result", "subtype": "success", "is_error": False, "result": "Fixed.", "session_id": "sess-42",
     "total_cost_usd": 0.02, "num_turns": 2, "usage": {"input_tokens": 11, "output_tokens": 5}})
"""


def _claude_config(tmp_path: Path, worker: str = CLAUDE_WORKER, runner: str = "") -> Path:
    script = tmp_path / "claude_worker.py"
    script.write_text(worker, encoding="utf-8")
    config = tmp_path / "claude.toml"
    config.write_text(
        f'[providers.c]\ntype = "claude-cli"\ncommand_template = {json.dumps([sys.executable, str(script)])}\n'
        f'[routing]\nenabled = true\ndefault_provider = "c"\ndefault_model = "m"\n{runner}', encoding="utf-8")
    return config


def test_progress_events_and_session_id_from_a_claude_stream(tmp_path: Path, history_db: Path) -> None:
    events: list[Any] = []
    secret = "sk-test-very-secret-value-1234567890"
    result = run_task(prompt="go", config=_claude_config(tmp_path), on_event=events.append,
                      env={**os.environ, "MY_API_KEY": secret})
    assert result.success and result.session_id == "sess-42"
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress == [Progress(result.run_id, 1, "text", "Looking at the file."),
                        Progress(result.run_id, 1, "tool_use", '{"path":"a.py"}', "Read"),
                        Progress(result.run_id, 1, "text", progress[2].text)]
    assert progress[2].text.startswith("Fixed. key=") and secret[:12] not in progress[2].text
    assert isinstance(events[0], AttemptStarted) and isinstance(events[-1], RunFinished)
    assert result.as_dict()["session_id"] == "sess-42"
    conn = sqlite3.connect(history_db)
    try:
        assert conn.execute("SELECT session_id FROM runs").fetchall() == [("sess-42",)]
    finally:
        conn.close()


def test_session_id_in_run_json(tmp_path: Path, history_db: Path) -> None:
    import subprocess

    prompt = tmp_path / "p.txt"
    prompt.write_text("go\n", encoding="utf-8")
    tacroute = Path(sys.executable).parent / "tacroute"
    proc = subprocess.run([str(tacroute), "run", str(prompt), "--json", "--config", str(_claude_config(tmp_path))],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TACROUTE_HISTORY": str(history_db)})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["session_id"] == "sess-42"


def _workers_of(agent: Path) -> list[int]:
    """Live (non-zombie) processes whose command line names ``agent``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(agent).encode() in cmd and process_alive(int(entry.name), settle_s=0):
            pids.append(int(entry.name))
    return pids


def test_cancelling_arun_task_records_cancelled_stops_the_group_and_raises(
        plugin: ScriptPlugin, tmp_path: Path, history_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the hang model writes child.pid here
    config = script_config(tmp_path, ["hang"], runner="[runner]\nkill_grace = 1\n")
    events: list[Any] = []

    async def main() -> None:
        started = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_line(number: int, line: str) -> None:
            if line == "started":
                loop.call_soon_threadsafe(started.set)

        task = asyncio.create_task(arun_task(prompt="go", config=config, on_line=on_line,
                                             on_event=events.append))
        await asyncio.wait_for(started.wait(), 60)
        assert _workers_of(tmp_path / "agent.py")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert isinstance(events[-1], RunFinished)
    result = events[-1].result
    assert [a.error_class for a in result.attempts] == ["cancelled"]
    child = int((tmp_path / "child.pid").read_text())
    assert not process_alive(child, settle_s=10)
    assert _workers_of(tmp_path / "agent.py") == []
    conn = sqlite3.connect(history_db)
    try:
        assert conn.execute("SELECT error_class FROM attempts").fetchall() == [("cancelled",)]
        assert conn.execute("SELECT run_id, success FROM runs").fetchall() == [(result.run_id, 0)]
    finally:
        conn.close()


def test_arun_task_returns_the_result_without_blocking_the_loop(plugin: ScriptPlugin, tmp_path: Path,
                                                                history_db: Path) -> None:
    config = script_config(tmp_path, ["ok"])

    async def main() -> list[Any]:
        ticks = 0
        stop = threading.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.001)

        tick = asyncio.create_task(ticker())
        results = await asyncio.gather(*(arun_task(prompt=f"job {i}", config=config) for i in range(3)))
        stop.set()
        await tick
        assert ticks > 1  # the loop kept running while the workers did
        return list(results)

    results = asyncio.run(main())
    assert [r.result for r in results] == ["job 0", "job 1", "job 2"]


def test_stats_attempts_shows_a_provider_that_fails_and_never_wins(plugin: ScriptPlugin, tmp_path: Path,
                                                                   history_db: Path) -> None:
    from click.testing import CliRunner

    from tacroute.cli import cli

    config = script_config(tmp_path, ["fatal", "ok"], providers=2)
    config.write_text(config.read_text().replace('default_provider = "s0"', 'default_provider = "s1"'))
    results = [run_task(prompt="go", config=config) for _ in range(3)]  # s0/fatal first, then s1/ok
    assert [r.provider for r in results] == ["s1"] * 3
    failed = sum(1 for r in results for a in r.attempts if a.provider == "s0")
    assert failed >= 1
    runs = CliRunner().invoke(cli, ["stats", "--json"])
    assert [r["key"] for r in json.loads(runs.output)["rows"]] == ["s1"]  # runs: the winner only
    res = CliRunner().invoke(cli, ["stats", "--attempts", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["attempts"] == [
        {"provider": "s0", "model": "fatal", "success": False, "error_class": "auth", "count": failed},
        {"provider": "s1", "model": "ok", "success": True, "error_class": None, "count": 3}]
    table = CliRunner().invoke(cli, ["stats", "--attempts"])
    assert table.exit_code == 0
    assert any(line.split() == ["s0", "fatal", "auth", str(failed)] for line in table.output.splitlines())
    both = CliRunner().invoke(cli, ["stats", "--attempts", "--fleet"])
    assert both.exit_code == 2 and "Traceback" not in both.output


def test_arun_task_raises_the_runs_usage_error(plugin: ScriptPlugin, tmp_path: Path, history_db: Path) -> None:
    config = script_config(tmp_path, ["ok"])
    with pytest.raises(UsageError, match="exactly one"):
        asyncio.run(arun_task(tmp_path / "x.txt", prompt="both", config=config))
