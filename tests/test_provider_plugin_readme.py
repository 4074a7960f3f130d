"""A third-party HTTP provider written from the README alone runs like the built-ins.

The plugin is the README's own example (the code block under "An HTTP (in-process)
provider", executed as written), talking to a tiny loopback HTTP server started here:
its text streams to the live status line, a cancel mid-stream ends the attempt as
``cancelled``, a stall past the table's timeout as ``timeout``, and a refused key
fails over to the next candidate. The README's command provider example, run the same
way with a small program in its place, streams, stops on its parser's signal and fails over.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tacroute import ErrorClass, hookimpl, run_task
from tacroute.plugins import Registry, set_registry

ROOT = Path(__file__).resolve().parents[1]
GOOD_KEY = "line-key-0123456789"
BOUND_S = 60.0  # no wait in this file is ever expected to reach this


def readme_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    after = text[text.index(heading):]
    match = re.search(r"```python\n(.*?)```", after, re.S)
    assert match is not None, heading
    return match.group(1)


def readme_http_provider() -> Any:
    namespace: dict[str, Any] = {"__name__": "readme_line_api"}
    exec(compile(readme_block("### An HTTP (in-process) provider"), "README.md", "exec"), namespace)
    return namespace["LineApi"]


class LineServer:
    """``POST /complete``: 401 without the good key; otherwise by model name:
    ``ok`` streams two lines, ``stall-mid`` one line then waits for :attr:`release`,
    ``stall`` waits before answering at all."""

    def __init__(self) -> None:
        self.first_sent = threading.Event()
        self.release = threading.Event()
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                if self.headers.get("Authorization") != f"Bearer {GOOD_KEY}":
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if body["model"] == "stall":
                    server.release.wait(BOUND_S)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"alpha from the line api\n")
                self.wfile.flush()
                server.first_sent.set()
                if body["model"] == "stall-mid":
                    server.release.wait(BOUND_S)
                self.wfile.write(b"beta\n")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class Plugin:
    def __init__(self, provider_class: Any) -> None:
        self.provider_class = provider_class

    @hookimpl
    def register_providers(self, register: Any) -> None:
        register(self.provider_class())


@pytest.fixture
def server() -> Iterator[LineServer]:
    srv = LineServer()
    yield srv
    srv.stop()


@pytest.fixture
def registry() -> Iterator[Registry]:
    reg = Registry.from_plugins([Plugin(readme_http_provider())])
    set_registry(reg)
    yield reg
    set_registry(None)


@pytest.fixture
def prompt(tmp_path: Path) -> Path:
    path = tmp_path / "prompt.txt"
    path.write_text("write a haiku", encoding="utf-8")
    return path


def config(tmp_path: Path, server: LineServer, first_model: str, extra: str = "") -> Path:
    """Rule: everything to ``primary`` (key PRIMARY_KEY, plus ``extra``); default: ``backup``."""
    text = ""
    for name in ("primary", "backup"):
        text += (f'[providers.{name}]\ntype = "line-api"\nbase_url = "{server.url}"\n'
                 f'api_key_env = "{name.upper()}_KEY"\n{extra if name == "primary" else ""}\n')
    text += ('[routing]\nenabled = true\ndefault_provider = "backup"\ndefault_model = "ok"\n\n'
             f'[[routing.rules]]\nname = "all"\npriority = 50\nconditions = {{}}\nprovider = "primary"\n'
             f'model = "{first_model}"\n\n[runner]\nkill_grace = 0.5\n')
    path = tmp_path / "tacroute.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_streams_its_text_to_the_status_line(registry: Registry, server: LineServer, prompt: Path,
                                             tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {"PRIMARY_KEY": GOOD_KEY}
    result = run_task(prompt, {}, config=config(tmp_path, server, "ok"), env=env, status=True,
                      output_file=tmp_path / "out.txt")
    assert result.success, result.error
    assert result.result == "alpha from the line api\nbeta"
    assert (tmp_path / "out.txt").read_text() == "alpha from the line api\nbeta\n"
    assert server.requests == [{"model": "ok", "prompt": "write a haiku"}]
    assert "alpha from the line api" in capsys.readouterr().err
    assert result.attempts[0].exit_code is None


def test_a_cancel_mid_stream_ends_the_attempt_cancelled(registry: Registry, server: LineServer,
                                                        prompt: Path, tmp_path: Path) -> None:
    cancel = threading.Event()

    def cancel_after_first_line() -> None:
        if server.first_sent.wait(BOUND_S):
            cancel.set()

    helper = threading.Thread(target=cancel_after_first_line)
    helper.start()
    try:
        result = run_task(prompt, {}, config=config(tmp_path, server, "stall-mid"),
                          env={"PRIMARY_KEY": GOOD_KEY, "BACKUP_KEY": GOOD_KEY}, cancel=cancel)
    finally:
        server.release.set()
        helper.join(BOUND_S)
    assert [(a.provider, a.error_class) for a in result.attempts] == [("primary", ErrorClass.CANCELLED)]
    assert not result.success


def test_a_stall_past_the_timeout_ends_the_attempt_timed_out(registry: Registry, server: LineServer,
                                                             prompt: Path, tmp_path: Path) -> None:
    try:
        result = run_task(prompt, {}, config=config(tmp_path, server, "stall", "timeout = 1"),
                          env={"PRIMARY_KEY": GOOD_KEY, "BACKUP_KEY": GOOD_KEY})
    finally:
        server.release.set()
    # The stalled candidate timed out and, timeout being a failover class, the backup ran.
    assert [(a.provider, a.error_class) for a in result.attempts] == [("primary", ErrorClass.TIMEOUT),
                                                                      ("backup", None)]
    assert result.success and result.provider == "backup"


def test_a_refused_key_fails_over_to_the_next_candidate(registry: Registry, server: LineServer,
                                                        prompt: Path, tmp_path: Path) -> None:
    result = run_task(prompt, {}, config=config(tmp_path, server, "ok"),
                      env={"PRIMARY_KEY": "not-the-key", "BACKUP_KEY": GOOD_KEY})
    assert [(a.provider, a.error_class) for a in result.attempts] == [("primary", ErrorClass.AUTH),
                                                                      ("backup", None)]
    assert result.success and result.result == "alpha from the line api\nbeta"
    assert "not-the-key" not in json.dumps([a.message for a in result.attempts])


AGENT = """\
#!{python}
import os, sys, time
prompt = sys.stdin.read()
if sys.argv[2] == "refused":
    print("ERROR 401", flush=True)
    time.sleep(600)
print("answer to: " + prompt.strip())
print("effort " + os.environ.get("ECHO_AGENT_EFFORT", "?"))
print("TOKENS 3 2")
"""


def test_the_readme_command_provider_runs_and_fails_over(prompt: Path, tmp_path: Path) -> None:
    import sys
    import types

    module = types.ModuleType("readme_echo_agent")
    exec(compile(readme_block("### A command (CLI) provider"), "README.md", "exec"), module.__dict__)
    set_registry(Registry.from_plugins([module]))
    try:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        agent = bin_dir / "echo-agent"
        agent.write_text(AGENT.format(python=sys.executable), encoding="utf-8")
        agent.chmod(0o755)
        cfg = tmp_path / "agent.toml"
        cfg.write_text('[providers.agent]\ntype = "echo-agent"\neffort = "high"\n\n'
                       '[routing]\nenabled = true\ndefault_provider = "agent"\ndefault_model = "ok"\n\n'
                       '[[routing.rules]]\nname = "first"\npriority = 50\nconditions = {}\n'
                       'model = "refused"\n', encoding="utf-8")
        result = run_task(prompt, {}, config=cfg, env={"PATH": str(bin_dir)})
    finally:
        set_registry(None)
    assert [(a.model, a.error_class) for a in result.attempts] == [("refused", ErrorClass.AUTH), ("ok", None)]
    assert result.result == "answer to: write a haiku\neffort high"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (3, 2)
