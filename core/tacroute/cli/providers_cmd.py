"""``tacroute providers``: configured providers, available or not, and why."""

from __future__ import annotations

from pathlib import Path

import click

from tacroute.cli._common import config_option, echo_json, get_config
from tacroute.providers import ProviderManager


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@config_option
def providers(as_json: bool, config_path: Path | None) -> None:
    """Configured providers and whether each can run now (API keys are never printed)."""
    config = get_config(config_path)
    manager = ProviderManager(config)
    statuses = manager.statuses()
    if as_json:
        echo_json({
            "config": str(config.path),
            "providers": [s.as_dict() for s in statuses],
            "default": {"provider": config.default_provider, "model": config.default_model},
        })
        return
    click.echo("Provider status:")
    for s in statuses:
        mark = click.style("✓", fg="green") if s.available else click.style("✗", fg="red")
        why = f"  ({s.reason})" if s.reason else ""
        click.echo(f"  {mark} {s.name:<20} type {s.type}{why}")
    click.echo("")
    click.echo("Available providers: " + (", ".join(s.name for s in statuses if s.available) or "(none)"))
    click.echo(f"Default: {config.default_provider} / {config.default_model}")
