"""``tacroute batch TASKS.jsonl``: run many tasks, N at once, results to a JSON-lines file.

Each line of TASKS is a JSON object: ``id`` (text or a whole number, unique),
``prompt`` (the text) or ``prompt_file`` (a path, relative to the TASKS file's
folder), and task attributes (the keys of ``TACROUTE_TASK``). Each finished
task appends one line to the results file, flushed at once: the run as
``tacroute run --json`` prints it, plus ``id``; a task that could not run
(no provider available, a missing prompt file) gets ``success: false`` and
``error``. Ids that already succeeded in the results file are skipped, so
running the same command again finishes what failed or never ran.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

import click

from tacroute.cli._common import config_option, get_config, json_line
from tacroute.cli.run_cmd import _check_wait
from tacroute.errors import TacrouteError, UsageError
from tacroute.runner.signals import StopSignals
from tacroute.tuples import NamedTuple

__all__ = ["batch", "read_tasks"]


class BatchTask(NamedTuple):
    id: str
    prompt: str | None
    prompt_file: Path | None
    task: dict[str, Any]


def read_tasks(path: Path) -> list[BatchTask]:
    """The tasks of a TASKS file; UsageError naming the line for a bad one."""
    from tacroute.errors import InvalidTaskError
    from tacroute.taskattrs import check_task

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise UsageError(f"cannot read the tasks file {str(path)!r}: {why}") from None
    tasks: list[BatchTask] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise UsageError(f"{where}: not valid JSON: {str(exc)[:200]}") from None
        if not isinstance(obj, dict):
            raise UsageError(f"{where}: each line must be a JSON object, not {type(obj).__name__}")
        ident = obj.pop("id", None)
        if isinstance(ident, bool) or not isinstance(ident, (str, int)) or str(ident) == "":
            raise UsageError(f"{where}: \"id\" must be a non-empty text or a whole number")
        ident = str(ident)
        if ident in seen:
            raise UsageError(f"{where}: id {ident!r} appears twice")
        seen.add(ident)
        prompt, prompt_file = obj.pop("prompt", None), obj.pop("prompt_file", None)
        if (prompt is None) == (prompt_file is None):
            raise UsageError(f"{where}: give exactly one of \"prompt\" and \"prompt_file\"")
        if not isinstance(prompt if prompt is not None else prompt_file, str):
            raise UsageError(f"{where}: \"prompt\"/\"prompt_file\" must be text")
        try:
            check_task(obj)
        except InvalidTaskError as exc:
            raise UsageError(f"{where}: {exc}") from None
        file = None if prompt_file is None else path.parent / prompt_file
        tasks.append(BatchTask(ident, prompt, file, obj))
    return tasks


def succeeded_ids(results: Path) -> set[str]:
    """Ids with a ``success: true`` line in the results file (unreadable lines are ignored)."""
    done: set[str] = set()
    if results.exists() and not results.is_file():
        return done  # a device or a pipe (/dev/stdout): nothing to read back
    try:
        fh = results.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return done
    except OSError as exc:
        raise UsageError(f"cannot read the results file {str(results)!r}: {exc.strerror or exc}") from None
    with fh:
        for line in fh:
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(obj, dict) and obj.get("success") is True and isinstance(obj.get("id"), str):
                done.add(obj["id"])
    return done


class Board:
    """The results file and the progress line, shared by the workers."""

    def __init__(self, out: TextIO, total: int, skipped: int, live: bool) -> None:
        self.out, self.total, self.skipped, self.live = out, total, skipped, live
        self.ok = self.failed = self.running = 0
        self.lock = threading.Lock()
        #: Why the results file could not be written (the batch stops then).
        self.write_error: str | None = None

    def started(self) -> None:
        with self.lock:
            self.running += 1
            self._show(None)

    def finished(self, data: dict[str, Any]) -> bool:
        """Record one task's line; False when the results file cannot be written."""
        with self.lock:
            try:
                self.out.write(json_line(data) + "\n")
                self.out.flush()
            except OSError as exc:
                self.write_error = self.write_error or (exc.strerror or str(exc))
            self.running -= 1
            if data.get("success") is True:
                self.ok += 1
            else:
                self.failed += 1
            self._show(data)
            return self.write_error is None

    def _show(self, data: dict[str, Any] | None) -> None:
        done = self.skipped + self.ok + self.failed
        counts = f"{done}/{self.total} done (ok {self.ok}, failed {self.failed}, skipped {self.skipped})"
        try:
            if self.live:
                click.echo(f"\r\x1b[Ktacroute batch: {counts}, {self.running} running", err=True, nl=False)
            elif data is not None:
                how = "ok" if data.get("success") else f"failed: {data.get('error') or 'unknown'}"
                click.echo(f"tacroute batch: [{counts}] {data['id']}: {how}"[:500], err=True)
        except OSError:
            pass  # stderr gone (a closed terminal): the results file is the record

    def close(self) -> None:
        if self.live:
            click.echo("", err=True)


@click.command()
@click.argument("tasks_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--concurrency", type=click.IntRange(1, 1024), default=4, show_default=True,
              help="Tasks running at once (each provider's max_concurrent still holds).")
@click.option("--wait", "wait", type=float, default=None, metavar="SECONDS", callback=_check_wait,
              help="Wait up to SECONDS for a provider at its max_concurrent/rpm limit instead of "
                   "skipping it.")
@click.option("--results", "results_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Results file, appended (default: TASKS_FILE with .results.jsonl for its suffix).")
@config_option
def batch(tasks_file: Path, concurrency: int, wait: float | None, results_path: Path | None,
          config_path: Path | None) -> None:
    """Run every task of TASKS_FILE (JSON lines), up to N at once, results to a JSON-lines file.

    Exit code 0 when every task succeeded (now or in an earlier run), 1 when
    any failed, 2 for usage or config errors. SIGINT, SIGTERM or SIGHUP stop
    every running task (each recorded as cancelled) and exit with 128 + the
    signal's number; tasks not started yet are left for the next run.
    """
    tasks = read_tasks(tasks_file)
    results = results_path or tasks_file.with_suffix(".results.jsonl")
    done = succeeded_ids(results)
    pending = [t for t in tasks if t.id not in done]
    config = get_config(config_path)
    try:
        out = results.open("a", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the results file {str(results)!r}: {exc.strerror or exc}") from None
    board = Board(out, len(tasks), len(tasks) - len(pending), sys.stderr.isatty())
    stop = StopSignals()
    stop.install()
    try:
        _run_all(pending, concurrency, config, wait, stop, board)
    finally:
        stop.restore()
        board.close()
        try:
            out.close()
        except OSError as exc:  # what a failed write left in the buffer
            board.write_error = board.write_error or (exc.strerror or str(exc))
    if board.write_error is not None:
        raise TacrouteError(f"cannot write the results file {str(results)!r}: {board.write_error}; "
                            "the batch was stopped")
    if stop.signum is not None:
        click.get_current_context().exit(128 + stop.signum)
    if board.failed:
        click.get_current_context().exit(1)


def _run_all(pending: list[BatchTask], concurrency: int, config: Any, wait: float | None,
             stop: StopSignals, board: Board) -> None:
    from tacroute.plugins import get_registry

    get_registry()  # loaded once here, not raced by the workers
    queue = list(reversed(pending))
    take = threading.Lock()

    def worker() -> None:
        while not stop.cancel.is_set():
            with take:
                if not queue:
                    return
                item = queue.pop()
            board.started()
            if not board.finished({"id": item.id, **_one(item, config, wait, stop)}):
                stop.cancel.set()  # nothing more can be recorded: stop every worker

    threads = [threading.Thread(target=worker, name=f"tacroute-batch-{n}")
               for n in range(min(concurrency, len(pending)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()  # interrupted by signals: the handler runs, the join goes on


def _one(item: BatchTask, config: Any, wait: float | None, stop: StopSignals) -> dict[str, Any]:
    from tacroute.runner import run_task

    try:
        result = run_task(item.prompt_file, item.task, prompt=item.prompt, config=config, cancel=stop.cancel,
                          wait=wait, status=False)
    except Exception as exc:  # noqa: BLE001 - one task's problem is its result line, not the batch's end
        from tacroute.cli import _masked

        cancelled = stop.cancel.is_set()
        return {"success": False, "error_class": "cancelled" if cancelled else None,
                "error": _masked(exc)[:1000], "task": item.task}
    data = result.as_dict()
    if stop.cancel.is_set() and not result.success:
        data["error_class"] = "cancelled"  # also when no attempt had started yet
    return data
