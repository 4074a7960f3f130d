"""``hour_range = [start, end]``: start <= hour < end, wrapping past midnight.

Hours are 0..23 in local time, or in ``routing.timezone``; a task's ``hour``
attribute, when given, is used instead of the clock. ``[22, 6]`` is 22:00 to
05:59; ``[0, 24]`` is all day; ``[5, 5]`` matches nothing.
"""

from __future__ import annotations

from typing import Any

from tacroute import CompileContext, ConditionType, ConditionValueError, RegisterCondition, hookimpl
from tacroute.types import Predicate, Task


def _hours(value: Any) -> tuple[bool, ...]:
    """24 flags: whether each hour is in the range."""
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise ConditionValueError(f"must be [start, end] with two whole hours, e.g. [0, 8] or "
                                  f"[22, 6]; got {value!r}")
    start, end = value
    if not (0 <= start <= 23 and 0 <= end <= 24):
        raise ConditionValueError(f"hours must be 0 <= start <= 23 and 0 <= end <= 24 "
                                  f"(start <= hour < end); got [{start}, {end}]")
    if start <= end:
        return tuple(start <= h < end for h in range(24))
    return tuple(h >= start or h < end for h in range(24))


class HourRangeCondition(ConditionType):
    name = "hour_range"
    description = "[start, end] hours, start <= hour < end, e.g. [0, 8] or [22, 6]"

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        flags = _hours(value)
        hour_now = ctx.clock.hour

        def hour_in_range(task: Task) -> bool:
            h = task.get("hour")
            if h is None:
                return flags[hour_now()]
            if type(h) is int and 0 <= h <= 23:
                return flags[h]
            try:
                h = int(h)
            except (TypeError, ValueError):
                return False
            return 0 <= h <= 23 and flags[h]

        return hour_in_range

    def never_matches(self, value: Any) -> bool:
        return not any(_hours(value))

    def covers(self, broader: Any, narrower: Any) -> bool:
        b, n = _hours(broader), _hours(narrower)
        return all(bf or not nf for bf, nf in zip(b, n))


@hookimpl
def register_conditions(register: RegisterCondition) -> None:
    register(HourRangeCondition())
