"""Built-in command groups that plugins can extend.

A built-in group (``tacroute pricing``) is imported lazily, so a plugin cannot
decorate it at import time. Instead the plugin's ``register_commands(cli)``
hook calls :func:`add_subcommand` (``add_subcommand(cli, "pricing", refresh)``),
and the group itself, a :class:`PluginGroup`, asks the plugins for their
commands the first time it is asked for a sub-command it does not know (or
for its full list, as ``--help`` does).
"""

from __future__ import annotations

from typing import Any

import click

from tacroute.errors import PluginError

__all__ = ["LOG", "PluginGroup", "SubcommandLog", "add_plugin_commands", "add_subcommand"]

#: Sub-commands :func:`add_subcommand` added, in order: (group name, command name, how to take it back).
_ADDED: list[tuple[str, str, Any]] = []


def add_plugin_commands(cli: click.Group) -> None:
    """Ask the plugins for their commands (once per registry); the registry
    credits each plugin with what it added, built-in groups' sub-commands included."""
    from tacroute.plugins import get_registry

    get_registry().add_commands(cli, LOG)


class PluginGroup(click.Group):
    """A click group whose missing sub-commands may come from plugins."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is None:
            _load_plugin_commands(ctx)
            cmd = super().get_command(ctx, cmd_name)
        return cmd

    def list_commands(self, ctx: click.Context) -> list[str]:
        _load_plugin_commands(ctx)
        return super().list_commands(ctx)


def _load_plugin_commands(ctx: click.Context) -> None:
    """Plugin commands for the whole command line (the root group of ``ctx``)."""
    root = ctx.find_root().command
    if isinstance(root, click.Group):
        add_plugin_commands(root)


def add_subcommand(cli: click.Group, group_name: str, command: click.Command) -> None:
    """Add ``command`` to the built-in group ``group_name`` of ``cli``.

    For plugins, from their ``register_commands`` hook. Raises
    :class:`tacroute.errors.PluginError` when there is no such group (the
    registry reports it and skips the plugin's commands).
    """
    name = command.name or ""
    defer: Any = getattr(cli, "defer_subcommand", None)
    if defer is not None and defer(group_name, command):  # added when the group is first imported
        _ADDED.append((group_name, name, lambda: cli.undefer_subcommand(group_name, name)))  # type: ignore[attr-defined]
        return
    getter: Any = getattr(cli, "builtin_command", None)
    group = getter(group_name) if getter is not None else cli.commands.get(group_name)
    if not isinstance(group, click.Group):
        raise PluginError(f"there is no built-in command group {group_name!r} to add "
                          f"{command.name!r} to")
    group.add_command(command)
    _ADDED.append((group_name, name, lambda: group.commands.pop(name, None)))


class SubcommandLog:
    """The record of :func:`add_subcommand`, as the registry reads it
    (:class:`tacroute.plugins.info.CommandLog`)."""

    def mark(self) -> int:
        """The current length of the record."""
        return len(_ADDED)

    def added_since(self, mark: int) -> list[str]:
        """``"group sub"`` names added after ``mark``."""
        return [f"{group} {name}" for group, name, _ in _ADDED[mark:]]

    def remove_added(self, mark: int) -> None:
        """Take back the sub-commands added after ``mark`` (their plugin failed)."""
        for _, _, undo in _ADDED[mark:]:
            undo()
        del _ADDED[mark:]


LOG = SubcommandLog()
