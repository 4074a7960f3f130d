"""``tacroute history`` (recent runs) and ``tacroute stats`` (figures per key)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tacroute.cli._common import config_option, echo_json, echo_json_stream, get_config
from tacroute.cli._table import cost_text as _cost
from tacroute.cli._table import print_table
from tacroute.cli._table import secs_text as _secs

if TYPE_CHECKING:
    from tacroute.history.settings import HistorySettings
    from tacroute.history.store import HistoryStore


def _open(config_path: Path | None) -> tuple[HistorySettings, HistoryStore | None]:
    from tacroute.history.settings import load_settings
    from tacroute.history.store import HistoryStore
    from tacroute.loading import optional_config

    settings = load_settings(optional_config(config_path))
    if not settings.path.exists():
        return settings, None
    return settings, HistoryStore(settings.path, policy=settings.cooldown)


def _since(text: str | None, now: float) -> float | None:
    from tacroute.history.since import parse_since

    return None if text is None else parse_since(text, now)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


_SINCE_HELP = "Only runs started since then: 90s, 30m, 12h, 7d, 2w or a date (default: all)."


@click.command()
@click.option("--since", "since_text", metavar="SPAN", help=_SINCE_HELP)
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="Newest runs to show (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@config_option
def history(since_text: str | None, limit: int, as_json: bool, config_path: Path | None) -> None:
    """Recent runs (newest first) and the cooldowns in force."""
    now = time.time()
    since = _since(since_text, now)
    settings, store = _open(config_path)
    cooldowns = store.cooldowns(now) if store else []
    # Streamed, newest first: memory stays flat over any number of runs (--limit 0).
    runs = store.iter_recent(limit or None, since) if store else iter(())
    if as_json:
        echo_json_stream({"history": str(settings.path), "enabled": settings.enabled, "since": since,
                          "runs": None,
                          "cooldowns": [{"provider": c.provider, "model": c.model, "until": c.until,
                                         "kind": c.kind, "reason": c.reason} for c in cooldowns]},
                         "runs", (r.as_dict() for r in runs))
        return
    click.echo(f"History: {settings.path}" + ("" if settings.enabled else "  (recording is off)"))
    if store is None:
        click.echo("No runs recorded yet.")
        return
    shown = 0
    for r in runs:
        shown += 1
        result = "ok" if r.success else f"FAILED ({r.error or 'unknown'})"
        u = r.usage
        click.echo(f"{_when(r.started_at)}  {r.provider}/{r.model}  [{r.rule or 'default'}]  {result}")
        click.echo(f"    {_secs(r.duration_ms / 1000)}, {r.attempts} attempt(s), tokens in {u.input_tokens} "
                   f"out {u.output_tokens} cache read {u.cache_read_tokens} cache write "
                   f"{u.cache_creation_tokens}, cost {_cost(r.cost_usd, r.cost_source)}"
                   f"{' (estimated)' if r.cost_source == 'estimated' else ''}  run {r.run_id}")
    if not shown:
        click.echo("No runs in that period.")
    for c in cooldowns:
        click.echo(f"cooldown: {c.provider}/{c.model} until {_when(c.until)}: {c.reason}")


@click.command()
@click.option("--by", type=click.Choice(["provider", "model", "rule", "label"]), default="provider",
              show_default=True, help="Group runs by this.")
@click.option("--since", "since_text", metavar="SPAN", help=_SINCE_HELP)
@click.option("--fleet", is_flag=True,
              help="Attempts of every machine sharing the [state] backend, per provider/model "
                   "(all time; --by and --since do not apply).")
@click.option("--attempts", "attempts", is_flag=True,
              help="Count every attempt (not runs) by provider, model and error class: a provider "
                   "that fails and never wins shows here.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@config_option
def stats(by: str, since_text: str | None, fleet: bool, attempts: bool, as_json: bool,
          config_path: Path | None) -> None:
    """Runs, success rate, median and p95 duration, tokens and cost per provider, model, rule or label."""
    if attempts and fleet:
        raise click.UsageError("--attempts and --fleet are two different views: choose one")
    if attempts:
        _attempt_stats(_since(since_text, time.time()), as_json, config_path)
        return
    if fleet:
        if since_text is not None:
            raise click.UsageError("--since does not apply to --fleet: the fleet aggregates are all time")
        from tacroute.cli.state_cmd import fleet_stats

        lines = fleet_stats(get_config(config_path), as_json)
        if lines:
            print_table(lines)
        return
    since = _since(since_text, time.time())
    settings, store = _open(config_path)
    rows = store.stats(by, since) if store else []
    if as_json:
        echo_json({"history": str(settings.path), "by": by, "since": since,
                   "rows": [r.as_dict() for r in rows]})
        return
    click.echo(f"History: {settings.path}" + (f"  (runs since {_when(since)})" if since is not None else ""))
    if not rows:
        click.echo("No runs recorded yet." if store is None else "No runs in that period.")
        return
    table: list[tuple[Any, ...]] = [(by.upper(), "RUNS", "SUCCESS", "MEDIAN", "P95", "IN", "OUT",
                                     "CACHE_R", "CACHE_W", "COST")]
    for r in rows:
        u = r.usage
        table.append((r.key, r.runs, f"{r.success_rate:.1%}", _secs(r.median_duration_s),
                      _secs(r.p95_duration_s), u.input_tokens, u.output_tokens, u.cache_read_tokens,
                      u.cache_creation_tokens, _cost(r.cost_usd, r.cost_source)))
    print_table(table)
    if any(r.cost_source in ("estimated", "mixed") for r in rows):
        click.echo("~: cost estimated by tacroute from the tokens (the provider reported none, "
                   "or its cost_source is \"estimated\")")


def _attempt_stats(since: float | None, as_json: bool, config_path: Path | None) -> None:
    settings, store = _open(config_path)
    counts = store.attempt_counts(since) if store else []
    if as_json:
        echo_json({"history": str(settings.path), "since": since,
                   "attempts": [{"provider": p, "model": m, "success": e is None, "error_class": e,
                                 "count": n} for p, m, e, n in counts]})
        return
    click.echo(f"History: {settings.path}"
               + (f"  (attempts since {_when(since)})" if since is not None else ""))
    if not counts:
        click.echo("No attempts recorded yet." if store is None else "No attempts in that period.")
        return
    table: list[tuple[Any, ...]] = [("PROVIDER", "MODEL", "OUTCOME", "ATTEMPTS")]
    table += [(p, m, e or "ok", n) for p, m, e, n in counts]
    print_table(table)
