"""The well-known task attributes, checked the same way wherever a task comes in.

``priority``, ``project`` and ``user`` are strings; ``labels`` a list of strings (a single string is
one label); ``retry_count`` a whole number >= 0; ``hour`` a whole number from
0 to 23 (``retry_count`` and ``hour`` may also be the decimal text of one,
which the built-in conditions read). A missing attribute, or None, is absent.
Other attributes are the business of the conditions that read them.

The CLI's task options, ``tacroute simulate`` task lines, ``run_task`` and
``ModelRouter.route`` all use :func:`task_problem` / :func:`check_task`, so a
value is accepted or rejected whichever way it arrives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tacroute.errors import InvalidTaskError

__all__ = ["WELL_KNOWN", "check_task", "task_problem"]

#: The attributes :func:`task_problem` checks (and reads: it reads no others).
WELL_KNOWN = frozenset({"priority", "labels", "retry_count", "hour", "project", "user"})


def task_problem(task: Mapping[str, Any]) -> str | None:
    """What is wrong with ``task``'s well-known attributes, or None.

    Kept cheap (a few dictionary look-ups): the router calls it on every decision.
    """
    get = task.get
    p = get("priority")
    if p is not None and type(p) is not str and not isinstance(p, str):
        return f"task attribute priority must be a string, e.g. \"high\", not {_show(p)}"
    labels = get("labels")
    if labels is not None and type(labels) is not str:
        ok = type(labels) is list
        if ok:  # the common case, inline: a call costs as much as the whole check
            for x in labels:
                if type(x) is not str:
                    ok = False
                    break
        if not ok and not _labels_ok(labels):
            return f"task attribute labels must be a list of strings, e.g. [\"docs\"], not {_show(labels)}"
    rc = get("retry_count")
    if rc is not None and not (type(rc) is int and rc >= 0) and not _whole(rc, 0, None):
        return f"task attribute retry_count must be a whole number >= 0, not {_show(rc)}"
    h = get("hour")
    if h is not None and not (type(h) is int and 0 <= h <= 23) and not _whole(h, 0, 23):
        return f"task attribute hour must be a whole number from 0 to 23, not {_show(h)}"
    for key in ("project", "user"):
        v = get(key)
        if v is not None and not isinstance(v, str):
            return f"task attribute {key} must be a string, e.g. \"acme/api\", not {_show(v)}"
    return None


def check_task(task: Mapping[str, Any]) -> None:
    """Raise :class:`~tacroute.errors.InvalidTaskError` when :func:`task_problem` finds one."""
    if not isinstance(task, Mapping):
        raise InvalidTaskError(f"a task must be a mapping of attribute names to values, "
                               f"not {type(task).__name__}")
    problem = task_problem(task)
    if problem is not None:
        raise InvalidTaskError(problem)


def _labels_ok(labels: Any) -> bool:
    if not isinstance(labels, list | tuple):
        return False
    return all(isinstance(x, str) for x in labels)


def _whole(value: Any, lo: int, hi: int | None) -> bool:
    """Whether ``value`` is a whole number in [lo, hi]: an int (not a bool) of a
    subclass (an IntEnum), or its decimal text."""
    if isinstance(value, bool):
        return False
    text = value.strip() if isinstance(value, str) and len(value) <= 20 else ""
    if not isinstance(value, int) and not (text.isascii() and text.isdigit()):
        return False
    n = int(value)
    return lo <= n and (hi is None or n <= hi)


def _show(value: Any) -> str:
    """A bounded description of a bad value (it may be huge or deeply nested)."""
    if type(value) is bool:
        return "true" if value else "false"
    kind = {int: "integer", float: "number", str: "string",
            list: "array", tuple: "array", dict: "table"}.get(type(value), type(value).__name__)
    if type(value) in (int, float, str):
        if type(value) is str:
            text = repr(value[:60])
        elif type(value) is int and value.bit_length() > 200:
            text = "(a huge integer)"
        else:
            text = repr(value)
        if len(text) > 60:
            text = text[:57] + "..."
        return f"{kind} {text}"
    return kind
