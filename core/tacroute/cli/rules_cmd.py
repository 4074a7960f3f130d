"""``tacroute rules list|add|remove|enable|disable``: edit rules, keep the file's formatting."""

from __future__ import annotations

from pathlib import Path

import click

from tacroute.cli._common import config_option, echo_json, get_config
from tacroute.config.discover import find_config
from tacroute.config.edit import add_rule, remove_rule, set_rule_enabled
from tacroute.keyvalue import parse_condition


@click.group()
def rules() -> None:
    """List and edit routing rules (comments and formatting are kept)."""


@rules.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_rules(config_path: Path | None, as_json: bool) -> None:
    """Rules in priority order (ties keep file order)."""
    cfg = get_config(config_path)
    ordered = cfg.rules_by_priority()
    if as_json:
        echo_json([{"name": r.name, "priority": r.priority, "enabled": r.enabled,
                    "conditions": dict(r.conditions), "provider": r.provider, "model": r.model}
                   for r in ordered])
        return
    for r in ordered:
        off = "  (disabled)" if not r.enabled else ""
        click.echo(f"[{r.priority:>3}] {r.name:<28} {r.provider}/{r.model}  {dict(r.conditions)}{off}")


@rules.command()
@click.argument("name")
@click.option("--priority", type=int, required=True, help="100 = highest.")
@click.option("--model", required=True, help="The model the rule routes to (required).")
@click.option("--provider", default=None, help="Provider (default: routing.default_provider).")
@click.option("--when", "conditions", multiple=True, metavar="NAME=VALUE",
              help="A condition, VALUE in TOML: --when priority=critical --when 'retry_count={gte=1}'.")
@click.option("--disabled", is_flag=True, help="Add the rule switched off.")
@config_option
def add(name: str, priority: int, model: str, provider: str | None,
        conditions: tuple[str, ...], disabled: bool, config_path: Path | None) -> None:
    """Add a rule at the end of the file."""
    path = find_config(config_path)
    conds = dict(parse_condition(c) for c in conditions)
    add_rule(path, name, priority=priority, model=model, provider=provider, conditions=conds,
             enabled=not disabled)
    click.echo(f"added rule {name!r} to {path}")


@rules.command()
@click.argument("name")
@config_option
def remove(name: str, config_path: Path | None) -> None:
    """Remove a rule."""
    path = find_config(config_path)
    remove_rule(path, name)
    click.echo(f"removed rule {name!r} from {path}")


@rules.command()
@click.argument("name")
@config_option
def enable(name: str, config_path: Path | None) -> None:
    """Switch a rule on."""
    path = find_config(config_path)
    changed = set_rule_enabled(path, name, True)
    click.echo(f"rule {name!r} {'enabled' if changed else 'was already enabled'} in {path}")


@rules.command()
@click.argument("name")
@config_option
def disable(name: str, config_path: Path | None) -> None:
    """Switch a rule off (enabled = false)."""
    path = find_config(config_path)
    changed = set_rule_enabled(path, name, False)
    click.echo(f"rule {name!r} {'disabled' if changed else 'was already disabled'} in {path}")
