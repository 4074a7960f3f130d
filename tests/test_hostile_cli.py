"""An unexpected exception (a plugin bug) reaches the user as one line, exit 1, not a traceback;
TACROUTE_DEBUG=1 lets it through for the developer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tacroute import CompileContext, ConditionType, hookimpl
from tacroute.cli import cli
from tacroute.plugins import Registry, set_registry
from tacroute.types import Predicate, Task
from testkit.script_provider import ScriptPlugin, script_config


class BrokenCondition(ConditionType):
    name = "broken"
    description = "a condition whose predicate fails"

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        def broken(task: Task) -> bool:
            if "leak" in task:  # a plugin bug that quotes a credential in its message
                raise RuntimeError(f"bad token {os.environ['PLUGIN_SERVICE_TOKEN']}")
            raise ZeroDivisionError("division by zero\nsecond line")

        return broken


class BrokenPlugin(ScriptPlugin):
    @hookimpl
    def register_conditions(self, register: Any) -> None:
        register(BrokenCondition())


@pytest.fixture(autouse=True)
def plugin() -> Iterator[BrokenPlugin]:
    plugin = BrokenPlugin()
    set_registry(Registry.from_plugins([plugin]))
    yield plugin
    set_registry(None)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = script_config(tmp_path, ["ok"])
    path.write_text(path.read_text() + '[[routing.rules]]\nname = "b"\nconditions = { broken = 1 }\n'
                    'model = "ok"\n')
    return path


def test_an_unexpected_exception_is_one_line_and_exit_1(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TACROUTE_DEBUG", raising=False)
    result = CliRunner().invoke(cli, ["route", "--config", str(config)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr == ("tacroute: internal error: ZeroDivisionError: division by zero "
                             "(set TACROUTE_DEBUG=1 for the traceback)\n")


def test_tacroute_debug_lets_the_exception_through(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TACROUTE_DEBUG", "1")
    result = CliRunner().invoke(cli, ["route", "--config", str(config)])
    assert isinstance(result.exception, ZeroDivisionError)


def test_an_internal_error_line_has_the_secrets_masked(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TACROUTE_DEBUG", raising=False)
    monkeypatch.setenv("PLUGIN_SERVICE_TOKEN", "tok-0123456789abcdef")
    result = CliRunner().invoke(cli, ["route", "--attr", "leak=1", "--config", str(config)])
    assert result.exit_code == 1
    assert "RuntimeError: bad token ***" in result.stderr
    assert "0123456789" not in result.stderr
