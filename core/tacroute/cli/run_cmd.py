"""``tacroute run PROMPT_FILE``: route a task, run it, fail over, report what happened."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tacroute.cli._common import config_option, echo_json, get_config, task_from_options, task_options
from tacroute.types import AttemptRecord, RunResult

__all__ = ["run", "result_dict"]


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
              help="Where the raw output goes (later attempts: NAME.attempt-N.SUFFIX beside it).")
@click.option("--timeout", type=float, default=None, callback=_check_timeout,
              help="Seconds each attempt may take (overrides the providers' timeout).")
@click.option("--wait", "wait", type=float, default=None, metavar="SECONDS", callback=_check_wait,
              help="Wait up to SECONDS for a provider at its max_concurrent/rpm limit instead of "
                   "skipping it.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the outcome.")
@config_option
def run(prompt_file: Path, priority: str | None, labels: tuple[str, ...], retry_count: int | None,
        hour: int | None, attrs: tuple[str, ...], output_file: Path | None, timeout: float | None,
        wait: float | None, as_json: bool, config_path: Path | None) -> None:
    """Route the task in PROMPT_FILE, run it, and fail over until one candidate succeeds.

    Exit code 0 when an attempt succeeded, 1 when every candidate failed,
    2 for usage or config errors. SIGINT, SIGTERM or SIGHUP stop the running
    attempt's process group, record the run as cancelled and exit with
    130, 143 or 129 (128 + the signal's number).
    """
    stop = _StopSignals()
    stop.install()
    try:
        _run(stop, prompt_file, task_from_options(priority, labels, retry_count, hour, attrs),
             output_file, timeout, as_json, config_path, wait)
    finally:
        stop.restore()


def _run(stop: _StopSignals, prompt_file: Path, task: dict[str, Any], output_file: Path | None,
         timeout: float | None, as_json: bool, config_path: Path | None, wait: float | None = None) -> None:
    from tacroute.runner import run_task

    config = get_config(config_path)
    result = stop.run(lambda: run_task(prompt_file, task, config=config, output_file=output_file,
                                       timeout=timeout, status=None, cancel=stop.cancel, wait=wait))
    data = result_dict(result)
    if stop.signum is not None and not result.success:
        data["error_class"] = "cancelled"  # also when no attempt had started yet
    try:
        if as_json:
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


class _StopSignals:
    """SIGINT, SIGTERM and SIGHUP set the run's ``cancel`` event (the first one wins).

    The run itself goes to a worker thread while the main thread, where Python
    runs signal handlers, only waits for it: the handler's ``Event.set`` can
    then never wait for a lock the interrupted code holds (``Event.wait`` in
    the retry-after wait takes the event's lock).
    """

    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self) -> None:
        self.cancel = threading.Event()
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        """Take over the signals (only the main thread can; elsewhere nothing changes)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for name in self.SIGNALS:
            number = getattr(signal, name)
            self._previous[number] = signal.signal(number, self._handle)

    def restore(self) -> None:
        """Put back the handlers found (matters when the command runs inside a longer process)."""
        for number, handler in self._previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        self._previous.clear()

    def _handle(self, signum: int, frame: object) -> None:
        if self.signum is None:  # a second signal changes nothing: the stop is under way
            self.signum = signum
            self.cancel.set()

    def run(self, fn: Callable[[], RunResult]) -> RunResult:
        """``fn()`` in a thread; its exception, if any, is raised here."""
        box: list[RunResult] = []
        error: list[BaseException] = []

        def target() -> None:
            try:
                box.append(fn())
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
                error.append(exc)

        worker = threading.Thread(target=target, name="tacroute-run")
        worker.start()
        worker.join()  # interrupted by signals: the handler runs, the join goes on
        if error:
            raise error[0]
        return box[0]


def result_dict(result: RunResult) -> dict[str, Any]:
    """The ``--json`` object of a run."""
    final = result.attempts[-1] if result.attempts else None
    return {
        "run_id": result.run_id,
        "success": result.success,
        "provider": result.provider,
        "model": result.model,
        "rule": final.rule if final else None,
        "error_class": final.error_class.value if final and final.error_class else None,
        "error": result.error,
        "result": result.result,
        "cost_usd": result.cost_usd,
        "usage": result.usage.as_dict(),
        "duration_ms": result.duration_ms,
        "output_file": final.output_file if final else None,
        "attempts": [_attempt_dict(a) for a in result.attempts],
        "decision": result.decision.as_dict(),
        "task": dict(result.task),
    }


def _attempt_dict(a: AttemptRecord) -> dict[str, Any]:
    return {
        "attempt": a.attempt,
        "provider": a.provider,
        "provider_type": a.provider_type,
        "model": a.model,
        "rule": a.rule,
        "success": a.success,
        "error_class": a.error_class.value if a.error_class else None,
        "message": a.message,
        "exit_code": a.exit_code,
        "duration_ms": a.duration_ms,
        "usage": a.usage.as_dict(),
        "cost_usd": a.cost_usd,
        "output_file": a.output_file,
    }


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
    click.echo(f"tokens: in {u.input_tokens}, out {u.output_tokens}, cache read {u.cache_read_tokens}, "
               f"cache creation {u.cache_creation_tokens}; cost {cost}; {result.duration_ms / 1000:.1f}s")
    if result.attempts and result.attempts[-1].output_file:
        click.echo(f"output: {result.attempts[-1].output_file}")
    if result.result:
        click.echo("")
        click.echo(result.result)
