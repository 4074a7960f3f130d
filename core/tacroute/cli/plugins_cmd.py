"""``tacroute plugins``: what is installed, what each registered (with each
type's one-line description), what failed."""

from __future__ import annotations

import click

from tacroute.cli._common import echo_json

_TYPED = ("providers", "conditions", "output_parsers", "state_backends")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """Installed plugins, what each registered, and load errors."""
    from tacroute.cli._groups import add_plugin_commands
    from tacroute.plugins import get_registry

    registry = get_registry()
    root = ctx.find_root().command
    if isinstance(root, click.Group):
        add_plugin_commands(root)
    infos = sorted(registry.plugins.values(), key=lambda i: i.name)
    observes = {info.name: registry.observer_hooks(info.name) for info in infos}
    if as_json:
        echo_json([{**i.as_dict(), "observes": observes[i.name],
                    "descriptions": {kind: {n: registry.description(kind, n) for n in getattr(i, kind)}
                                     for kind in _TYPED}} for i in infos])
        return
    for info in infos:
        version = f" {info.version}" if info.version else ""
        dist = f" ({info.distribution}{version})" if info.distribution else ""
        state = " [disabled]" if info.disabled else ""
        click.echo(f"{info.name}{dist}{state}")
        for kind in _TYPED:
            items = getattr(info, kind)
            if items:
                click.echo(f"    {kind.replace('_', ' ')}:")
            for name in items:
                text = registry.description(kind, name)
                click.echo(f"      {name}" + (f": {text}" if text else ""))
        if info.commands:
            click.echo(f"    commands: {', '.join(info.commands)}")
        if observes[info.name]:
            click.echo(f"    observes: {', '.join(observes[info.name])}")
        if info.error:
            click.secho(f"    error: {info.error}", fg="red")
