"""Fixtures for OpenRouter tests: a loopback fake server per test, an isolated pricing cache."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit.openrouter_server import FakeOpenRouter


@pytest.fixture
def openrouter_server() -> Iterator[FakeOpenRouter]:
    """A started :class:`FakeOpenRouter` on 127.0.0.1 (stopped after the test)."""
    server = FakeOpenRouter().start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.errors, f"fake OpenRouter server failed: {server.errors}"


@pytest.fixture
def pricing_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``TACROUTE_PRICING_CACHE`` pointed at a fresh temporary file (not yet created)."""
    path = tmp_path / "pricing-cache.json"
    monkeypatch.setenv("TACROUTE_PRICING_CACHE", str(path))
    return path


class WrapperRun:
    """What one in-process run of the wrapper produced."""

    def __init__(self, code: int, stdout: str, stderr: str, output_file: Path) -> None:
        self.code = code
        self.stdout = stdout
        self.stderr = stderr
        self.output_file = output_file

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def result(self) -> dict[str, Any]:
        last = self.lines[-1]
        assert last["type"] == "result", last
        return last

    def of_type(self, kind: str, subtype: str | None = None) -> list[dict[str, Any]]:
        return [x for x in self.lines
                if x["type"] == kind and (subtype is None or x.get("subtype") == subtype)]


TEST_KEY = "fake-openrouter-key-SECRET-0123"


@pytest.fixture
def run_wrapper(tmp_path: Path, openrouter_server: FakeOpenRouter,
                pricing_cache: Path) -> Callable[..., WrapperRun]:
    """Call ``run_wrapper(*flags, prompt=..., env=..., model=...)``: the wrapper in-process.

    It talks to ``openrouter_server`` with the key :data:`TEST_KEY` in
    ``OPENROUTER_API_KEY`` and writes ``--output-file`` into ``tmp_path``.
    """
    from tacroute_openrouter.wrapper import run

    counter = iter(range(1_000_000))

    def call(*flags: str, prompt: str = "Say hello.", env: dict[str, str] | None = None,
             model: str = "openai/gpt-4o-mini", base_url: bool = True, key: str | None = TEST_KEY,
             transport: Any = None) -> WrapperRun:
        n = next(counter)
        prompt_file = tmp_path / f"prompt-{n}.txt"
        prompt_file.write_text(prompt, encoding="utf-8")
        output_file = tmp_path / f"out-{n}.jsonl"
        full_env = {"PATH": os.environ.get("PATH", "")}
        if key is not None:
            full_env["OPENROUTER_API_KEY"] = key
        full_env.update(env or {})
        argv = ["-p", str(prompt_file), "--model", model, "--output-file", str(output_file)]
        if base_url:
            argv += ["--base-url", openrouter_server.base_url]
        out, err = io.StringIO(), io.StringIO()
        code = run([*argv, *flags], env=full_env, stdout=out, stderr=err, transport=transport)
        return WrapperRun(code, out.getvalue(), err.getvalue(), output_file)

    return call
