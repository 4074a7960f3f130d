"""Helpers the CLI commands share: the --config option, task options, output."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from tacroute.config import Config, load_config
from tacroute.errors import UsageError
from tacroute.taskattrs import check_task

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["config_option", "echo_json", "get_config", "parse_attr", "task_options", "task_from_options"]


def config_option(func: F) -> F:
    """``--config PATH`` after the command's own name."""
    return click.option(
        "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="Config file (default: $TACROUTE_CONFIG, ./adws/config.toml, ./tacroute.toml, "
             "then the user config dir).",
    )(func)


def get_config(config_path: Path | None) -> Config:
    return load_config(config_path)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def parse_attr(text: str) -> tuple[str, Any]:
    """``key=value``; the value is read as a TOML value when it is one, else a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"--attr needs key=value, got {text!r}")
    try:
        doc = tomllib.loads(f"v = {raw}")
    except (ValueError, RecursionError):  # not TOML (a huge integer, deep nesting): the text itself
        return key, raw
    if len(doc) != 1:
        return key, raw
    value = doc["v"]
    if key == "priority" and isinstance(value, int | float) and not isinstance(value, bool):
        return key, raw.strip()  # `--priority 5` is the text "5"; `--attr priority=5` is too
    return key, value


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
    ]):
        func = decorator(func)
    return func


def task_from_options(priority: str | None, labels: tuple[str, ...], retry_count: int | None,
                      hour: int | None, attrs: tuple[str, ...]) -> dict[str, Any]:
    """The task of ``route``/``run``; raises InvalidTaskError (exit 2) for a bad well-known
    attribute, whether ``--attr`` or its own option gave it (``--attr hour=99`` as ``--hour 99``)."""
    task: dict[str, Any] = {}
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
    check_task(task)
    return task
