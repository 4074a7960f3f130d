"""Helpers the CLI commands share: the --config option, task options, output."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from tacroute.cli._plain import ConfigFile
from tacroute.config import Config, load_config
from tacroute.errors import UsageError
from tacroute.taskattrs import check_task

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["config_option", "echo_json", "echo_json_stream", "get_config", "json_line", "json_text",
           "task_from_options", "task_options"]


def config_option(func: F) -> F:
    """``--config PATH`` after the command's own name."""
    return click.option(
        "--config", "config_path", type=ConfigFile(), default=None,
        help="Config file (default: $TACROUTE_CONFIG, ./adws/config.toml, ./tacroute.toml, "
             "then the user config dir).",
    )(func)


def get_config(config_path: Path | None) -> Config:
    return load_config(config_path)


def json_text(data: Any) -> str:
    """``data`` as strict JSON (indent 2): a float that is not finite becomes ``null``.

    Python's ``json`` would print ``NaN`` or ``Infinity``, which no strict
    parser reads; every ``--json`` output goes through here.
    """
    try:
        return json.dumps(data, indent=2, default=str, allow_nan=False)
    except ValueError:  # a NaN or an infinity somewhere: the slow path, only then
        return json.dumps(_finite(data), indent=2, default=str, allow_nan=False)


def json_line(data: Any) -> str:
    """``data`` as strict JSON on one line (a JSON-lines record; see :func:`json_text`)."""
    try:
        return json.dumps(data, default=str, allow_nan=False, ensure_ascii=False)
    except ValueError:
        return json.dumps(_finite(data), default=str, allow_nan=False, ensure_ascii=False)


def _finite(data: Any) -> Any:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def echo_json(data: Any) -> None:
    """Print ``data`` as strict JSON (see :func:`json_text`)."""
    click.echo(json_text(data))


def echo_json_stream(data: dict[str, Any], key: str, items: Iterable[Any], batch: int = 1000) -> None:
    """``echo_json(data)`` with ``data[key]`` (ignored) replaced by ``items``, written as they come.

    For lists too long to hold in memory (``history --limit 0 --json`` over a
    million runs): the text is the same JSON (and layout) ``echo_json`` would
    print, but each item is encoded by orjson and written in batches of ``batch``.
    """
    import orjson

    head, sep, tail = json_text({k: ([] if k == key else v) for k, v in data.items()}).partition(
        f"\n  {json.dumps(key)}: []")
    if not sep:
        raise ValueError(f"{key!r} is not a top-level key of the JSON object")
    sys.stdout.flush()
    out = sys.stdout.buffer
    chunks: list[bytes] = [f"{head}\n  {json.dumps(key)}: [".encode()]
    count = 0
    for item in items:
        try:
            text = orjson.dumps(item, default=str, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: the standard library copes
            text = json_text(item).encode()
        chunks.append((b",\n    " if count else b"\n    ") + text.replace(b"\n", b"\n    "))
        count += 1
        if len(chunks) >= batch:
            out.write(b"".join(chunks))
            chunks.clear()
    chunks.append(f"{chr(10) + '  ' if count else ''}]{tail}\n".encode())
    out.write(b"".join(chunks))
    out.flush()


def task_options(func: F) -> F:
    """The task-attribute options shared by ``route`` and ``run``."""
    for decorator in reversed([
        click.option("--priority", help="Task priority (critical, high, normal, low, ...)."),
        click.option("--label", "labels", multiple=True, help="A task label (repeatable)."),
        click.option("--retry-count", type=click.IntRange(min=0), default=None,
                     help="How many times the task was retried already."),
        click.option("--hour", type=click.IntRange(0, 23), default=None,
                     help="Hour of day to route as (default: now)."),
        click.option("--attr", "attrs", multiple=True, metavar="KEY=VALUE",
                     help="Any other task attribute (repeatable); VALUE is read as TOML if it can be."),
        click.option("--user", expose_value=False, callback=_remember,
                     help="Who the task is for ([users.NAME] preferences and budgets)."),
        click.option("--project", expose_value=False, callback=_remember,
                     help="The task's project, e.g. acme/api ([projects.\"NAME\"] preferences)."),
    ]):
        func = decorator(func)
    return func


def _remember(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``--user`` / ``--project``: kept for :func:`task_from_options` (no parameter of their own)."""
    if value is not None and param.name is not None:
        ctx.meta.setdefault("tacroute.task", {})[param.name] = value


def task_from_env() -> dict[str, Any]:
    """``$TACROUTE_TASK``: a JSON object of task attributes (the options override it)."""
    import os

    text = os.environ.get("TACROUTE_TASK", "")
    if not text.strip():
        return {}
    try:
        task = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"TACROUTE_TASK is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(task, dict):
        raise UsageError(f"TACROUTE_TASK must be a JSON object of task attributes, not "
                         f"{type(task).__name__}")
    return task


def task_from_options(priority: str | None, labels: tuple[str, ...], retry_count: int | None,
                      hour: int | None, attrs: tuple[str, ...]) -> dict[str, Any]:
    """The task of ``route``/``run``: ``$TACROUTE_TASK``, then ``--attr``, then the options.

    Raises InvalidTaskError (exit 2) for a bad well-known attribute, whether ``--attr``
    or its own option gave it (``--attr hour=99`` as ``--hour 99``)."""
    task: dict[str, Any] = task_from_env()
    if attrs:
        from tacroute.keyvalue import parse_attr  # only with --attr
    for item in attrs:
        key, value = parse_attr(item)
        task[key] = value
    if priority is not None:
        task["priority"] = priority
    if labels:
        task["labels"] = list(labels)
    if retry_count is not None:
        task["retry_count"] = retry_count
    if hour is not None:
        task["hour"] = hour
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        task.update(ctx.meta.get("tacroute.task", {}))
    check_task(task)
    return task
