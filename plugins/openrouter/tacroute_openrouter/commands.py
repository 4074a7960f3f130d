"""The plugin's CLI commands: ``tacroute openrouter`` and ``tacroute pricing refresh``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from tacroute.errors import ProviderError

__all__ = ["openrouter", "refresh"]


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                 "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def openrouter(args: tuple[str, ...]) -> None:
    """Run the tacroute-openrouter wrapper (same flags; --help for them)."""
    from tacroute_openrouter.wrapper import run

    code = run(list(args), prog="tacroute openrouter")
    if code:
        raise SystemExit(code)


@click.command()
@click.option("--base-url", default=None,
              help="API base URL (default: $OPENROUTER_BASE_URL or OpenRouter's).")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait.")
def refresh(base_url: str | None, timeout: float) -> None:
    """Fetch every model's price from OpenRouter's /models into the pricing cache."""
    from tacroute.pricing import cache_path
    from tacroute_openrouter.api import ApiError, fetch_prices, write_cache
    from tacroute_openrouter.options import base_url_for

    url = base_url or base_url_for(None, os.environ)
    try:
        prices = fetch_prices(url, timeout=timeout)
    except ApiError as exc:
        raise ProviderError(f"pricing refresh failed: {exc}") from None
    if not prices:
        raise ProviderError(f"pricing refresh failed: {url}/models listed no priced model; "
                            "the cache was left as it was")
    path: Path = cache_path()
    try:
        write_cache(path, prices)
    except OSError as exc:
        raise ProviderError(f"cannot write the pricing cache {path}: {exc}") from None
    click.echo(f"{len(prices)} model prices written to {path}")
