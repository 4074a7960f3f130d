"""``tacroute replay``: what a config would have cost on the recorded history."""

from __future__ import annotations

from pathlib import Path

import click

from tacroute.cli._common import config_option, echo_json, get_config
from tacroute.errors import UsageError


@click.command()
@click.option("--since", default="30d", show_default=True,
              help="How far back: 30d, 12h, 2w, ... or an ISO date.")
@click.option("--history", "history_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="History database (default: [history] path of the config, or $TACROUTE_HISTORY).")
@click.option("--baseline", metavar="PROVIDER/MODEL", default=None,
              help="Every run sent here, for comparison (default: the config's default).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for weighted rules.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@config_option
def replay(since: str, history_file: Path | None, baseline: str | None, seed: int, as_json: bool,
           config_path: Path | None) -> None:
    """Route the recorded runs again with a config and compare the cost.

    Each run keeps its recorded tokens; they are priced at the model the config
    (--config, e.g. a candidate rule set) would pick, next to what the runs
    really cost.
    """
    import time

    from tacroute.history import history_path
    from tacroute.history.since import parse_since
    from tacroute.history.store import HistoryStore
    from tacroute.whatif.replay import render_replay
    from tacroute.whatif.replay import replay as run

    config = get_config(config_path)
    start = parse_since(since, time.time())
    path = history_file if history_file is not None else history_path(config)
    if not Path(path).exists():
        raise UsageError(f"no history recorded yet: {path} does not exist")
    with HistoryStore(path) as store:
        report = run(store.runs(since=start), config, source=str(path), baseline=baseline, seed=seed)
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(render_replay(report))
