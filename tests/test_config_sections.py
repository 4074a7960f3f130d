"""Config sections: every top-level table checked once, at load, into a typed value.

A plugin adds a table of its own through ``register_config_sections`` and gets
the core's errors (file, line, key path, exit 2) and no unknown-table warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from click.testing import CliRunner

import tacroute_claude_cli
from tacroute import ConfigSection, SectionContext, hookimpl
from tacroute.cli import cli
from tacroute.config import load_config, parse_config
from tacroute.config.checker import Checker
from tacroute.errors import ConfigError
from tacroute.history import load_settings
from tacroute.plugins import Registry, set_registry
from tacroute.runner import load_runner_settings

BASE = """\
[providers.claude-cli]
command_template = ["claude", "-p", "--model", "{model}"]
stdin = "{prompt_file}"

[routing]
default_provider = "claude-cli"
default_model = "claude-sonnet-4-5"
"""


class Reports(NamedTuple):
    url: str = "http://localhost:9000"
    retries: int = 3
    wait_s: float = 5.0


def _check_reports(value: Any, chk: Checker, ctx: SectionContext) -> Reports:
    good = chk.table(value, ["myplugin"], {"url": (str,), "retries": (int,), "wait_s": (int, float)})
    retries = chk.count(["myplugin", "retries"], good.get("retries", 3), low=0, high=10)
    wait = chk.seconds(["myplugin", "wait_s"], good.get("wait_s", 5.0), zero_ok=True)
    return Reports(good.get("url", Reports().url), 3 if retries is None else retries,
                   5.0 if wait is None else wait)


class MyPlugin:
    __name__ = "myplugin"

    @hookimpl
    def register_config_sections(self, register: Any) -> None:
        register(ConfigSection("myplugin", "where reports go", _check_reports))


@pytest.fixture
def with_plugin() -> Iterator[Registry]:
    reg = Registry.from_plugins([tacroute_claude_cli, MyPlugin()])
    set_registry(reg)
    yield reg
    set_registry(None)


def validate(path: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["config", "validate", "--config", str(path)])
    return result.exit_code, result.stdout, result.stderr


def test_a_plugin_section_gets_the_cores_errors(tmp_path: Path, with_plugin: Registry) -> None:
    path = tmp_path / "c.toml"
    path.write_text(BASE + '\n[myplugin]\nurl = 8080\nretries = 11\nwait_s = -1\ncolour = "red"\n')
    code, _, err = validate(path)
    assert code == 2, err
    assert f"{path}:10: myplugin.url: must be a string, not an integer (8080)" in err
    assert f"{path}:11: myplugin.retries: must be at most 10, not 11" in err
    assert f"{path}:12: myplugin.wait_s: must be a non-negative number of seconds" in err
    assert f"{path}:13: myplugin.colour: unknown key in [myplugin]" in err
    assert "Traceback" not in err


def test_a_plugin_section_loads_into_its_typed_value(tmp_path: Path, with_plugin: Registry) -> None:
    path = tmp_path / "c.toml"
    path.write_text(BASE + '\n[myplugin]\nurl = "http://reports"\nretries = 0\n')
    code, _, err = validate(path)
    assert code == 0 and "unknown" not in err
    assert load_config(path).section("myplugin") == Reports("http://reports", 0, 5.0)
    # Absent: the check of an empty table gives the defaults.
    assert parse_config(BASE, path).section("myplugin") == Reports()


def test_without_the_plugin_its_table_is_unknown(tmp_path: Path) -> None:
    reg = Registry.from_plugins([tacroute_claude_cli])
    config = parse_config(BASE + "\n[myplugin]\nurl = 1\n", tmp_path / "c.toml", registry=reg)
    assert any("myplugin: unknown top-level table" in w for w in config.warnings)
    with_it = parse_config(BASE + '\n[myplugin]\nurl = "x"\n', tmp_path / "c.toml",
                           registry=Registry.from_plugins([tacroute_claude_cli, MyPlugin()]))
    assert not any("unknown" in w for w in with_it.warnings)


def test_a_plugin_cannot_take_a_core_table(capsys: pytest.CaptureFixture[str]) -> None:
    class Thief:
        __name__ = "thief"

        @hookimpl
        def register_config_sections(self, register: Any) -> None:
            register(ConfigSection("runner", "mine now", _check_reports))

    reg = Registry.from_plugins([Thief()])
    info = reg.plugins["thief"]
    assert "runner" not in reg.config_sections
    assert info.error is not None and "core's [runner] table" in info.error
    assert "skipping plugin 'thief'" in capsys.readouterr().err


def test_a_crashing_section_check_is_a_config_error(tmp_path: Path) -> None:
    def broken(value: Any, chk: Checker, ctx: SectionContext) -> None:
        raise RuntimeError("oops")

    class Broken:
        __name__ = "broken"

        @hookimpl
        def register_config_sections(self, register: Any) -> None:
            register(ConfigSection("broken", "always fails", broken))

    reg = Registry.from_plugins([tacroute_claude_cli, Broken()])
    with pytest.raises(ConfigError, match=r"broken: the check of \[broken\] failed: RuntimeError: oops"):
        parse_config(BASE + "\n[broken]\nx = 1\n", tmp_path / "c.toml", registry=reg)


def test_sections_are_checked_once_at_load(tmp_path: Path, with_plugin: Registry) -> None:
    # The settings readers return what the load checked: they parse nothing again
    # (so a change of the document after the load is not seen, nor re-reported).
    path = tmp_path / "c.toml"
    path.write_text(BASE + "\n[runner]\nmax_attempts = 2\n\n[history]\npath = \"h.db\"\n"
                    "[history.cooldown]\nfailures = 4\n")
    config = load_config(path)
    assert config.runner.max_attempts == 2 and config.history.path == tmp_path / "h.db"
    config.raw["runner"]["max_attempts"] = 0
    config.raw["history"]["cooldown"]["failures"] = 0
    assert load_runner_settings(config).max_attempts == 2
    assert load_settings(config).cooldown.failures == 4
    assert load_settings(config) is config.history


def test_runner_errors_come_at_load_with_the_rest(tmp_path: Path, with_plugin: Registry) -> None:
    path = tmp_path / "c.toml"
    path.write_text(BASE + '\n[runner]\nmax_attempts = 0\n\n[myplugin]\nretries = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert f"{path}:10: runner.max_attempts: must be at least 1, not 0" in text
    assert f"{path}:13: myplugin.retries: must be an integer" in text
