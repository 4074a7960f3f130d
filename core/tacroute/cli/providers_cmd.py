"""``tacroute providers``: configured providers, available or not, and why.

``--check`` also asks each available provider's type for a live check (for
example OpenRouter's key endpoint: credits and rate limit); API keys are never
printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tacroute.cli._common import config_option, echo_json, get_config
from tacroute.providers import ProviderManager, ProviderStatus


def _live_check(manager: ProviderManager, status: ProviderStatus) -> dict[str, Any] | None:
    """The type's live check for one provider, or None when it has none."""
    if not status.available:
        return None
    ptype = manager.provider_type(status.name)
    if ptype is None:
        return None
    pc = manager.get_provider(status.name)
    try:
        found = ptype.check(pc, manager.env)
    except Exception as exc:  # noqa: BLE001 - a plugin bug is a failed check, not a crash
        return {"ok": False, "message": f"check failed: {type(exc).__name__}: {exc}"}
    if found is None:
        return None
    found.setdefault("ok", False)
    found.setdefault("message", "")
    return found


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--check", "live", is_flag=True,
              help="Also check each available provider for real (e.g. verify its API key); "
                   "exit 1 if a check fails.")
@config_option
def providers(as_json: bool, live: bool, config_path: Path | None) -> None:
    """Configured providers and whether each can run now (API keys are never printed)."""
    config = get_config(config_path)
    manager = ProviderManager(config)
    statuses = manager.statuses()
    checks = {s.name: _live_check(manager, s) for s in statuses} if live else {}
    failed = any(c is not None and not c["ok"] for c in checks.values())
    from tacroute.state import state_status

    st = state_status(config)
    if as_json:
        rows = []
        for s in statuses:
            row = s.as_dict()
            if live:
                row["check"] = checks.get(s.name)
            rows.append(row)
        echo_json({
            "config": str(config.path),
            "providers": rows,
            "default": {"provider": config.default_provider, "model": config.default_model},
            "state": st.as_dict(),
        })
    else:
        click.echo("Provider status:")
        for s in statuses:
            mark = click.style("✓", fg="green") if s.available else click.style("✗", fg="red")
            why = f"  ({s.reason})" if s.reason else ""
            click.echo(f"  {mark} {s.name:<20} type {s.type}{why}")
            check = checks.get(s.name)
            if check is not None:
                state = click.style("ok", fg="green") if check["ok"] else click.style("FAILED", fg="red")
                click.echo(f"      check: {state}  {check['message']}")
        click.echo("")
        click.echo("Available providers: " + (", ".join(s.name for s in statuses if s.available) or "(none)"))
        click.echo(f"Default: {config.default_provider} / {config.default_model}")
        from tacroute.cli.state_cmd import state_line

        click.echo(state_line(st))
    if failed:
        raise SystemExit(1)
