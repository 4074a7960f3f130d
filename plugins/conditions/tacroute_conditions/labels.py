"""``labels``: the task has at least one of these labels (case-insensitive).

``labels = ["documentation", "docs"]`` (a single string is one label).
"""

from __future__ import annotations

from typing import Any

from tacroute import CompileContext, ConditionType, RegisterCondition, hookimpl
from tacroute.types import Predicate, Task
from tacroute_conditions._text import string_set


class LabelsCondition(ConditionType):
    name = "labels"
    description = 'a list of labels, any of which must be on the task, e.g. ["docs", "documentation"]'

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        wanted = string_set(value, "label", '["docs", "documentation"]')

        def labels_match(task: Task) -> bool:
            labels = task.get("labels")
            if not labels:
                return False
            if type(labels) is str:
                return labels.lower() in wanted
            for label in labels:
                if (label.lower() if type(label) is str else str(label).lower()) in wanted:
                    return True
            return False

        return labels_match

    def never_matches(self, value: Any) -> bool:
        return bool(value == [])

    def cover_tokens(self, value: Any) -> frozenset[str]:
        return string_set(value, "label", "")  # covers() is "is a subset of"

    def covers(self, broader: Any, narrower: Any) -> bool:
        return string_set(narrower, "label", "") <= string_set(broader, "label", "")


@hookimpl
def register_conditions(register: RegisterCondition) -> None:
    register(LabelsCondition())
