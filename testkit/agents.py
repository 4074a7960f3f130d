"""Fixtures for running the real Codex and Gemini CLIs against the fake APIs.

The CLIs are found at ``$TACROUTE_CODEX_BIN`` / ``$TACROUTE_GEMINI_BIN`` or in
``.tools/node_modules/.bin/`` (installed by ``make setup``). When one is missing
its tests skip with the reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tacroute_codex_cli import CodexCLIProvider
from tacroute_gemini_cli import GeminiCLIProvider
from testkit.gemini_server import FakeGeminiServer
from testkit.openai_server import FakeOpenAIServer

__all__ = ["CODEX_ARGS", "FAKE_GEMINI_KEY", "FAKE_OPENAI_KEY", "GEMINI_ARGS", "codex_table", "find_tool",
           "gemini_table", "run_json", "write_agent_config"]

ROOT = Path(__file__).resolve().parent.parent
#: Keys the CLIs send to the fake servers (never real ones).
FAKE_OPENAI_KEY = "sk-fake-openai-key-for-tests"
FAKE_GEMINI_KEY = "fake-gemini-key-for-tests"
#: The plugins' default commands after the program (the tables name the pinned binary).
CODEX_ARGS = tuple(CodexCLIProvider.default_command[1:])
GEMINI_ARGS = tuple(GeminiCLIProvider.default_command[1:])


def find_tool(name: str) -> Path | None:
    """The pinned CLI ``name`` (codex, gemini), or None."""
    override = os.environ.get(f"TACROUTE_{name.upper()}_BIN")
    candidates = [Path(override)] if override else []
    candidates.append(ROOT / ".tools" / "node_modules" / ".bin" / name)
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path.resolve()
    return None


def _need(name: str, package: str) -> Path:
    path = find_tool(name)
    if path is None:
        reason = (f"the {name} CLI is not installed: run `make setup` (npm installs {package} "
                  f"into .tools/) or set TACROUTE_{name.upper()}_BIN")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def codex_bin() -> Path:
    return _need("codex", "@openai/codex")


@pytest.fixture(scope="session")
def gemini_bin() -> Path:
    return _need("gemini", "@google/gemini-cli")


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def gemini_server() -> Iterator[FakeGeminiServer]:
    with FakeGeminiServer() as server:
        yield server


@pytest.fixture
def agent_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keys set, vendor variables that would steer the CLIs removed, a private state dir.

    Returns the state dir (``TACROUTE_STATE_DIR``) the provider homes go under.
    """
    for key in list(os.environ):
        if key.startswith(("OPENAI_", "CODEX_", "GEMINI_", "GOOGLE_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_OPENAI_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", FAKE_GEMINI_KEY)
    state = tmp_path / "state"
    monkeypatch.setenv("TACROUTE_STATE_DIR", str(state))
    return state


@pytest.fixture
def agent_registry() -> Iterator[Any]:
    """The built-in plugins plus the Codex and Gemini ones, set process-wide."""
    from tacroute.plugins import Registry, set_registry

    reg = Registry.load(env={"TACROUTE_LOAD_PLUGINS": "priority,labels,retry_count,hour_range,"
                                                      "claude_cli,openrouter,codex_cli,gemini_cli,history"})
    set_registry(reg)
    yield reg
    set_registry(None)


@pytest.fixture
def agent_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, agent_env: Path,
                  agent_registry: Any) -> Path:
    """A work folder as the current directory, and a HOME of the user's that must stay untouched."""
    home = tmp_path / "user-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def codex_table(name: str, codex: Path, server: FakeOpenAIServer, extra: str = "") -> str:
    return (f'[providers.{name}]\ntype = "codex-cli"\n'
            f'command_template = {json.dumps([str(codex), *CODEX_ARGS])}\n'
            f'base_url = "{server.base_url}"\n{extra}')


def gemini_table(name: str, gemini: Path, server: FakeGeminiServer, extra: str = "") -> str:
    return (f'[providers.{name}]\ntype = "gemini-cli"\n'
            f'command_template = {json.dumps([str(gemini), *GEMINI_ARGS])}\n'
            f'base_url = "{server.base_url}"\n{extra}')


def write_agent_config(folder: Path, tables: list[str], default: str, model: str,
                       fallbacks: tuple[tuple[str, str], ...] = (), extra: str = "") -> Path:
    """Tables, then routing whose default is ``default``/``model`` with ``fallbacks`` after it."""
    text = "\n".join(tables) + f'\n[routing]\nenabled = true\ndefault_provider = "{default}"\n'
    text += f'default_model = "{model}"\n'
    if fallbacks:
        targets = ", ".join(f'{{ provider = "{p}", model = "{m}" }}' for p, m in [(default, model), *fallbacks])
        text += (f'\n[[routing.rules]]\nname = "agents"\npriority = 90\nconditions = {{ priority = "high" }}\n'
                 f"targets = [{targets}]\n")
    text += extra
    path = folder / "tacroute.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_json(config: Path, *extra: str, prompt: str = "Say OK.\n") -> tuple[int, dict[str, Any]]:
    """``tacroute run --json`` in-process; the JSON it printed."""
    from click.testing import CliRunner

    from tacroute.cli import cli

    prompt_file = config.parent / "prompt.txt"
    prompt_file.write_text(prompt, encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(prompt_file), "--priority", "high", "--json",
                                      "--config", str(config), *extra])
    try:
        data = json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"not JSON (exit {result.exit_code}): {result.output!r} {result.exception!r}")
    return result.exit_code, data
