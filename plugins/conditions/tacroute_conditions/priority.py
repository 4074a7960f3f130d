"""``priority``: the task's priority is one of these (case-insensitive).

``priority = "critical"`` or ``priority = ["high", "normal"]``.
"""

from __future__ import annotations

from typing import Any

from tacroute import CompileContext, ConditionType, RegisterCondition, hookimpl
from tacroute.types import ConditionIndex, Predicate, Task
from tacroute_conditions._text import string_set

#: All a value reads (see ConditionIndex.reads): decisions may be kept per its value.
_READS = frozenset({"priority"})


def priority_key(task: Task) -> str | None:
    """The task's priority, lower-cased (None: no priority, which matches no value)."""
    p = task.get("priority")
    if type(p) is str:
        return p.lower()
    return None if p is None else str(p).lower()


class PriorityCondition(ConditionType):
    name = "priority"
    description = 'a priority or a list of them, e.g. "critical" or ["high", "normal"]'

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        allowed = string_set(value, "priority", '"critical" or ["high", "normal"]')

        def priority_matches(task: Task) -> bool:  # priority_key inline: this runs per decision
            p = task.get("priority")
            if type(p) is str:
                return p.lower() in allowed
            return p is not None and str(p).lower() in allowed

        return priority_matches

    def index(self, value: Any, ctx: CompileContext) -> ConditionIndex:
        return ConditionIndex(priority_key, string_set(value, "priority", ""), reads=_READS)

    def never_matches(self, value: Any) -> bool:
        return bool(value == [])

    def cover_tokens(self, value: Any) -> frozenset[str]:
        return string_set(value, "priority", "")  # covers() is "is a subset of"

    def covers(self, broader: Any, narrower: Any) -> bool:
        b = string_set(broader, "priority", "")
        return string_set(narrower, "priority", "") <= b


@hookimpl
def register_conditions(register: RegisterCondition) -> None:
    register(PriorityCondition())
