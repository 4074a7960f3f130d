"""``labels``: the task has at least one of these labels (case-insensitive).

``labels = ["documentation", "docs"]`` (a single string is one label).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tacroute import CompileContext, ConditionType, RegisterCondition, hookimpl
from tacroute.types import ConditionIndex, Predicate, Task
from tacroute_conditions._text import string_set

#: All a value reads (see ConditionIndex.reads): decisions may be kept per its value.
_READS = frozenset({"labels"})


def label_keys(task: Task) -> Sequence[str]:
    """The task's labels, lower-cased (a single string is one label; none: matches nothing)."""
    labels = task.get("labels")
    if not labels:
        return ()
    if type(labels) is str:
        return (labels.lower(),)
    if type(labels) is list and len(labels) == 1 and type(labels[0]) is str:
        return (labels[0].lower(),)
    return [label.lower() if type(label) is str else str(label).lower() for label in labels]


class LabelsCondition(ConditionType):
    name = "labels"
    description = 'a list of labels, any of which must be on the task, e.g. ["docs", "documentation"]'

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        wanted = string_set(value, "label", '["docs", "documentation"]')

        def labels_match(task: Task) -> bool:  # label_keys inline: this runs per decision
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

    def index(self, value: Any, ctx: CompileContext) -> ConditionIndex:
        return ConditionIndex(label_keys, string_set(value, "label", ""), many=True, reads=_READS)

    def never_matches(self, value: Any) -> bool:
        return bool(value == [])

    def cover_tokens(self, value: Any) -> frozenset[str]:
        return string_set(value, "label", "")  # covers() is "is a subset of"

    def covers(self, broader: Any, narrower: Any) -> bool:
        return string_set(narrower, "label", "") <= string_set(broader, "label", "")


@hookimpl
def register_conditions(register: RegisterCondition) -> None:
    register(LabelsCondition())
