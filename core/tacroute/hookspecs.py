"""The hooks a tacroute plugin can implement.

A plugin is a module (or object) registered under the ``tacroute`` entry-point
group. It implements any of the hooks below, marked with
``from tacroute import hookimpl``; a misspelled hook name is reported when the
plugins load. Every hook is called through pluggy, so ``tryfirst=True`` and
``trylast=True`` order the implementations and ``wrapper=True`` (or the older
``hookwrapper=True``) implementations wrap the others, all as pluggy documents.

Each plugin is isolated: an exception in one of its implementations is
reported on stderr (with the plugin's name) and the other plugins still run;
``TACROUTE_STRICT_PLUGINS=1`` raises it instead. A plugin whose register hook
raises is skipped entirely (what it registered is taken back). A wrapper that
raises before its ``yield`` is skipped and the others still run; one that
raises after it leaves the result as it was.

Registration hooks receive a typed ``register`` callable
(:data:`tacroute.RegisterProvider`, :data:`tacroute.RegisterCondition`,
:data:`tacroute.RegisterOutputParser`, :data:`tacroute.RegisterConfigSection`)
taking one object with a ``name``; the
core owns duplicate names and records which plugin registered what. Observer
hooks are called after the fact, receive the run's
:class:`tacroute.RunContext` as ``ctx``, and their return value is ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from tacroute.config.schema import RegisterConfigSection
    from tacroute.context import RunContext
    from tacroute.state.api import RegisterStateBackend
    from tacroute.types import (
        AttemptRecord,
        Decision,
        RegisterCondition,
        RegisterOutputParser,
        RegisterProvider,
        RunResult,
        Task,
    )

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "tacroute"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_providers(register: RegisterProvider) -> None:
    """Register provider types.

    Called once per process, when the plugins load (lazily, the first time
    tacroute needs its registry).

    :param register: call it with an instance of a
        :class:`tacroute.ProviderType` subclass, once per type. A ``name``
        another plugin already registered raises an error naming both plugins.

    The return value is ignored.

    .. versionadded:: 0.1
    """


@hookspec
def register_conditions(register: RegisterCondition) -> None:
    """Register rule condition types.

    Called once per process, when the plugins load. The condition's
    ``compile`` runs when a config loads, never during a routing decision.

    :param register: call it with an instance of a
        :class:`tacroute.ConditionType` subclass; its ``name`` is the key
        users write in a rule's ``conditions`` table.

    The return value is ignored.

    .. versionadded:: 0.1
    """


@hookspec
def register_output_parsers(register: RegisterOutputParser) -> None:
    """Register output parser types.

    Called once per process, when the plugins load. Provider types name the
    parser they need in ``ProviderType.output_parser``.

    :param register: call it with an instance of a
        :class:`tacroute.types.OutputParserType` subclass; its ``create()``
        returns a fresh :class:`tacroute.OutputParser` for each attempt.

    The return value is ignored.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2
        ``register(parser_type)`` like the other register hooks, instead of
        ``register(name, factory)``.
    """


@hookspec
def register_config_sections(register: RegisterConfigSection) -> None:
    """Register the top-level config tables the plugin owns.

    Called once per process, when the plugins load. Every registered section
    is checked when a config loads, in the same pass as the core's tables, so
    its problems come out like the core's (``file:line: key.path: message``,
    ``tacroute config validate`` exits 2), and its table is no longer warned
    about as unknown.

    :param register: call it with a :class:`tacroute.ConfigSection`: its
        ``name`` is the table (``"myplugin"`` for ``[myplugin]``), its
        ``check(value, checker, ctx)`` reports problems on the
        :class:`tacroute.config.checker.Checker` and returns the typed value
        the loaded config then carries (``config.section("myplugin")``), its
        ``default(ctx)`` gives the value when the table is absent. A name the
        core or another plugin owns raises an error naming the owner.

    The return value is ignored.

    .. versionadded:: 0.2
    """


@hookspec
def register_state_backends(register: RegisterStateBackend) -> None:
    """Register kinds of shared state backend (where cooldowns, slots, rpm, spend and the
    fleet aggregates live when several machines share them).

    Called once per process, when the plugins load. ``[state] backend = "NAME"``
    picks one; the core never names a backend other than its embedded ``sqlite``.

    :param register: call it with an instance of a
        :class:`tacroute.state.StateBackendType` subclass: its ``name``, the extra
        ``[state]`` keys it reads (``keys``), its ``check`` of them, and ``open``,
        which returns a :class:`tacroute.state.StateBackend` (raising
        :class:`tacroute.state.StateUnavailable` from a call when it cannot answer).

    The return value is ignored.

    .. versionadded:: 0.2
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``tacroute`` CLI.

    Called when the CLI needs its full command list (``--help``,
    ``tacroute plugins``, or a command name that is not built in). If it
    raises, the plugin is skipped and the commands it added are taken back.

    :param cli: the root group: add commands with ``cli.add_command(...)`` or
        the ``@cli.command()`` decorator, and sub-commands of a built-in group
        with :func:`tacroute.cli._groups.add_subcommand`.

    The return value is ignored.

    .. versionadded:: 0.1
    """


@hookspec
def observe_decision(ctx: RunContext, decision: Decision, task: Task) -> None:
    """A routing decision was made for a run.

    Called by :func:`tacroute.run_task` before the first attempt, also when
    no candidate is available (the run then raises
    :class:`tacroute.NoAvailableProviderError`). Plain ``ModelRouter.route``
    calls stay hook-free for speed.

    :param ctx: the run: its config, ``run_id``, task and decision, and a
        ``state`` mapping kept for the run's later hooks.
    :param decision: ``ctx.decision`` (the name implementations used before 0.2).
    :param task: ``ctx.task``.

    The return value is ignored.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 ``ctx``.
    """


@hookspec
def observe_attempt_start(ctx: RunContext, attempt: int, provider: str, model: str,
                          run_id: str, task: Task) -> None:
    """One attempt is about to start (its command is about to be spawned).

    Called by the runner right before each attempt, in the process that runs
    it, and always followed by ``observe_attempt`` for the same attempt, even
    when the spawn fails. Lets a tracking plugin count attempts in flight
    (``max_concurrent``) and attempts started per minute (``rpm``).

    :param ctx: the run.
    :param attempt: the attempt's number (1 for the first), as in its record.
    :param provider: the configured provider name it uses.
    :param model: the model it asks for.
    :param run_id: ``ctx.run_id``.
    :param task: ``ctx.task``.

    The return value is ignored.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 ``ctx``.
    """


@hookspec
def observe_attempt(ctx: RunContext, record: AttemptRecord) -> None:
    """One attempt (one provider/model try) finished, successfully or not.

    Called by the runner right after each attempt, in the process that ran it.

    :param ctx: the run.
    :param record: what happened: outcome, error class, usage, cost, timing.

    The return value is ignored.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 ``ctx``.
    """


@hookspec
def observe_run(ctx: RunContext, result: RunResult) -> None:
    """A whole run finished: every attempt, and whether any succeeded.

    Called once per run that made a decision with an available candidate,
    also when the run was stopped or made no attempt; the last hook of a run.

    :param ctx: the run.
    :param result: its result, as :func:`tacroute.run_task` returns it.

    The return value is ignored.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 ``ctx``.
    """
