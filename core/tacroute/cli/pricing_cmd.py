"""``tacroute pricing [MODEL] [--json]``: the price table used for estimates.

The table merges built-in defaults, the cache file that a pricing source
refreshes (``tacroute pricing refresh`` comes from the OpenRouter plugin) and
``[pricing."MODEL"]`` overrides in the config. Prices are US dollars per
million tokens. Plugins add sub-commands with
:func:`tacroute.cli._groups.add_subcommand`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tacroute.cli._common import config_option, echo_json
from tacroute.cli._groups import PluginGroup
from tacroute.errors import ConfigError, UsageError


class _PricingGroup(PluginGroup):
    """``tacroute pricing [MODEL]`` means ``tacroute pricing show [MODEL]``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        first = args[0] if args else None
        if first not in ("-h", "--help") and (first is None or self.get_command(ctx, first) is None):
            args = ["show", *args]
        return super().parse_args(ctx, args)


def _config_raw(config_path: Path | None) -> tuple[dict[str, Any] | None, str | None]:
    """The config's TOML (for ``[pricing]``) and its path; none found is fine without --config."""
    from tacroute.loading import optional_config

    config = optional_config(config_path)
    if config is None:
        return None, None  # no config anywhere: built-ins and cache only
    return dict(config.raw), str(config.path)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


@click.group(cls=_PricingGroup)
def pricing() -> None:
    """Model prices (USD per million tokens) used for cost estimates.

    With no sub-command, or with a MODEL, shows the table (see ``show``).
    """


@pricing.command()
@click.argument("model", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@config_option
def show(model: str | None, as_json: bool, config_path: Path | None) -> None:
    """Show the merged price table, or the price used for MODEL."""
    raw, used = _config_raw(config_path)
    from tacroute.pricing import PricingTable, cache_path  # not at import: `--help` imports no command

    try:
        table = PricingTable.load(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[pricing] has a price that is not a number: {exc}", used) from exc
    sources = {"cache": str(cache_path()), "config": used}
    if model is not None:
        price = table.get(model)
        if price is None:
            raise UsageError(f"no price known for model {model!r}; run `tacroute pricing refresh` "
                             f"or add [pricing.\"{model}\"] with input and output to the config")
        if as_json:
            echo_json({"model": model, **price.as_dict(), "sources": sources})
        else:
            click.echo(f"{model}: input {_fmt(price.input)}, output {_fmt(price.output)}, "
                       f"cache read {_fmt(price.cache_read)}, cache write {_fmt(price.cache_write)} "
                       f"USD per million tokens (from {price.source})")
        return
    rows = dict(sorted(table.prices.items()))
    if as_json:
        click.echo(json.dumps({"models": {k: v.as_dict() for k, v in rows.items()}, "sources": sources},
                              indent=2))
        return
    width = max((len(k) for k in rows), default=5)
    click.echo(f"{'model':<{width}}  {'input':>9}  {'output':>9}  {'c.read':>9}  {'c.write':>9}  source")
    for name, p in rows.items():
        click.echo(f"{name:<{width}}  {_fmt(p.input):>9}  {_fmt(p.output):>9}  "
                   f"{_fmt(p.cache_read):>9}  {_fmt(p.cache_write):>9}  {p.source}")
    click.echo(f"(USD per million tokens; cache file {sources['cache']}"
               + (f"; config {used})" if used else "; no config)"))
