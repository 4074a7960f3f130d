"""click pieces built without click's run-time ``gettext``.

click marks its own texts for translation and looks each one up when it is used: the
``--help`` option every command builds (``"Show this message and exit."``) and the name
``click.Path`` gives its values (``"file"``). Each look-up searches for message catalogs,
and the first imports ``locale``: ~1 ms of a ~55 ms ``tacroute route`` that prints no help
at all. click ships no translations, so these classes build the same objects with the
English texts: help screens are byte for byte what click prints (tests compare them).
Error messages (a ``--config`` naming a folder) still come from click itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

__all__ = ["HELP_TEXT", "ConfigFile", "PlainHelp", "TacrouteCommand"]

#: click's text for the help option.
HELP_TEXT = "Show this message and exit."
#: Where click (8.5+) stores the help option's value, clear of a parameter named ``help``.
_HELP_STORAGE = "_click_default_help"


def _show_help(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """click's own help callback: the help page on stdout, then exit."""
    if value and not ctx.resilient_parsing:
        click.echo(ctx.get_help(), color=ctx.color)
        ctx.exit()


class PlainHelp(click.Command):
    """A command whose ``--help`` option is click's, built with the text above."""

    _plain_help: click.Option | None = None

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        names = self.get_help_option_names(ctx)
        if not names or not self.add_help_option:
            return None
        if self._plain_help is None:  # one object per command: click orders eager options by identity
            self._plain_help = click.Option([*names, _HELP_STORAGE], is_flag=True, expose_value=False,
                                            is_eager=True, help=HELP_TEXT, callback=_show_help)
        return self._plain_help


class TacrouteCommand(PlainHelp):
    """The class of tacroute's commands on the quick path (``@click.command(cls=...)``)."""


class ConfigFile(click.Path):  # type: ignore[type-arg,unused-ignore]
    """``click.Path(dir_okay=False, path_type=pathlib.Path)`` with the name ``"file"`` given, not
    looked up (a test compares every attribute with click's own)."""

    def __init__(self) -> None:  # no super().__init__(): that is the look-up
        self.exists = False
        self.file_okay = True
        self.dir_okay = False
        self.readable = True
        self.writable = False
        self.executable = False
        self.resolve_path = False
        self.allow_dash = False
        self.type: Any = Path
        self.name = "file"
