"""The in-process OpenRouter path: the subprocess path's outcomes, without a process.

Parity: the same scripted server answers, run once in-process and once through the
real ``tacroute-openrouter`` process, give the same outcome (result text, usage,
cost, error class, message, retry-after). No process: ``tacroute run``, in a real
interpreter under an audit hook, starts no subprocess for an in-process provider.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tacroute import run_task
from tacroute.plugins import Registry
from testkit.openrouter_fixtures import TEST_KEY
from testkit.openrouter_server import (
    FakeOpenRouter,
    Reply,
    drop_reply,
    error_reply,
    midstream_error_reply,
    stream_reply,
)

WRAPPER = str(Path(sys.executable).parent / "tacroute-openrouter")
WRAPPER_ARGV = json.dumps([WRAPPER, "-p", "{prompt_file}", "--model", "{model}", "--output-file",
                           "{output_file}"])


def _config(tmp_path: Path, server: FakeOpenRouter, command: bool) -> Path:
    text = (f'[providers.or]\ntype = "openrouter"\napi_key_env = "OR_KEY"\nbase_url = "{server.base_url}"\n'
            + (f"command_template = {WRAPPER_ARGV}\n" if command else "")
            + '\n[routing]\nenabled = true\ndefault_provider = "or"\ndefault_model = "m/x"\n'
            + '\n[runner]\nmax_attempts = 1\n')
    path = tmp_path / ("wrapper.toml" if command else "inprocess.toml")
    path.write_text(text, encoding="utf-8")
    return path


def _seen(result: Any) -> tuple[Any, ...]:
    (a,) = result.attempts
    return (a.success, a.error_class, a.message, result.result, a.usage, a.cost_usd, a.retry_after_s)


@pytest.mark.parametrize("replies", [
    [stream_reply(["Patched ", "the test."], prompt_tokens=120, completion_tokens=30, cost=0.00021,
                  cached=20)],
    [stream_reply(["priced from the table"], cost=None)],
    [error_reply(401, "Invalid credentials")],
    [error_reply(402, "Insufficient credits")],
    [error_reply(404, "No endpoints found")],
    [error_reply(400, "Invalid request parameters")],
    [midstream_error_reply(["half"], code=502, message="Provider returned error")],
    [drop_reply(["half an answer"])],
    [error_reply(429, "Rate limit exceeded", retry_after="0")] * 6,
    [error_reply(503, "busy", retry_after="0")] * 6,
], ids=["ok", "table-cost", "401", "402", "404", "400", "midstream", "drop", "429", "503"])
def test_in_process_gives_the_outcome_the_wrapper_process_gives(
        replies: list[Reply], builtin_registry: Registry, pricing_cache: Path, tmp_path: Path,
        openrouter_server: FakeOpenRouter) -> None:
    env = {**os.environ, "OR_KEY": TEST_KEY}
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("hello", encoding="utf-8")
    seen = []
    for command in (False, True):
        openrouter_server.script(*replies)
        result = run_task(prompt, {}, config=_config(tmp_path, openrouter_server, command), env=env,
                          output_file=tmp_path / f"out-{command}.jsonl")
        seen.append(_seen(result))
    assert seen[0] == seen[1]
    # Both transcripts are the same Claude-compatible stream-json, line for line (ids aside).
    keep = ("type", "subtype", "is_error", "result", "api_error_status", "total_cost_usd", "usage",
            "modelUsage", "error_status", "message")
    inproc, wrapped = ([{k: line.get(k) for k in keep} for line in map(json.loads, lines)]
                       for lines in ((tmp_path / f"out-{c}.jsonl").read_text().splitlines()
                                     for c in (False, True)))
    # A wrapper stopped by a parser signal may be killed between printing its last line and
    # writing it to the file; in-process, the line the signal came from is always there.
    assert inproc[:len(wrapped)] == wrapped and len(inproc) - len(wrapped) in (0, 1)
    assert inproc[0]["subtype"] == "init"


DRIVER = textwrap.dedent("""\
    import json, sys
    spawned = []
    def watch(event, args):
        if event in ("subprocess.Popen", "os.posix_spawn", "os.fork", "os.forkpty", "os.exec",
                     "os.spawn", "os.system", "pty.spawn"):
            spawned.append(event)
    sys.addaudithook(watch)
    from tacroute.cli import main
    try:
        main(sys.argv[2:])
        code = 0
    except SystemExit as exc:
        code = exc.code
    with open(sys.argv[1], "w") as fh:
        json.dump({"spawned": spawned, "code": code}, fh)
    """)


def _run_watched(tmp_path: Path, server: FakeOpenRouter, command: bool) -> dict[str, Any]:
    server.script(stream_reply(["in ", "process"]))
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("hello", encoding="utf-8")
    report = tmp_path / "report.json"
    env = {**os.environ, "OR_KEY": TEST_KEY, "TACROUTE_HISTORY": str(tmp_path / "history.db"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, str(driver), str(report), "run", str(prompt), "--json",
                           "--config", str(_config(tmp_path, server, command))],
                          env=env, capture_output=True, text=True, timeout=120)
    assert report.is_file(), proc.stderr
    found: dict[str, Any] = json.loads(report.read_text())
    found["stdout"] = proc.stdout
    return found


def test_tacroute_run_on_openrouter_starts_no_process(tmp_path: Path,
                                                      openrouter_server: FakeOpenRouter) -> None:
    found = _run_watched(tmp_path, openrouter_server, command=False)
    assert found["code"] == 0, found["stdout"]
    assert json.loads(found["stdout"])["result"] == "in process"
    assert found["spawned"] == []


def test_the_audit_hook_does_see_the_wrapper_process(tmp_path: Path,
                                                     openrouter_server: FakeOpenRouter) -> None:
    """The control: with a command_template the same run does start a process, and is seen to."""
    found = _run_watched(tmp_path, openrouter_server, command=True)
    assert found["code"] == 0, found["stdout"]
    assert json.loads(found["stdout"])["result"] == "in process"
    assert "subprocess.Popen" in found["spawned"]
