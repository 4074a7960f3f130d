"""``tacroute state``: where limits, cooldowns and fleet stats live, and whether that works now."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tacroute.cli._common import config_option, echo_json, get_config

if TYPE_CHECKING:
    from tacroute.config.model import Config
    from tacroute.state import StateStatus

__all__ = ["state", "state_line"]


def state_line(st: StateStatus) -> str:
    """One line about the state backend, for ``tacroute providers``."""
    kind = "shared" if st.shared else "this machine only"
    how = "degraded" if st.degraded else "ok"
    latency = f", {st.latency_ms:.2f} ms" if st.latency_ms is not None else ""
    note = f" ({st.message})" if st.message else ""
    return f"State: {how}: {st.backend} at {st.where} ({kind}{latency}){note}"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@config_option
def state(as_json: bool, config_path: Path | None) -> None:
    """The state backend: where it is, a round trip's latency, degraded or not, slots in use.

    Exit code 1 when the backend cannot be used now (degraded).
    """
    from tacroute.state import state_status

    config = get_config(config_path)
    st = state_status(config)
    if as_json:
        echo_json(st.as_dict())
    else:
        scope = "shared by every machine using it" if st.shared else "this machine only"
        click.echo(f"Backend: {st.backend} ({scope})")
        click.echo(f"Where: {st.where}")
        if st.degraded:
            click.secho(f"State: degraded: {st.message}", fg="red")
            click.echo("Routing uses this machine's own state until it is back.")
        else:
            click.echo("State: ok" + (f"  ({st.message})" if st.message else ""))
        if st.latency_ms is not None:
            click.echo(f"Latency: {st.latency_ms:.3f} ms")
        for provider, n in sorted(st.slots.items()):
            pc = config.providers.get(provider)
            most = f" of {pc.max_concurrent}" if pc is not None and pc.max_concurrent is not None else ""
            click.echo(f"  slots in use on {provider}: {n}{most}")
    if st.degraded:
        raise SystemExit(1)


def fleet_stats(config: Config, as_json: bool) -> list[tuple[Any, ...]]:
    """``tacroute stats --fleet``: prints the JSON object, or returns the table to print."""
    from tacroute.cli._table import cost_text as _cost
    from tacroute.cli._table import secs_text as _secs
    from tacroute.state import fleet_rows

    where, rows = fleet_rows(config)
    if as_json:
        echo_json({"state": where, "rows": [r.as_dict() for r in rows]})
        return []
    click.echo(f"Fleet: {where}")
    if not rows:
        click.echo("No attempts recorded yet.")
        return []
    table: list[tuple[Any, ...]] = [("PROVIDER/MODEL", "ATTEMPTS", "SUCCESS", "FAILURES", "P50", "P95",
                                     "IN", "OUT", "COST")]
    for r in rows:
        rated = r.attempts - r.cancelled
        rate = f"{r.successes / rated:.1%}" if rated > 0 else "-"
        fails = ",".join(f"{k}={v}" for k, v in sorted(r.failures.items())) or "-"
        table.append((f"{r.provider}/{r.model}", r.attempts, rate, fails, _secs(r.p50_duration_s),
                      _secs(r.p95_duration_s), r.input_tokens, r.output_tokens, _cost(r.cost_usd)))
    return table
