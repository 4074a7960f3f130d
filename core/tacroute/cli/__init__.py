"""The ``tacroute`` command line: one click group, noun sub-commands.

Built-in commands are imported only when used, so ``tacroute route`` does not
pay for the others; plugin commands are added (and plugins loaded) only for
``--help`` or a command name that is not built in. A broken plugin command is
reported and skipped.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, ClassVar

import click

from tacroute.errors import ConfigError, TacrouteError, UsageError
from tacroute.fastexit import fast_exit as _fast_exit
from tacroute.fastexit import note_writes as _note_writes

__all__ = ["cli", "main"]

_BUILTIN = {
    "config": "tacroute.cli.config_cmd:config",
    "plugins": "tacroute.cli.plugins_cmd:plugins",
    "providers": "tacroute.cli.providers_cmd:providers",
    "route": "tacroute.cli.route_cmd:route",
    "routing": "tacroute.cli.route_cmd:routing",
    "rules": "tacroute.cli.rules_cmd:rules",
    # what-if commands
    "replay": "tacroute.cli.replay_cmd:replay",
    "simulate": "tacroute.cli.simulate_cmd:simulate",
    # the history layer
    "history": "tacroute.cli.history_cmd:history",
    "stats": "tacroute.cli.history_cmd:stats",
    # shared state: the backend of limits, cooldowns and fleet stats
    "state": "tacroute.cli.state_cmd:state",
    # the runner
    "run": "tacroute.cli.run_cmd:run",
    # the price table (plugins add sub-commands, e.g. `refresh`)
    "pricing": "tacroute.cli.pricing_cmd:pricing",
    # per-project and per-user budgets (tacroute.preferences)
    "budgets": "tacroute.cli.budgets_cmd:budgets",
}


class TacrouteGroup(click.Group):
    """A group whose built-in commands load lazily and whose plugins add more."""

    builtin: ClassVar[dict[str, str]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return sorted(set(self.builtin) | set(self.commands))

    def builtin_command(self, cmd_name: str) -> click.Command | None:
        """A built-in command, imported on first use (None if not built in)."""
        target = self.builtin.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        cmd: click.Command = getattr(importlib.import_module(module), attr)
        return cmd

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd = self.builtin_command(cmd_name)
        if cmd is not None:
            return cmd
        if cmd_name not in self.commands:
            self._add_plugin_commands()
        return self.commands.get(cmd_name)

    def _add_plugin_commands(self) -> None:
        from tacroute.cli._groups import add_plugin_commands

        add_plugin_commands(self)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"tacroute: config error:\n{_masked(exc)}", err=True)
            ctx.exit(2)
        except UsageError as exc:
            click.echo(f"tacroute: {_masked(exc)}", err=True)
            ctx.exit(2)
        except TacrouteError as exc:
            click.echo(f"tacroute: {_masked(exc)}", err=True)
            ctx.exit(1)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort,
                BrokenPipeError):
            raise  # click reports these itself (a closed stdout pipe quietly)
        except Exception as exc:
            import os

            if os.environ.get("TACROUTE_DEBUG", "") not in ("", "0"):
                raise
            click.echo(f"tacroute: internal error: {_one_line(exc)} "
                       "(set TACROUTE_DEBUG=1 for the traceback)", err=True)
            ctx.exit(1)


def _one_line(exc: Exception) -> str:
    """The error's first line, secrets masked before it is cut."""
    from tacroute.redact import Redactor

    text = Redactor.from_env().cut(str(exc).strip().splitlines()[0] if str(exc).strip() else "", 300)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _masked(exc: Exception) -> str:
    """An error's message with the environment's secrets masked (plugins' text included)."""
    from tacroute.redact import Redactor

    return Redactor.from_env()(str(exc))


def _add_builtin(name: str, target: str) -> None:
    TacrouteGroup.builtin[name] = target


for _name, _target in _BUILTIN.items():
    _add_builtin(_name, _target)


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    # click.version_option imports locale and importlib.metadata: not worth it at every start.
    if not value or ctx.resilient_parsing:
        return
    from tacroute import __version__

    click.echo(f"tacroute {__version__}")
    ctx.exit()


@click.group(cls=TacrouteGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
def cli() -> None:
    """Route AI coding-agent tasks to the right provider and model.

    Rules in the config (TOML) match task attributes (priority, labels,
    retry_count, hour, anything a plugin reads) and pick a provider and model;
    providers and condition types are plugins.
    """


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point.

    Run as the console script (``argv`` None), the process ends with
    :func:`_fast_exit`: the interpreter's own teardown of every module costs
    ~10 ms, more than a ``tacroute route`` decision takes.
    """
    if argv is not None:
        cli.main(args=argv, prog_name="tacroute")
        return
    sys.addaudithook(_note_writes)
    try:
        cli.main(args=sys.argv[1:], prog_name="tacroute")
    except SystemExit as exc:
        _fast_exit(exc)
        raise
