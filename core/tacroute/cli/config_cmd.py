"""``tacroute config path|validate|init``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from tacroute.cli._common import config_option, echo_json, get_config
from tacroute.config.discover import describe_source, find_config
from tacroute.errors import ConfigError, UsageError


@click.group()
def config() -> None:
    """Find, check and create the config file."""


@config.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def path(config_path: Path | None, as_json: bool) -> None:
    """Which config file is used, and how it was found."""
    found = find_config(config_path)
    how = describe_source(config_path)
    if as_json:
        echo_json({"path": str(found.resolve()), "source": how})
    else:
        click.echo(f"{found.resolve()}  (from {how})")


@config.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def validate(config_path: Path | None, as_json: bool) -> None:
    """Check the config: errors exit 2; warnings (never-matching or shadowed
    rules, a Claude template that sends the prompt file's path) are printed but pass."""
    from tacroute.config.lint import lint_config
    from tacroute.plugins import get_registry

    try:
        cfg = get_config(config_path)
        # The [runner] table is checked by the runner's own loader.
        from tacroute.runner.settings import load_runner_settings

        load_runner_settings(cfg)
    except ConfigError as exc:
        if as_json:
            echo_json({"valid": False, "errors": [i.format(exc.path) for i in exc.issues],
                       "warnings": []})
            raise click.exceptions.Exit(2) from None
        raise
    warnings = lint_config(cfg, get_registry())
    if as_json:
        echo_json({"valid": True, "path": str(cfg.path), "errors": [], "warnings": warnings})
        return
    for w in warnings:
        click.secho(f"warning: {w}", fg="yellow", err=True)
    click.echo(f"{cfg.path}: valid ({len(cfg.rules)} rules, {len(cfg.providers)} providers, "
               f"{len(warnings)} warnings)")


@config.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path), default="tacroute.toml")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(target: Path, force: bool) -> None:
    """Write a commented starter config (default: ./tacroute.toml)."""
    if target.exists() and not force:
        raise UsageError(f"{target} exists; pass --force to overwrite it")
    text = resources.files("tacroute.config").joinpath("starter.toml").read_text(encoding="utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}; check it with: tacroute config validate --config {target}")
