"""``tacroute ui``: a local web app over the rules, what-if, providers and history.

The plugin only adds the command; the web stack (Starlette, uvicorn, Jinja2)
is imported when the command runs, so ``tacroute route`` never loads it.
"""

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
