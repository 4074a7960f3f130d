"""Example condition plugin: ``weekday = ["sat", "sun"]``.

Matches when the task's ``weekday`` attribute (or, without one, today in
``routing.timezone``) is one of the listed days. Copy this file and its
``pyproject.toml`` to write your own condition: implement ``compile`` (runs
once, when the config loads) and return a plain predicate (runs per decision).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tacroute import CompileContext, ConditionType, ConditionValueError, RegisterCondition, hookimpl
from tacroute.types import Predicate, Task

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WeekdayCondition(ConditionType):
    name = "weekday"
    description = 'days of the week, e.g. ["sat", "sun"]'

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(d, str) for d in items):
            raise ConditionValueError(f'must be a day or a list of days, e.g. ["sat", "sun"]; got {value!r}')
        wanted = set()
        for day in items:
            short = day.strip().lower()[:3]
            if short not in DAYS:
                raise ConditionValueError(f"unknown day {day!r}; valid: {', '.join(DAYS)}")
            wanted.add(short)
        tz = ctx.timezone

        def weekday_matches(task: Task) -> bool:
            day = task.get("weekday")
            if day is None:
                day = DAYS[datetime.now(tz).weekday()]
            return str(day).strip().lower()[:3] in wanted

        return weekday_matches

    def covers(self, broader: Any, narrower: Any) -> bool:
        def norm(v: Any) -> set[str]:
            return {d.lower()[:3] for d in ([v] if isinstance(v, str) else v)}

        return norm(narrower) <= norm(broader)


@hookimpl
def register_conditions(register: RegisterCondition) -> None:
    register(WeekdayCondition())
