"""``hour_range = [start, end]``: start <= hour < end, wrapping past midnight.

Hours are 0..23 in local time, or in ``routing.timezone``; a task's ``hour``
attribute, when given, is used instead of the clock. ``[22, 6]`` is 22:00 to
05:59; ``[0, 24]`` is all day; ``[5, 5]`` matches nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tacroute import CompileContext, ConditionType, ConditionValueError, RegisterCondition, hookimpl
from tacroute.types import ConditionIndex, Predicate, Task

if TYPE_CHECKING:
    from collections.abc import Callable

    from tacroute.clock import HourClock

#: All a value reads (see ConditionIndex.reads): decisions may be kept per its value.
_READS = frozenset({"hour"})


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
    flags = _FLAGS.get((start, end))
    if flags is None:  # at most 24 x 25 ranges: each worked out once (a big table repeats them)
        flags = _FLAGS[(start, end)] = (tuple(start <= h < end for h in range(24)) if start <= end
                                        else tuple(h >= start or h < end for h in range(24)))
    return flags


_FLAGS: dict[tuple[int, int], tuple[bool, ...]] = {}
_HOUR_SETS: dict[tuple[bool, ...], frozenset[int]] = {}


def _hour_set(flags: tuple[bool, ...]) -> frozenset[int]:
    """The hours ``flags`` has on."""
    hours = _HOUR_SETS.get(flags)
    if hours is None:
        hours = _HOUR_SETS[flags] = frozenset(h for h in range(24) if flags[h])
    return hours


def _hour(h: Any) -> int | None:
    """An hour given as text (or an int subclass), or None when it is no hour 0..23."""
    try:
        h = int(h)
    except (TypeError, ValueError):
        return None
    return h if 0 <= h <= 23 else None


class HourRangeCondition(ConditionType):
    name = "hour_range"
    description = "[start, end] hours, start <= hour < end, e.g. [0, 8] or [22, 6]"

    def __init__(self) -> None:
        #: One key function per clock (recent ones), so rules of one config share one index.
        self._keys: dict[int, tuple[HourClock, Callable[[Task], int | None]]] = {}

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        flags = _hours(value)
        hour_now = ctx.clock.hour

        def hour_in_range(task: Task) -> bool:
            h = task.get("hour")
            if h is None:
                return flags[hour_now()]
            if type(h) is int and 0 <= h <= 23:
                return flags[h]
            h = _hour(h)
            return h is not None and flags[h]

        return hour_in_range

    def index(self, value: Any, ctx: CompileContext) -> ConditionIndex:
        return ConditionIndex(self._key_of(ctx.clock), _hour_set(_hours(value)),
                              reads=_READS, clock=ctx.clock)

    def _key_of(self, clock: HourClock) -> Callable[[Task], int | None]:
        held = self._keys.get(id(clock))
        if held is not None and held[0] is clock:
            return held[1]
        hour_now = clock.hour

        def task_hour(task: Task) -> int | None:
            """The task's hour (none: now), or None when it is no hour."""
            h = task.get("hour")
            if h is None:
                return hour_now()
            if type(h) is int and 0 <= h <= 23:
                return h
            return _hour(h)

        if len(self._keys) >= 8:  # configs loaded long ago: their routers keep their own
            self._keys.clear()
        self._keys[id(clock)] = (clock, task_hour)
        return task_hour

    def never_matches(self, value: Any) -> bool:
        return not any(_hours(value))

    def covers(self, broader: Any, narrower: Any) -> bool:
        b, n = _hours(broader), _hours(narrower)
        return all(bf or not nf for bf, nf in zip(b, n))


@hookimpl
def register_conditions(register: RegisterCondition) -> None:
    register(HourRangeCondition())
