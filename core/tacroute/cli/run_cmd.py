"""``tacroute run PROMPT_FILE``: route a task, run it, fail over, report what happened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tacroute.cli._common import config_option, echo_json, get_config, task_from_options, task_options
from tacroute.runner.signals import StopSignals
from tacroute.types import RunResult

__all__ = ["run"]


def _check_timeout(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    from tacroute.config.bounds import seconds_problem

    problem = None if value is None else seconds_problem(value, zero_ok=False)
    if problem:
        raise click.BadParameter(problem)
    return value


def _check_wait(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    from tacroute.config.bounds import seconds_problem

    problem = None if value is None else seconds_problem(value, zero_ok=True)
    if problem:
        raise click.BadParameter(problem)
    return value


@click.command()
@click.argument("prompt_file", type=click.Path(dir_okay=False, path_type=Path))
@task_options
@click.option("--output-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The winning attempt's raw output (each attempt's own: NAME.attempt-N.SUFFIX beside it).")
@click.option("--timeout", type=float, default=None, callback=_check_timeout,
              help="Seconds each attempt may take (overrides the providers' timeout).")
@click.option("--wait", "wait", type=float, default=None, metavar="SECONDS", callback=_check_wait,
              help="Wait up to SECONDS for a provider at its max_concurrent/rpm limit instead of "
                   "skipping it.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the outcome.")
@click.option("--output-format", "output_format", type=click.Choice(["stream-json"]), default=None,
              help="stream-json: print the Claude CLI's live stream (one result line, last) instead.")
@config_option
def run(prompt_file: Path, priority: str | None, labels: tuple[str, ...], retry_count: int | None,
        hour: int | None, attrs: tuple[str, ...], output_file: Path | None, timeout: float | None,
        wait: float | None, as_json: bool, output_format: str | None, config_path: Path | None) -> None:
    """Route the task in PROMPT_FILE, run it, and fail over until one candidate succeeds.

    Exit code 0 when an attempt succeeded, 1 when every candidate failed,
    2 for usage or config errors. SIGINT, SIGTERM or SIGHUP stop the running
    attempt's process group, record the run as cancelled and exit with
    130, 143 or 129 (128 + the signal's number).
    """
    if as_json and output_format is not None:
        raise click.UsageError("--json and --output-format stream-json are two different outputs: choose one")
    stop = StopSignals()
    stop.install()
    try:
        _run(stop, prompt_file, task_from_options(priority, labels, retry_count, hour, attrs),
             output_file, timeout, as_json, config_path, output_format, wait)
    finally:
        stop.restore()


def _run(stop: StopSignals, prompt_file: Path, task: dict[str, Any], output_file: Path | None,
         timeout: float | None, as_json: bool, config_path: Path | None,
         output_format: str | None = None, wait: float | None = None) -> None:
    import sys

    from tacroute.runner import run_task
    from tacroute.runner.claude_stream import ClaudeStream

    config = get_config(config_path)
    stream = ClaudeStream(sys.stdout, output_format) if output_format else None
    result = stop.run(lambda: run_task(prompt_file, task, config=config, output_file=output_file,
                                       timeout=timeout, status=None if stream is None else False,
                                       cancel=stop.cancel, wait=wait,
                                       on_line=None if stream is None else stream.on_line))
    data = result.as_dict()
    if stop.signum is not None and not result.success:
        data["error_class"] = "cancelled"  # also when no attempt had started yet
    try:
        if stream is not None:
            stream.finish(result)
            if not result.success:
                click.echo(f"tacroute: {result.error}", err=True)
        elif as_json:
            echo_json(data)
        else:
            _print(result)
    except OSError:
        if stop.signum is None:  # a hang-up may have taken the terminal: the history has the run
            raise
    if stop.signum is not None:
        click.get_current_context().exit(128 + stop.signum)
    if not result.success:
        click.get_current_context().exit(1)




def _print(result: RunResult) -> None:
    for a in result.attempts:
        how = "ok" if a.success else f"{a.error_class.value if a.error_class else 'failed'}: {a.message}"
        click.echo(f"attempt {a.attempt}: {a.provider}/{a.model} ({a.rule or 'default'}) "
                   f"{a.duration_ms / 1000:.1f}s  {how}", err=not a.success)
    if result.success:
        click.echo(f"done: {result.provider}/{result.model}")
    else:
        click.echo(f"failed: {result.error}", err=True)
    u = result.usage
    cost = f"${result.cost_usd:.6f}" if result.cost_usd is not None else "unknown"
    if result.cost_source == "estimated":
        cost += " (estimated)"
    click.echo(f"tokens: in {u.input_tokens}, out {u.output_tokens}, cache read {u.cache_read_tokens}, "
               f"cache creation {u.cache_creation_tokens}; cost {cost}; {result.duration_ms / 1000:.1f}s")
    if result.output_file:
        click.echo(f"output: {result.output_file}")
    if result.result:
        click.echo("")
        click.echo(result.result)
