"""``retry_count``: compare how many times the task was retried already.

``retry_count = 2`` means equal to 2; a table of operators must all hold:
``retry_count = { gte = 1, lte = 3 }``. Operators: ``eq``, ``ne``, ``gt``,
``gte``, ``lt``, ``lte``. A task without ``retry_count`` counts as 0.
"""

from __future__ import annotations

import math
from typing import Any

from tacroute import CompileContext, ConditionType, ConditionValueError, RegisterCondition, hookimpl
from tacroute.types import ConditionIndex, Predicate, Task

#: All a value reads (see ConditionIndex.reads): decisions may be kept per its value.
_READS = frozenset({"retry_count"})

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte")


def _bounds(value: Any) -> tuple[float, float, frozenset[int]]:
    """(lowest, highest, excluded) retry counts that match."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value, value, frozenset()
    if not isinstance(value, dict) or not value:
        raise ConditionValueError(
            "must be an integer (equal to) or a table of operators, e.g. { gte = 1 } or "
            f"{{ gte = 1, lte = 3 }}; operators: {', '.join(OPERATORS)}; got {value!r}")
    lo, hi = -math.inf, math.inf
    excluded: set[int] = set()
    for op, n in value.items():
        if op not in OPERATORS:
            raise ConditionValueError(f"unknown operator {op!r}; valid operators: {', '.join(OPERATORS)}")
        if not isinstance(n, int) or isinstance(n, bool):
            raise ConditionValueError(f"operator {op!r} needs an integer, got {n!r}")
        if op == "eq":
            lo, hi = max(lo, n), min(hi, n)
        elif op == "ne":
            excluded.add(n)
        elif op == "gt":
            lo = max(lo, n + 1)
        elif op == "gte":
            lo = max(lo, n)
        elif op == "lt":
            hi = min(hi, n - 1)
        else:
            hi = min(hi, n)
    return lo, hi, frozenset(excluded)


def _count(task: Task) -> int | None:
    """The task's retry count (no attribute: 0); None when it is no whole number."""
    rc = task.get("retry_count", 0)
    if type(rc) is int:
        return rc
    try:
        return int(rc)
    except (TypeError, ValueError):
        return None


def _ranges(value: Any) -> tuple[tuple[float, float], ...]:
    """The matching counts as disjoint ``(lo, hi)`` ranges, both ends included."""
    lo, hi, excluded = _bounds(value)
    out: list[tuple[float, float]] = []
    for x in sorted(e for e in excluded if lo <= e <= hi):
        if lo <= x - 1:
            out.append((lo, x - 1))
        lo = x + 1
    if lo <= hi:
        out.append((lo, hi))
    return tuple(out)


class RetryCountCondition(ConditionType):
    name = "retry_count"
    description = "an integer, or a table of eq/ne/gt/gte/lt/lte, e.g. { gte = 1 }"

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        lo, hi, excluded = _bounds(value)
        if lo == hi and not excluded:
            target = int(lo)

            def retry_count_equals(task: Task) -> bool:
                rc = task.get("retry_count", 0)
                return (rc if type(rc) is int else _count(task)) == target

            return retry_count_equals

        def retry_count_in_range(task: Task) -> bool:
            rc = task.get("retry_count", 0)
            if type(rc) is not int:
                rc = _count(task)
                if rc is None:
                    return False
            return lo <= rc <= hi and rc not in excluded

        return retry_count_in_range

    def index(self, value: Any, ctx: CompileContext) -> ConditionIndex:
        return ConditionIndex(_count, ranges=_ranges(value), reads=_READS)

    def never_matches(self, value: Any) -> bool:
        lo, hi, excluded = _bounds(value)
        if lo > hi:
            return True
        return lo == hi and int(lo) in excluded

    def covers(self, broader: Any, narrower: Any) -> bool:
        blo, bhi, bex = _bounds(broader)
        nlo, nhi, nex = _bounds(narrower)
        if nlo < blo or nhi > bhi:
            return False
        return all(x in nex or not nlo <= x <= nhi for x in bex)


@hookimpl
def register_conditions(register: RegisterCondition) -> None:
    register(RetryCountCondition())
