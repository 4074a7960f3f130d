"""Generic core pieces added for provider plugins: sub-commands of built-in groups,
``ProviderType.command_env`` and ``ProviderType.check`` (``providers --check``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from tacroute import ProviderType, hookimpl
from tacroute.cli import cli
from tacroute.cli._groups import LOG, add_subcommand
from tacroute.config import parse_config
from tacroute.errors import PluginError
from tacroute.plugins import Registry, set_registry
from tacroute.providers import ProviderManager
from tacroute.providers.command import build_env


@click.command("hello-prices")
def _hello() -> None:
    """A plugin's pricing sub-command."""
    click.echo("hello from a plugin")


class _Checked(ProviderType):
    name = "checked"
    default_command = ("/bin/sh",)
    default_api_key_env = "CHECKED_KEY"

    def command_env(self, config: Any) -> Mapping[str, str]:
        return {"CHECKED_OPTION": str(config.options.get("flavour", "")), "SHARED": "from-type"}

    def check(self, config: Any, env: Mapping[str, str]) -> dict[str, Any] | None:
        key = env.get("CHECKED_KEY", "")
        return {"ok": key == "good", "message": "key accepted" if key == "good" else "key refused"}


_Checked.options = {"flavour": str}


class _Plugin:
    __name__ = "test-plugin"

    @hookimpl
    def register_providers(self, register: Any) -> None:
        register(_Checked())

    @hookimpl
    def register_commands(self, cli: click.Group) -> None:
        add_subcommand(cli, "pricing", _hello)


CONFIG = """
[providers.p]
type = "checked"
flavour = "mint"
[providers.p.env]
SHARED = "from-table"
[routing]
default_provider = "p"
default_model = "m"
"""


@pytest.fixture
def registry() -> Any:
    reg = Registry.from_plugins([_Plugin()])
    set_registry(reg)
    yield reg
    set_registry(None)
    from tacroute.cli.pricing_cmd import pricing

    pricing.commands.pop("hello-prices", None)


def test_plugin_adds_a_subcommand_to_a_builtin_group(registry: Registry) -> None:
    result = CliRunner().invoke(cli, ["pricing", "hello-prices"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello from a plugin\n"


def test_add_subcommand_to_a_missing_group_is_a_plugin_error() -> None:
    with pytest.raises(PluginError, match="no built-in command group 'nope'"):
        add_subcommand(cli, "nope", _hello)


def test_command_env_is_merged_under_the_table_env(registry: Registry) -> None:
    config = parse_config(CONFIG, Path("/tmp/x.toml"), registry=registry)
    env = build_env(ProviderManager(config, registry, env={"PATH": "/usr/bin"}), "p")
    assert env["CHECKED_OPTION"] == "mint"
    assert env["SHARED"] == "from-table"
    assert env["PATH"] == "/usr/bin"


def test_providers_check(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.toml"
    path.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("CHECKED_KEY", "good")
    ok = CliRunner().invoke(cli, ["providers", "--check", "--config", str(path)])
    assert ok.exit_code == 0, ok.output
    assert "check: ok  key accepted" in ok.output
    plain = CliRunner().invoke(cli, ["providers", "--config", str(path)])
    assert "check:" not in plain.output
    monkeypatch.setenv("CHECKED_KEY", "bad")
    bad = CliRunner().invoke(cli, ["providers", "--check", "--json", "--config", str(path)])
    assert bad.exit_code == 1
    assert json.loads(bad.output)["providers"][0]["check"] == {"ok": False, "message": "key refused"}


def test_default_provider_type_has_no_check_and_no_env() -> None:
    assert ProviderType().check(None, {}) is None  # type: ignore[arg-type]
    assert ProviderType().command_env(None) == {}  # type: ignore[arg-type]


@click.command("half-done")
def _half() -> None:
    """Added by a plugin that then fails."""


class _Broken:
    __name__ = "broken-plugin"

    @hookimpl
    def register_commands(self, cli: click.Group) -> None:
        add_subcommand(cli, "pricing", _half)
        raise RuntimeError("boom")


def test_plugins_lists_subcommands_and_a_failing_plugin_takes_its_back(
        capsys: pytest.CaptureFixture[str]) -> None:
    from tacroute.cli.pricing_cmd import pricing

    reg = Registry.from_plugins([_Plugin(), _Broken()])
    set_registry(reg)
    try:
        reg.add_commands(cli, LOG)
        assert "pricing hello-prices" in reg.plugins["test-plugin"].commands
        assert "half-done" not in pricing.commands
        assert "boom" in (reg.plugins["broken-plugin"].error or "")
        assert "broken-plugin" in capsys.readouterr().err
    finally:
        set_registry(None)
        pricing.commands.pop("hello-prices", None)
