"""Hooks go through pluggy: its order, its wrappers, each plugin isolated, a RunContext.

The plugins here are written the way a user would write one (held out from
the core): only ``hookimpl`` and the public types.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tacroute import (
    Config,
    OutputParserType,
    PluginError,
    RegisterOutputParser,
    RunContext,
    hookimpl,
    load_config,
    run_task,
)
from tacroute.cli import cli
from tacroute.history import HistoryStore
from tacroute.history import plugin as history_plugin
from tacroute.plugins import Registry, set_registry
from tacroute.types import Decision
from testkit.history import plain_config
from testkit.script_provider import LinesParser, ScriptPlugin, script_config


def _ctx(config: Config | None = None, run_id: str = "r1") -> RunContext:
    return RunContext(config or plain_config(), run_id, {"priority": "low"},
                      Decision("p", "m", None, "default"))


class Ordered:
    """tryfirst, trylast, a plain one and a new-style wrapper, all appending to one list."""

    __name__ = "ordered"

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls


def _plugins(calls: list[str]) -> list[object]:
    class Last:
        __name__ = "last"

        @hookimpl(trylast=True)
        def observe_decision(self, ctx: RunContext) -> None:
            calls.append("trylast")

    class Plain:
        __name__ = "plain"

        @hookimpl
        def observe_decision(self, ctx: RunContext) -> None:
            calls.append("plain")

    class First:
        __name__ = "first"

        @hookimpl(tryfirst=True)
        def observe_decision(self, ctx: RunContext) -> None:
            calls.append("tryfirst")

    class Wrapper:
        __name__ = "wrapper"

        @hookimpl(wrapper=True)
        def observe_decision(self, ctx: RunContext) -> Generator[None, list[object], list[object]]:
            calls.append("wrapper before")
            result = yield
            calls.append(f"wrapper after {result!r}")
            return result

    # Registered first: tryfirst must still run first, and the wrapper around all.
    return [Last(), Plain(), First(), Wrapper()]


def test_tryfirst_trylast_and_wrapper_run_in_pluggys_order() -> None:
    calls: list[str] = []
    reg = Registry.from_plugins(_plugins(calls))
    reg.hooks.observe_decision(_ctx())
    assert calls == ["wrapper before", "tryfirst", "plain", "trylast", "wrapper after []"]


def test_plain_implementations_run_in_plugin_order() -> None:
    calls: list[str] = []

    def plugin(tag: str) -> object:
        class P:
            __name__ = tag

            @hookimpl
            def observe_run(self, ctx: RunContext, result: Any) -> None:
                calls.append(tag)

        return P()

    reg = Registry.from_plugins([plugin("a"), plugin("b"), plugin("c")])
    reg.hooks.observe_run(_ctx(), None)  # type: ignore[arg-type]
    assert calls == ["a", "b", "c"]


class Raising:
    __name__ = "raising"

    @hookimpl(tryfirst=True)
    def observe_decision(self, ctx: RunContext) -> None:
        raise ValueError("observer bug")


def test_a_raising_observer_is_reported_and_the_others_and_the_wrapper_still_run(
        capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[str] = []
    reg = Registry.from_plugins([Raising(), *_plugins(calls)])
    reg.hooks.observe_decision(_ctx())
    assert calls == ["wrapper before", "tryfirst", "plain", "trylast", "wrapper after []"]
    err = capsys.readouterr().err
    assert "plugin 'raising' failed in observe_decision: ValueError: observer bug" in err


def test_strict_mode_a_wrapper_sees_the_exception_as_pluggy_documents() -> None:
    seen: list[BaseException] = []

    class Swallowing:
        __name__ = "swallowing"

        @hookimpl(wrapper=True)
        def observe_decision(self, ctx: RunContext) -> Generator[None, list[object], list[object]]:
            try:
                return (yield)
            except ValueError as exc:  # the inner implementation's exception is thrown in here
                seen.append(exc)
                return []

    class Reraising:
        __name__ = "reraising"

        @hookimpl(wrapper=True)
        def observe_decision(self, ctx: RunContext) -> Generator[None, list[object], list[object]]:
            return (yield)

    strict = {"TACROUTE_STRICT_PLUGINS": "1"}
    Registry.from_plugins([Raising(), Swallowing()], env=strict).hooks.observe_decision(_ctx())
    assert [str(e) for e in seen] == ["observer bug"]  # swallowed by the wrapper: no exception
    with pytest.raises(ValueError, match="observer bug"):
        Registry.from_plugins([Raising(), Reraising()], env=strict).hooks.observe_decision(_ctx())


def test_a_wrapper_that_raises_is_reported_and_the_others_still_run(
        capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[str] = []

    class BrokenBefore:
        __name__ = "broken-before"

        @hookimpl(wrapper=True)
        def observe_decision(self, ctx: RunContext) -> Generator[None, Any, Any]:
            raise RuntimeError("before yield")
            yield  # pragma: no cover

    class BrokenAfter:
        __name__ = "broken-after"

        @hookimpl(hookwrapper=True)
        def observe_decision(self, ctx: RunContext) -> Generator[None, Any, None]:
            calls.append("old-style before")
            yield
            raise RuntimeError("after yield")

    reg = Registry.from_plugins([BrokenBefore(), BrokenAfter(), *_plugins(calls)])
    reg.hooks.observe_decision(_ctx())
    assert {"tryfirst", "plain", "trylast", "old-style before"} <= set(calls)
    err = capsys.readouterr().err
    assert "'broken-before' failed in observe_decision: RuntimeError: before yield" in err
    assert "'broken-after' failed in observe_decision: RuntimeError: after yield" in err


def test_a_wrapper_that_is_not_a_generator_is_refused_at_registration() -> None:
    class NotAGenerator:
        __name__ = "not-a-generator"

        @hookimpl(wrapper=True)
        def observe_run(self, ctx: RunContext) -> None:
            pass

    with pytest.raises(Exception, match="generator function"):
        Registry.from_plugins([NotAGenerator()])


def test_old_argument_names_still_work() -> None:
    seen: list[Any] = []

    class Old:
        __name__ = "old"

        @hookimpl
        def observe_decision(self, decision: Any, task: Any) -> None:
            seen.append((decision.provider, dict(task)))

        @hookimpl
        def observe_attempt_start(self, run_id: str, attempt: int, task: Any, provider: str,
                                  model: str) -> None:
            seen.append((run_id, attempt, provider, model))

    reg = Registry.from_plugins([Old()])
    ctx = _ctx(run_id="run-7")
    reg.hooks.observe_decision(ctx)
    reg.hooks.observe_attempt_start(ctx, 2, "p", "m")
    assert seen == [("p", {"priority": "low"}), ("run-7", 2, "p", "m")]


# ------------------------------------------------------------------ the run context
class ConfigSpy:
    __name__ = "config-spy"

    def __init__(self) -> None:
        self.seen: list[tuple[str, Config, str, str]] = []

    @hookimpl
    def observe_decision(self, ctx: RunContext) -> None:
        ctx.state["config-spy"] = ctx.config  # per-run state, kept for the later hooks

    @hookimpl
    def observe_run(self, ctx: RunContext, result: Any) -> None:
        assert ctx.state["config-spy"] is ctx.config
        self.seen.append((ctx.run_id, ctx.config, result.run_id, result.model))


@pytest.fixture
def spy() -> Iterator[ConfigSpy]:
    spy = ConfigSpy()
    set_registry(Registry.from_plugins([ScriptPlugin(), spy, history_plugin]))
    yield spy
    set_registry(None)


def test_observers_get_each_runs_config_without_globals(spy: ConfigSpy, tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("fix it\n", encoding="utf-8")
    configs = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        path = script_config(folder, [f"ok-{name}"], runner=f'[history]\npath = "{name}.db"\n')
        configs.append(load_config(path))
    first = run_task(prompt, {}, config=configs[0])
    second = run_task(prompt, {}, config=configs[1])
    assert [(s[0], s[1], s[2], s[3]) for s in spy.seen] == [
        (first.run_id, configs[0], first.run_id, "ok-a"), (second.run_id, configs[1], second.run_id, "ok-b")]
    assert spy.seen[0][1] != spy.seen[1][1]
    # The history plugin recorded each run into its own config's database.
    for name, result in (("a", first), ("b", second)):
        with HistoryStore(tmp_path / name / f"{name}.db") as store:
            assert [r.run_id for r in store.runs()] == [result.run_id]


# ------------------------------------------------------------------- registration
class Parsers(OutputParserType):
    name = "held-out-lines"
    description = "lines, as a held-out plugin reads them"

    def create(self) -> LinesParser:
        return LinesParser()


def test_output_parsers_register_like_the_other_types() -> None:
    class ParserPlugin:
        __name__ = "parser-plugin"

        @hookimpl
        def register_output_parsers(self, register: RegisterOutputParser) -> None:
            register(Parsers())

    reg = Registry.from_plugins([ParserPlugin()])
    assert reg.plugins["parser-plugin"].output_parsers == ["held-out-lines"]
    assert isinstance(reg.output_parsers["held-out-lines"].create(), LinesParser)
    assert reg.description("output_parsers", "held-out-lines") == "lines, as a held-out plugin reads them"


def test_the_old_two_argument_parser_registration_is_a_clear_error() -> None:
    class OldParserPlugin:
        __name__ = "old-parsers"

        @hookimpl
        def register_output_parsers(self, register: Any) -> None:
            register("lines", LinesParser)

    with pytest.raises(PluginError, match=r"register\(\) takes one output parser type object"):
        Registry.from_plugins([OldParserPlugin()], env={"TACROUTE_STRICT_PLUGINS": "1"})


def test_registering_outside_the_hook_is_refused() -> None:
    kept: list[Any] = []

    class Keeper:
        __name__ = "keeper"

        @hookimpl
        def register_output_parsers(self, register: RegisterOutputParser) -> None:
            kept.append(register)

    Registry.from_plugins([Keeper()])
    with pytest.raises(PluginError, match="from a register_output_parsers hook"):
        kept[0](Parsers())


def test_plugins_command_shows_descriptions(builtin_registry: Registry) -> None:
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert "claude-cli: Claude Code CLI in print mode with stream-json output" in result.output
    assert "priority: a priority or a list of them" in result.output
    assert "claude-stream-json: the CLI's --output-format stream-json events" in result.output
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    data = {p["name"]: p for p in json.loads(result.output)}
    assert data["claude_cli"]["descriptions"]["providers"]["claude-cli"].startswith("Claude Code CLI")
