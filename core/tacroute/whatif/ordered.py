"""The scan of a tasks file for configs with budgets: every task routed in file order.

A budget's spend depends on every task before it, so nothing is memoised and
the file is not split between processes: each line is routed as of its time
(its ``started_at``, else the start of the simulation) and its cost is added
to the spend of the side that routed it (:mod:`tacroute.whatif.sides`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from tacroute.taskattrs import task_problem as check_task
from tacroute.types import Usage
from tacroute.whatif.inputs import TaskFileError, target_of
from tacroute.whatif.sides import task_time

if TYPE_CHECKING:
    from tacroute.whatif.sides import WhatIfSide
    from tacroute.whatif.simulate import Simulator
    from tacroute.whatif.tally import Target

__all__ = ["scan_ordered", "timed", "tokens"]

_TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")


def tokens(name: str, lineno: int, values: tuple[Any, ...], defaults: Usage) -> tuple[int, int, int, int]:
    """The slow path of the token checks: null means the default; anything else must be an int >= 0."""
    out: list[int] = []
    for field_name, value in zip(_TOKENS, values):
        if value is None:
            value = getattr(defaults, field_name)
        if type(value) is not int or value < 0:
            raise TaskFileError(name, lineno, f"{field_name} must be a whole number >= 0 (or null for the "
                                f"default), not {value!r}")
        out.append(value)
    return out[0], out[1], out[2], out[3]


def timed(obj: dict[str, Any], sim: Simulator, name: str, lineno: int) -> float:
    """Take ``started_at`` out of a task (its time; without it, the simulation's start) and give
    it the ``hour`` it started at when it has none."""
    value = obj.pop("started_at", None)
    at = task_time(value, sim.start, sim.tz)
    if at is None:
        raise TaskFileError(name, lineno, f"started_at must be epoch seconds or an ISO 8601 time "
                            f"(2025-06-15T09:30:00+02:00), not {value!r}")
    if value is not None and obj.get("hour") is None:
        obj["hour"] = datetime.fromtimestamp(at, sim.tz).hour
    return at


def _target(side: WhatIfSide, task: dict[str, Any], at: float, usage: Usage) -> Target:
    return side.charged(task, at, usage) if side.budgeted else target_of(side.route(task))


def scan_ordered(sim: Simulator, data: bytes, name: str, first_line: int = 1) -> int:
    """:meth:`Simulator.scan` for budgets; returns the number of lines (newlines) read."""
    side_a, side_b = sim.side_a, sim.side_b
    sample, cap = sim.tally.changed_sample, sim.sample_cap
    lineno = first_line - 1
    for line in data.split(b"\n"):
        lineno += 1
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise TaskFileError(name, lineno, f"not valid JSON ({exc})") from None
        if type(obj) is not dict:
            raise TaskFileError(name, lineno, f"must be a JSON object of task attributes, "
                                f"not {type(obj).__name__}")
        usage = Usage(*tokens(name, lineno, tuple(obj.pop(f, None) for f in _TOKENS), sim.defaults))
        at = timed(obj, sim, name, lineno)
        problem = check_task(obj)
        if problem is not None:
            raise TaskFileError(name, lineno, problem)
        ta = _target(side_a, obj, at, usage)
        tb = _target(side_b, obj, at, usage) if side_b is not None else None
        g = sim.tally.group(ta, tb)
        g.add_usage(usage)
        if g.changed and len(sample) < cap:
            sample.append(lineno)
    return data.count(b"\n")
