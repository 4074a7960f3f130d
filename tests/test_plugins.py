from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tacroute import CompileContext, ConditionType, PluginError, hookimpl
from tacroute.cli import cli
from tacroute.context import RunContext
from tacroute.plugins import Registry, set_registry
from tacroute.types import Decision, Predicate
from testkit.history import plain_config


class Always(ConditionType):
    name = "always"

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        return lambda task: bool(value)


class GoodPlugin:
    __name__ = "good"

    @hookimpl
    def register_conditions(self, register: Any) -> None:
        register(Always())


class SameNamePlugin:
    __name__ = "copycat"

    @hookimpl
    def register_conditions(self, register: Any) -> None:
        register(Always())


class RaisingPlugin:
    __name__ = "raiser"

    @hookimpl
    def register_conditions(self, register: Any) -> None:
        class Partial(ConditionType):
            name = "partial"

        register(Partial())
        raise RuntimeError("boom")


class TyposPlugin:
    __name__ = "typos"

    @hookimpl
    def register_condition(self, register: Any) -> None:  # misspelled hook name
        pass


def test_from_plugins_registers_with_provenance() -> None:
    reg = Registry.from_plugins([GoodPlugin()])
    assert "always" in reg.conditions
    assert reg.plugins["good"].conditions == ["always"]


def test_duplicate_names_are_an_error_naming_both(capsys: pytest.CaptureFixture[str]) -> None:
    reg = Registry.from_plugins([GoodPlugin(), SameNamePlugin()])
    err = capsys.readouterr().err
    assert "'always' is registered by both plugin 'good' and plugin 'copycat'" in err
    assert reg.plugins["copycat"].error and reg.plugins["good"].error is None
    assert reg.conditions["always"].__class__ is Always


def test_exception_in_register_hook_is_reported_once_and_rolled_back(
        capsys: pytest.CaptureFixture[str]) -> None:
    reg = Registry.from_plugins([RaisingPlugin(), GoodPlugin()])
    err = capsys.readouterr().err
    assert err.count("skipping plugin 'raiser'") == 1 and "RuntimeError: boom" in err
    assert "partial" not in reg.conditions
    assert "always" in reg.conditions


def test_strict_mode_reraises() -> None:
    with pytest.raises(PluginError, match="boom"):
        Registry.from_plugins([RaisingPlugin()], env={"TACROUTE_STRICT_PLUGINS": "1"})


def test_misspelled_hook_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    reg = Registry.from_plugins([TyposPlugin(), GoodPlugin()])
    assert "unknown hook" in (reg.plugins["typos"].error or "")
    assert "always" in reg.conditions
    assert "typos" in capsys.readouterr().err


def ep(name: str, value: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=value, group="tacroute")


def test_entry_point_that_fails_to_import_is_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    reg = Registry.load(env={}, entry_points=[ep("broken", "tacroute_no_such_module"),
                                             ep("priority", "tacroute_conditions.priority")])
    assert "priority" in reg.conditions
    assert "ModuleNotFoundError" in (reg.plugins["broken"].error or "")
    assert "skipping plugin 'broken'" in capsys.readouterr().err


def test_disable_and_allow_lists() -> None:
    eps = [ep("priority", "tacroute_conditions.priority"), ep("labels", "tacroute_conditions.labels")]
    reg = Registry.load(env={"TACROUTE_DISABLE_PLUGINS": "labels"}, entry_points=eps)
    assert set(reg.conditions) == {"priority"} and reg.plugins["labels"].disabled
    reg = Registry.load(env={"TACROUTE_LOAD_PLUGINS": "labels"}, entry_points=eps)
    assert set(reg.conditions) == {"labels"}


@pytest.fixture
def broken_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real installed distribution (dist-info on sys.path) whose entry point cannot import."""
    info = tmp_path / "tacroute_broken-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tacroute-broken\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text("[tacroute]\nbroken = tacroute_broken_missing:plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_broken_entry_point_of_an_installed_distribution(
        broken_distribution: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reg = Registry.load(env={})
    info = reg.plugins["broken"]
    assert info.distribution == "tacroute-broken" and info.version == "0.3"
    assert info.error and "ModuleNotFoundError" in info.error
    assert "priority" in reg.conditions  # everything else still loads
    assert "(distribution tacroute-broken)" in capsys.readouterr().err


def test_help_and_plugins_command_work_with_a_broken_plugin(broken_distribution: Path) -> None:
    set_registry(None)
    try:
        runner = CliRunner()
        result = runner.invoke(cli, ["--help"])
        assert result.exit_code == 0, result.output
        assert "route" in result.output
        result = runner.invoke(cli, ["plugins", "--json"])
        assert result.exit_code == 0
        assert '"error": "cannot be loaded: ModuleNotFoundError' in result.output
    finally:
        set_registry(None)


def test_importing_tacroute_loads_no_plugins() -> None:
    import subprocess

    code = ("import sys, tacroute, tacroute.routing, tacroute.cli; "
            "print(any(m.startswith('tacroute_conditions') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class ObserverPlugin:
    __name__ = "observer"

    def __init__(self) -> None:
        self.seen: list[Any] = []

    @hookimpl
    def observe_decision(self, decision: Any, task: Any) -> None:
        self.seen.append((decision, task))


class BadObserver:
    __name__ = "bad-observer"

    @hookimpl
    def observe_decision(self, decision: Any, task: Any) -> None:
        raise ValueError("observer bug")


def test_notify_reports_failing_observers_and_goes_on(capsys: pytest.CaptureFixture[str]) -> None:
    good = ObserverPlugin()
    reg = Registry.from_plugins([BadObserver(), good])
    decision = Decision("p", "m", None, "default")
    reg.hooks.observe_decision(RunContext(plain_config(), "r1", {"priority": "low"}, decision))
    assert good.seen == [(decision, {"priority": "low"})]
    assert "observer bug" in capsys.readouterr().err


def test_entry_point_cache_is_used_until_sys_path_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tacroute import plugins

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TACROUTE_NO_PLUGIN_CACHE", raising=False)
    first = {(e.name, e.value) for e in plugins.discover_entry_points()}
    assert ("priority", "tacroute_conditions.priority") in first
    assert list((tmp_path / "cache" / "tacroute").glob("entry-points-*.json"))

    def no_scan(**kwargs: object) -> object:
        raise AssertionError("metadata scanned although the cache is fresh")

    monkeypatch.setattr(metadata, "entry_points", no_scan)
    assert {(e.name, e.value) for e in plugins.discover_entry_points()} == first
    # Installing a distribution changes a sys.path folder: the cache is stale.
    extra = tmp_path / "site"
    extra.mkdir()
    monkeypatch.syspath_prepend(str(extra))
    with pytest.raises(AssertionError, match="metadata scanned"):
        plugins.discover_entry_points()


def test_routing_imports_no_parser_or_runner_modules(tmp_path: Path) -> None:
    """``tacroute route`` must stay start-up cheap: parsers and the runner load when a task runs."""
    import os
    import subprocess

    config = Path(__file__).resolve().parent.parent / "examples" / "config.toml"
    code = ("import sys; from tacroute.cli import main\n"
            "try:\n    main(['route', '--config', sys.argv[1], '--priority', 'critical', '--json'])\n"
            "except SystemExit:\n    pass\n"
            "heavy = [m for m in sys.modules if m.startswith(('tacroute.runner', 'tacroute.types.run', "
            "'tacroute_claude_cli.stream_json', 'tacroute_openrouter.parser', 'httpx', 'sqlite3', "
            "'importlib.metadata'))]\nprint('HEAVY', heavy, file=sys.stderr)")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    for _ in range(2):  # the first run fills the entry-point cache
        out = subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True,
                             cwd=tmp_path, env=env)
    assert "HEAVY []" in out.stderr, out.stderr
