"""The task attributes of a call: ``TACROUTE_TASK``, or what the call itself says.

``TACROUTE_TASK`` (a JSON object) is used as is when set. Otherwise:

- ``command``: the prompt's leading slash command (``/chore``, ``/classify_issue``);
- ``labels`` and ``issue``: from a GitHub issue JSON object in the prompt
  (``labels[].name``, ``number``); the first object with a ``number``, or a
  ``title`` and a ``body`` or ``labels``, counts;
- ``requested_model``: the ``--model`` asked for, aliases normalised
  (``Sonnet``, ``sonnet[1m]`` -> ``sonnet``), full names lower-cased.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from tacroute_claude_cli.dropin.argv import ALIASES, UsageProblem

__all__ = ["requested_model", "task_for_call"]

_COMMAND = re.compile(r"\s*(/[A-Za-z0-9][A-Za-z0-9_:.\-]*)")
#: How many ``{`` the issue search tries, and how far into the prompt it looks.
_MAX_TRIES = 200
_MAX_SCAN = 1 << 20


def task_for_call(prompt: str, model: str | None, environ: Mapping[str, str]) -> dict[str, Any]:
    """The attributes rules match on (raises :class:`UsageProblem` for a bad ``TACROUTE_TASK``)."""
    given = environ.get("TACROUTE_TASK")
    if given is not None:
        try:
            given_task = json.loads(given)
        except (ValueError, RecursionError):
            raise UsageProblem("TACROUTE_TASK is not JSON: set it to a JSON object of task "
                               'attributes, e.g. {"priority": "high", "labels": ["bug"]}') from None
        if not isinstance(given_task, dict):
            raise UsageProblem("TACROUTE_TASK must be a JSON object of task attributes")
        return given_task
    task: dict[str, Any] = {}
    found = _COMMAND.match(prompt)
    if found:
        task["command"] = found.group(1)
    issue = _issue(prompt)
    if issue is not None:
        labels = issue.get("labels")
        if isinstance(labels, list):
            names = [x.get("name") if isinstance(x, dict) else x for x in labels]
            task["labels"] = [n for n in names if isinstance(n, str)]
        number = issue.get("number")
        if isinstance(number, int) and not isinstance(number, bool):
            task["issue"] = number
    if model:
        task["requested_model"] = requested_model(model)
    return task


def requested_model(model: str) -> str:
    """``Sonnet`` and ``sonnet[1m]`` -> ``sonnet``; other names lower-cased."""
    name = model.strip().lower()
    base = name.split("[", 1)[0]
    return base if base in ALIASES else name


def _issue(prompt: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    text = prompt[:_MAX_SCAN]
    start = text.find("{")
    tries = 0
    while start >= 0 and tries < _MAX_TRIES:
        tries += 1
        try:
            obj, _ = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            obj = None
        if isinstance(obj, dict) and _looks_like_issue(obj):
            return obj
        start = text.find("{", start + 1)
    return None


def _looks_like_issue(obj: dict[str, Any]) -> bool:
    number = obj.get("number")
    if isinstance(number, int) and not isinstance(number, bool):
        return True
    return "title" in obj and ("body" in obj or "labels" in obj)
