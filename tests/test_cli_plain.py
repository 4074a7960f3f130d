"""tacroute's click classes built without click's run-time gettext (:mod:`tacroute.cli._plain`)
print exactly what click's own help option and ``click.Path`` print."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from tacroute.cli import TacrouteGroup, cli
from tacroute.cli._plain import ConfigFile, PlainHelp
from tacroute.cli.route_cmd import route, routing


class ClickHelpGroup(TacrouteGroup):
    """The root group with click's own help option (its gettext look-up included)."""

    get_help_option = click.Command.get_help_option


def _with_clicks_help(cmd: click.Command) -> click.Command:
    return click.Command(cmd.name, params=list(cmd.params), help=cmd.help, callback=cmd.callback,
                         context_settings=cmd.context_settings)


def _clicks_cli() -> click.Group:
    """The root group with click's help option and the commands ``cli`` has now: with a cold
    plugin-command cache, listing ``cli``'s commands loaded the plugins, which added theirs."""
    return ClickHelpGroup(name=cli.name, params=list(cli.params), help=cli.help, callback=cli.callback,
                          context_settings=cli.context_settings, commands=dict(cli.commands))


def _clicks_route() -> click.Group:
    """``route`` and ``routing`` with click's help option, under a plain group."""
    root = click.Group(cli.name, context_settings=cli.context_settings)
    for cmd in (route, routing):
        root.add_command(_with_clicks_help(cmd))
    return root


def test_help_screens_are_byte_for_byte_clicks() -> None:
    assert isinstance(cli, PlainHelp) and isinstance(route, PlainHelp)
    runner = CliRunner()
    for args in (["--help"], ["-h"], ["route", "--help"], ["route", "-h"], ["routing", "--help"]):
        ours = runner.invoke(cli, args, prog_name="tacroute", terminal_width=100)
        theirs = _clicks_route() if args[0].startswith("rout") else _clicks_cli()
        clicks = runner.invoke(theirs, args, prog_name="tacroute", terminal_width=100)
        assert ours.exit_code == clicks.exit_code == 0, (ours.output, clicks.output)
        assert ours.output == clicks.output and "Show this message and exit." in ours.output, args


def test_the_help_option_is_the_same_option_click_builds() -> None:
    for cmd, clone in ((cli, _clicks_cli()), (route, _with_clicks_help(route))):
        ctx = click.Context(cmd, info_name="x", help_option_names=["-h", "--help"])
        ours, clicks = cmd.get_help_option(ctx), click.Command.get_help_option(clone, ctx)
        assert ours is not None and clicks is not None
        assert ours.to_info_dict() == clicks.to_info_dict()
        assert ours is cmd.get_help_option(ctx)  # built once: click orders eager options by identity
    route.add_help_option = False
    try:
        assert route.get_help_option(click.Context(route)) is None
    finally:
        route.add_help_option = True


def test_the_config_type_is_clicks_path_with_its_errors() -> None:
    assert vars(ConfigFile()) == vars(click.Path(dir_okay=False, path_type=Path))
    assert ({**ConfigFile().to_info_dict(), "param_type": "Path"}
            == click.Path(dir_okay=False, path_type=Path).to_info_dict())
    tacroute = str(Path(sys.executable).parent / "tacroute")
    proc = subprocess.run([tacroute, "route", "--config", str(Path(__file__).parent)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert f"Invalid value for '--config': File '{Path(__file__).parent}' is a directory." in proc.stderr
