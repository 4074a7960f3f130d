"""The ``ui`` plugin: adds ``tacroute ui`` (registered under the ``tacroute`` entry points)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tacroute import hookimpl

if TYPE_CHECKING:
    import click

__all__ = ["register_commands"]


@hookimpl
def register_commands(cli: click.Group) -> None:
    from tacroute_ui.cli import ui

    cli.add_command(ui)
