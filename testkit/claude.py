"""Fixtures for running the real Claude CLI against the fake Anthropic server.

The CLI is found at ``$TACROUTE_CLAUDE_BIN`` or ``.tools/node_modules/.bin/claude``
(installed by ``make setup``). When it is missing the tests skip with the reason,
except under ``CI=true``, where a missing CLI fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.anthropic_server import FakeAnthropicServer

__all__ = ["FAKE_API_KEY", "claude_env", "find_claude"]

ROOT = Path(__file__).resolve().parent.parent
#: The key the CLI sends to the fake server (never a real one).
FAKE_API_KEY = "fake-anthropic-key-for-tests"
#: Inherited variables that would change what the CLI does.
_DROP = ("IS_SANDBOX", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_MODEL", "CLAUDE_CONFIG_DIR", "CLAUDECODE",
         "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX")


def find_claude() -> Path | None:
    """The pinned Claude CLI binary, or None."""
    override = os.environ.get("TACROUTE_CLAUDE_BIN")
    candidates = [Path(override)] if override else []
    candidates.append(ROOT / ".tools" / "node_modules" / ".bin" / "claude")
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path.resolve()
    return None


def claude_env(home: Path, base_url: str | None = None) -> dict[str, str]:
    """An environment in which the CLI only talks to the fake server."""
    env = {k: v for k, v in os.environ.items() if k not in _DROP and not k.startswith("ANTHROPIC_")}
    env.update(HOME=str(home), ANTHROPIC_API_KEY=FAKE_API_KEY, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
               DISABLE_AUTOUPDATER="1")
    if base_url is not None:
        env["ANTHROPIC_BASE_URL"] = base_url
    return env


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    """Path of the real Claude CLI; skips (or fails under CI=true) when it is missing."""
    path = find_claude()
    if path is None:
        reason = ("the Claude CLI is not installed: run `make setup` (npm installs "
                  "@anthropic-ai/claude-code into .tools/) or set TACROUTE_CLAUDE_BIN")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture
def anthropic_server() -> Iterator[FakeAnthropicServer]:
    """A fresh fake Anthropic API server on 127.0.0.1 for one test."""
    with FakeAnthropicServer() as server:
        yield server


@pytest.fixture
def second_anthropic_server() -> Iterator[FakeAnthropicServer]:
    """Another one, for failover between two providers."""
    with FakeAnthropicServer() as server:
        yield server


@pytest.fixture
def claude_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME and the API key for the CLI, set in this process's environment (restored after)."""
    home = tmp_path / "home"
    home.mkdir()
    for key in list(os.environ):
        if key in _DROP or key.startswith("ANTHROPIC_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_API_KEY)
    monkeypatch.setenv("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
    monkeypatch.setenv("DISABLE_AUTOUPDATER", "1")
    return home
