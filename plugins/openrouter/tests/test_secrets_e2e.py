"""Secrets never leak: ``tacroute run --json`` through the real wrapper against a hostile
loopback server that echoes the ``Authorization`` header back in its error body.

Every check reads what a user or a later tool could see: the JSON on stdout,
stderr, the attempt's output file (written by tacroute's own wrapper, so it
must be clean too) and the history database's raw bytes (SQLite file and WAL).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.plugins import Registry, set_registry
from testkit.leaks import file_bytes, leaked_runs
from testkit.openrouter_server import FakeOpenRouter, echo_auth_reply, stream_reply

WRAPPER = str(Path(sys.executable).parent / "tacroute-openrouter")
MODEL = "anthropic/claude-3.5-haiku"
#: Long enough that a 300-character cut after ~280 characters keeps most of it.
KEY = "fake-or-key-Zq8xW3LpT7mN2vB9cR4kY6hJ1dF5gS0a"


def write_config(tmp_path: Path, server: FakeOpenRouter, env_table: str = "") -> Path:
    argv = json.dumps([WRAPPER, "-p", "{prompt_file}", "--model", "{model}", "--output-file",
                       "{output_file}"])
    text = (f'[providers.openrouter]\ntype = "openrouter"\napi_key_env = "OR_SECRET_KEY"\n'
            f'base_url = "{server.base_url}"\nmax_retries = 0\ncommand_template = {argv}\n{env_table}\n'
            f'[routing]\nenabled = true\ndefault_provider = "openrouter"\ndefault_model = "{MODEL}"\n')
    path = tmp_path / "tacroute.toml"
    path.write_text(text, encoding="utf-8")
    return path


def tacroute_run(tmp_path: Path, cfg: Path) -> tuple[int, str, str]:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Fix the failing test.\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(prompt), "--json", "--config", str(cfg)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, pricing_cache: Path, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """The built-in plugins with history recording (into the test's own file) on."""
    set_registry(Registry.load(env={"TACROUTE_LOAD_PLUGINS": "claude_cli,openrouter,history"}))
    monkeypatch.delenv("OR_SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    yield monkeypatch
    set_registry(None)


def assert_clean(secret: str, stdout: str, stderr: str, history_db: Path) -> dict[str, Any]:
    """No 6-character run of ``secret`` in stdout, stderr, the output file or the history file."""
    data: dict[str, Any] = json.loads(stdout)
    output_files = [Path(a["output_file"]) for a in data["attempts"] if a["output_file"]]
    assert output_files, data
    places = {"stdout": stdout, "stderr": stderr,
              "output file": file_bytes(*output_files), "history": file_bytes(history_db)}
    assert places["history"], "the run was not recorded"
    for where, text in places.items():
        assert leaked_runs(secret, text) == [], f"the key leaked into {where}"
    return data


def test_echoed_key_is_masked_everywhere(env: pytest.MonkeyPatch, tmp_path: Path, history_db: Path,
                                         openrouter_server: FakeOpenRouter) -> None:
    env.setenv("OR_SECRET_KEY", KEY)
    openrouter_server.script(echo_auth_reply(400, filler=260))
    code, stdout, stderr = tacroute_run(tmp_path, write_config(tmp_path, openrouter_server))
    assert code == 1
    data = assert_clean(KEY, stdout, stderr, history_db)
    # The server did echo it, and the message still says what happened.
    assert KEY in openrouter_server.chat_requests()[0].headers["authorization"]
    message = data["attempts"][0]["message"]
    assert data["attempts"][0]["error_class"] == "bad_request"
    assert "Authorization: Bearer ***" in message, message


def test_key_in_the_provider_env_table_is_masked_everywhere(env: pytest.MonkeyPatch, tmp_path: Path,
                                                            history_db: Path,
                                                            openrouter_server: FakeOpenRouter) -> None:
    openrouter_server.script(echo_auth_reply(401, filler=10))
    cfg = write_config(tmp_path, openrouter_server, f'env = {{ OR_SECRET_KEY = "{KEY}" }}')
    code, stdout, stderr = tacroute_run(tmp_path, cfg)
    assert code == 1, stdout + stderr
    data = assert_clean(KEY, stdout, stderr, history_db)
    assert data["attempts"][0]["error_class"] == "auth"
    assert KEY in openrouter_server.chat_requests()[0].headers["authorization"]


@pytest.mark.parametrize("ending", ["\n", "\r\n", " \r"])
def test_key_with_a_line_end_is_stripped_and_works(env: pytest.MonkeyPatch, tmp_path: Path,
                                                   history_db: Path, ending: str,
                                                   openrouter_server: FakeOpenRouter) -> None:
    env.setenv("OR_SECRET_KEY", KEY + ending)
    openrouter_server.valid_key = KEY  # anything else is a 401
    openrouter_server.script(stream_reply(["done"]))
    code, stdout, stderr = tacroute_run(tmp_path, write_config(tmp_path, openrouter_server))
    assert code == 0, stdout + stderr
    data = assert_clean(KEY, stdout, stderr, history_db)
    assert data["result"] == "done"
    assert openrouter_server.chat_requests()[0].headers["authorization"] == f"Bearer {KEY}"


def test_key_with_a_control_character_inside_is_a_usage_error(env: pytest.MonkeyPatch, tmp_path: Path,
                                                              history_db: Path,
                                                              openrouter_server: FakeOpenRouter) -> None:
    bad = KEY[:20] + "\x01" + KEY[20:]
    env.setenv("OR_SECRET_KEY", bad)
    code, stdout, stderr = tacroute_run(tmp_path, write_config(tmp_path, openrouter_server))
    assert code == 2, stdout + stderr
    assert "OR_SECRET_KEY" in stderr and "control character" in stderr
    for part in (KEY[:20], KEY[20:]):
        assert leaked_runs(part, stdout + stderr) == []
    assert openrouter_server.chat_requests() == []  # nothing was sent, nothing retried


def test_the_wrapper_alone_strips_the_key_and_refuses_a_control_character(
        openrouter_server: FakeOpenRouter, run_wrapper: Callable[..., Any]) -> None:
    openrouter_server.valid_key = KEY
    openrouter_server.script(stream_reply(["ok"]))
    run = run_wrapper(key=KEY + "\r\n")
    assert run.code == 0 and run.result["result"] == "ok"
    run = run_wrapper(key=KEY[:20] + "\x1b" + KEY[20:])
    assert run.code == 2
    assert "OPENROUTER_API_KEY" in run.stderr and "control character" in run.stderr
    assert leaked_runs(KEY[:20], run.stdout + run.stderr) == []
    assert len(openrouter_server.chat_requests()) == 1


def test_the_wrapper_masks_before_it_cuts(openrouter_server: FakeOpenRouter,
                                          run_wrapper: Callable[..., Any]) -> None:
    # 260 characters, then the key: a 300-character cut before masking left 18 of them.
    openrouter_server.script(echo_auth_reply(400, filler=260))
    run = run_wrapper(key=KEY)
    assert run.code == 1
    assert run.result["result"].endswith("Authorization: Bearer ***")
    written = run.stdout + run.stderr + run.output_file.read_text(encoding="utf-8")
    assert leaked_runs(KEY, written) == []
