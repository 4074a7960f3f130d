"""The hooks a tacroute plugin can implement.

A plugin is a module (or object) registered under the ``tacroute`` entry-point
group. It implements any of the hooks below, marked with
``from tacroute import hookimpl``. Registration hooks receive a typed
``register`` callable and return None; the core owns duplicate names and
records which plugin registered what. Observer hooks are called after the fact
and must not raise (an exception is reported and ignored).

All hooks exist since tacroute 0.1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from tacroute.types import (
        AttemptRecord,
        ConditionType,
        Decision,
        OutputParserFactory,
        ProviderType,
        RunResult,
        Task,
    )

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "tacroute"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_providers(register: Callable[[ProviderType], None]) -> None:
    """Register provider types.

    Called once per process, when plugins are loaded (lazily, the first time
    tacroute needs its registry). Call ``register(instance)`` with a
    :class:`tacroute.types.ProviderType` subclass instance for each type. A
    ``name`` another plugin already registered is an error naming both plugins.
    """


@hookspec
def register_conditions(register: Callable[[ConditionType], None]) -> None:
    """Register rule condition types.

    Called once per process, when plugins are loaded. Call ``register(instance)``
    with a :class:`tacroute.types.ConditionType` instance; its ``name`` is the
    key users write in a rule's ``conditions`` table. The condition's
    ``compile`` runs when a config loads, never during a routing decision.
    """


@hookspec
def register_output_parsers(register: Callable[[str, OutputParserFactory], None]) -> None:
    """Register output parsers by name.

    Called once per process, when plugins are loaded. Call
    ``register(name, factory)``: ``factory()`` returns a fresh
    :class:`tacroute.types.OutputParser` for each attempt. Provider types name
    the parser they need in ``ProviderType.output_parser``.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``tacroute`` CLI.

    Called when the CLI needs its full command list (``--help``, or a command
    name that is not built in). Add commands with ``cli.add_command(...)`` or
    the ``@cli.command()`` decorator. An exception is reported and the plugin's
    commands are skipped; the rest of the CLI keeps working.
    """


@hookspec
def observe_decision(decision: Decision, task: Task) -> None:
    """A routing decision was made for ``task`` by the runner.

    Called by :func:`tacroute.run_task` before the first attempt (plain
    ``ModelRouter.route`` calls stay hook-free for speed). For tracking
    plugins; the return value is ignored.
    """


@hookspec
def observe_attempt_start(run_id: str, attempt: int, task: Task, provider: str, model: str) -> None:
    """One attempt is about to start (its command is about to be spawned).

    Called by the runner right before each attempt, in the process that runs
    it, and always followed by ``observe_attempt`` with the same ``run_id`` and
    ``attempt`` (the record's numbering), even when the spawn fails. Lets a
    tracking plugin count attempts in flight (``max_concurrent``) and attempts
    started per minute (``rpm``). Since tacroute 0.1.
    """


@hookspec
def observe_attempt(record: AttemptRecord) -> None:
    """One attempt (one provider/model try) finished, successfully or not.

    Called by the runner right after each attempt, in the process that ran it.
    """


@hookspec
def observe_run(result: RunResult) -> None:
    """A whole run finished: every attempt, and whether any succeeded."""
