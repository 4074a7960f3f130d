"""``tacroute simulate``: what a rule set would cost on a file of tasks."""

from __future__ import annotations

from pathlib import Path

import click

from tacroute.cli._common import config_option, echo_json, get_config


@click.command()
@click.argument("tasks", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--compare", "compare_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A second config: which tasks it routes differently and what that costs.")
@click.option("--baseline", metavar="PROVIDER/MODEL", default=None,
              help="What savings are measured against: every task sent here "
                   "(default: the config's default provider/model).")
@click.option("--input-tokens", type=click.IntRange(min=0), default=None,
              help="Input tokens of a task that gives none (default: [estimate] or 50000).")
@click.option("--output-tokens", type=click.IntRange(min=0), default=None,
              help="Output tokens of a task that gives none (default: [estimate] or 5000).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes for big files (default: one per core).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed for the draws of weighted rules.")
@click.option("--show-changes", type=click.IntRange(min=0), default=10, show_default=True,
              help="With --compare: list up to this many line numbers of changed tasks.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@config_option
def simulate(tasks: Path, compare_path: Path | None, baseline: str | None, input_tokens: int | None,
             output_tokens: int | None, workers: int | None, seed: int, show_changes: int,
             as_json: bool, config_path: Path | None) -> None:
    """Route every task of TASKS (JSON lines) and estimate the cost.

    Each line is a JSON object of task attributes (priority, labels,
    retry_count, hour, any custom attribute) and optionally input_tokens and
    output_tokens. Prints tasks per rule ("(default)" for tasks no rule
    matched), the share and cost per provider/model, the cost of sending every
    task to the baseline, and the savings.
    """
    from tacroute.pricing import estimate_usage
    from tacroute.whatif.simulate import simulate as run
    from tacroute.whatif.tally import render

    config = get_config(config_path)
    compare = get_config(compare_path) if compare_path is not None else None
    defaults = estimate_usage(config.raw)
    if input_tokens is not None:
        defaults = defaults._replace(input_tokens=input_tokens)
    if output_tokens is not None:
        defaults = defaults._replace(output_tokens=output_tokens)
    report = run(config, tasks, compare=compare, baseline=baseline, defaults=defaults, workers=workers,
                 seed=seed, sample_cap=show_changes)
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(render(report, f"Simulated {report.side.tasks:,} tasks from {tasks} with {config.path}"))
