"""``tacroute budgets``: every budget, its spend this period and its state."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tacroute.cli._common import config_option, echo_json, get_config

if TYPE_CHECKING:
    from pathlib import Path


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@config_option
def budgets(as_json: bool, config_path: Path | None) -> None:
    """Every budget of [projects] and [users]: period, spend, remaining, state and reset time."""
    from tacroute.preferences.budgetcheck import fmt_usd
    from tacroute.preferences.budgets import budget_states

    config = get_config(config_path)
    states = budget_states(config)
    if as_json:
        echo_json({"config": str(config.path), "budgets": [s.as_dict() for s in states]})
        return
    if not states:
        click.echo("No budgets: add budget = { monthly_usd = ... } to a [projects.\"NAME\"] or "
                   "[users.NAME] table.")
        return
    for s in states:
        who = f"{s.kind} {s.name}" + (f" ({s.entry})" if s.entry != s.name else "") \
            + (" [shared]" if s.shared else "")
        click.echo(f"{who:<36} {s.period:<6} {fmt_usd(s.spent_usd):>10} of {fmt_usd(s.limit_usd):>10}  "
                   f"left {fmt_usd(s.remaining_usd):>10}  {s.state:<10} resets {s.resets_at}")
