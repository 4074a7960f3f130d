"""The ``tacroute`` command line: one click group, noun sub-commands.

Built-in commands are imported only when used, so ``tacroute route`` does not
pay for the others; plugin commands are added (and plugins loaded) only for
``--help`` or a command name that is not built in. A broken plugin command is
reported and skipped.
"""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Any, ClassVar

import click

from tacroute.cli._plain import PlainHelp
from tacroute.errors import ConfigError, TacrouteError, UsageError
from tacroute.fastexit import fast_exit as _fast_exit
from tacroute.fastexit import note_writes as _note_writes

__all__ = ["cli", "main"]

#: The cyclic collector's young-generation threshold in the console script (see :func:`main`).
_GC_THRESHOLD = 50_000

#: Built-in commands: name -> ("module:attr", the help line ``tacroute --help`` shows).
#: The help lines are kept here so listing the commands imports none of them
#: (tests check each line against its command's own help).
_BUILTIN: dict[str, tuple[str, str]] = {
    "config": ("tacroute.cli.config_cmd:config", "Find, check and create the config file."),
    "plugins": ("tacroute.cli.plugins_cmd:plugins",
                "Installed plugins, what each registered, and load errors."),
    "providers": ("tacroute.cli.providers_cmd:providers",
                  "Configured providers and whether each can run now (API keys are never printed)."),
    "route": ("tacroute.cli.route_cmd:route", "Which provider and model should do a task, and why."),
    "routing": ("tacroute.cli.route_cmd:routing",
                "The routing rules in priority order, and the seed's scenario tests."),
    "rules": ("tacroute.cli.rules_cmd:rules",
              "List and edit routing rules (comments and formatting are kept)."),
    # what-if commands
    "replay": ("tacroute.cli.replay_cmd:replay",
               "Route the recorded runs again with a config and compare the cost."),
    "simulate": ("tacroute.cli.simulate_cmd:simulate",
                 "Route every task of TASKS (JSON lines) and estimate the cost."),
    # the history layer
    "history": ("tacroute.cli.history_cmd:history",
                "Recent runs (newest first) and the cooldowns in force."),
    "stats": ("tacroute.cli.history_cmd:stats",
              "Runs, success rate, median and p95 duration, tokens and cost per provider, model, "
              "rule or label."),
    "state": ("tacroute.cli.state_cmd:state",
              "The state backend: where it is, a round trip's latency, degraded or not, slots in use."),
    # the runner
    "run": ("tacroute.cli.run_cmd:run",
            "Route the task in PROMPT_FILE, run it, and fail over until one candidate succeeds."),
    "batch": ("tacroute.cli.batch_cmd:batch",
              "Run every task of TASKS_FILE (JSON lines), up to N at once, results to a JSON-lines file."),
    # the price table (plugins add sub-commands, e.g. `refresh`)
    "pricing": ("tacroute.cli.pricing_cmd:pricing",  # a group: see _GROUPS
                "Model prices (USD per million tokens) used for cost estimates."),
    # per-project and per-user budgets (tacroute.preferences)
    "budgets": ("tacroute.cli.budgets_cmd:budgets",
                "Every budget of [projects] and [users]: period, spend, remaining, state and reset time."),
}

#: The built-in commands that are groups: plugins may add sub-commands to them
#: (:func:`tacroute.cli._groups.add_subcommand`) before they are imported.
_GROUPS = frozenset({"config", "pricing", "rules"})


class TacrouteGroup(PlainHelp, click.Group):
    """A group whose built-in commands load lazily and whose plugins add more (and whose
    ``--help`` option is built without click's ``gettext``: :mod:`tacroute.cli._plain`)."""

    builtin: ClassVar[dict[str, str]] = {}
    #: Each built-in command's help line, for ``--help`` (see ``_BUILTIN``).
    builtin_help: ClassVar[dict[str, str]] = {}
    builtin_groups: ClassVar[frozenset[str]] = _GROUPS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Plugins' sub-commands for built-in groups not imported yet: group -> name -> command.
        self._deferred: dict[str, dict[str, click.Command]] = {}
        self._imported: set[str] = set()

    def defer_subcommand(self, group_name: str, command: click.Command) -> bool:
        """Keep ``command`` for the built-in group ``group_name`` until that group is
        imported; False when the group is imported already (or is no built-in group)."""
        if group_name not in self.builtin_groups or group_name in self._imported:
            return False
        self._deferred.setdefault(group_name, {})[command.name or ""] = command
        return True

    def undefer_subcommand(self, group_name: str, name: str) -> None:
        """Take back a kept sub-command (its plugin failed later)."""
        self._deferred.get(group_name, {}).pop(name, None)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return sorted(set(self.builtin) | set(self.commands))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, built-in commands from their help lines (none is imported),
        plugins' from the cache of their listing (:mod:`tacroute.plugins.commandcache`)."""
        from tacroute.plugins.commandcache import plugin_commands

        extra = plugin_commands(self, set(self.builtin), self._add_plugin_commands)
        names = sorted(set(self.builtin) | set(extra))
        rows: list[tuple[str, str]] = []
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)
        for name in names:
            text = self.builtin_help.get(name)
            if name in extra:
                text, short, hidden, deprecated = extra[name]
                if not hidden:
                    cmd = click.Command(name, help=text, short_help=short, deprecated=deprecated)
                    rows.append((name, cmd.get_short_help_str(limit)))
            elif text is not None:
                rows.append((name, click.Command(name, help=text).get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def builtin_command(self, cmd_name: str) -> click.Command | None:
        """A built-in command, imported on first use (None if not built in)."""
        target = self.builtin.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        cmd: click.Command = getattr(importlib.import_module(module), attr)
        if cmd_name not in self._imported:
            self._imported.add(cmd_name)
            if isinstance(cmd, click.Group):
                for sub in self._deferred.pop(cmd_name, {}).values():
                    cmd.add_command(sub)
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


for _name, (_target, _help) in _BUILTIN.items():
    TacrouteGroup.builtin[_name] = _target
    TacrouteGroup.builtin_help[_name] = _help


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
    # Starting (importing ~100 modules, loading the plugins) allocates many objects
    # that all live on, and the cyclic collector's young generation ran ~every 700
    # of them for nothing: ~4 ms of a ~60 ms `tacroute route`. Collecting every
    # 50,000 still bounds what a long `run` or `ui` process leaves uncollected.
    gc.set_threshold(_GC_THRESHOLD, *gc.get_threshold()[1:])
    sys.addaudithook(_note_writes)
    try:
        cli.main(args=sys.argv[1:], prog_name="tacroute")
    except SystemExit as exc:
        _fast_exit(exc)
        raise
