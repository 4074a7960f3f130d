"""Each built-in condition's index accepts exactly the tasks its predicate accepts.

Exhaustive over small grids (every operator pair, every hour range, every hour),
including the missing-attribute rules: no ``retry_count`` counts as 0, no
``hour`` is the clock's hour, no priority or labels match nothing.
"""

from __future__ import annotations

import itertools
from typing import Any

from tacroute import CompileContext
from tacroute.clock import HourClock
from tacroute.types import ConditionIndex
from tacroute_conditions.hour_range import HourRangeCondition
from tacroute_conditions.labels import LabelsCondition
from tacroute_conditions.priority import PriorityCondition
from tacroute_conditions.retry_count import OPERATORS, RetryCountCondition

CTX = CompileContext(timezone=None, clock=HourClock())


def accepts(ix: ConditionIndex, task: dict[str, Any]) -> bool:
    """What the router makes of an index: a key in ``keys`` or an int key in a range."""
    keys = ix.key_of(task) if ix.many else [ix.key_of(task)]
    return any(k is not None and (k in ix.keys or (type(k) is int and any(lo <= k <= hi for lo, hi in ix.ranges)))
               for k in keys)


def agree(cond: Any, value: Any, tasks: list[dict[str, Any]]) -> None:
    pred, ix = cond.compile(value, CTX), cond.index(value, CTX)
    for task in tasks:
        assert accepts(ix, task) == pred(task), (value, task)


def test_retry_count_every_operator_pair() -> None:
    tasks = [{}, {"retry_count": None}, {"retry_count": "2"}, {"retry_count": " 3 "}, {"retry_count": "x"},
             *({"retry_count": n} for n in range(-1, 6))]
    values: list[Any] = list(range(-1, 5))
    for a, b in itertools.combinations_with_replacement(OPERATORS, 2):
        for x, y in itertools.product(range(-1, 5), repeat=2):
            values.append({a: x, b: y} if a != b else {a: x})
    for value in values:
        agree(RetryCountCondition(), value, tasks)


def test_hour_range_every_range_and_hour() -> None:
    tasks = [{}, {"hour": "7"}, {"hour": "24"}, {"hour": "x"}, *({"hour": h} for h in range(24))]
    for start, end in itertools.product(range(24), range(25)):
        agree(HourRangeCondition(), [start, end], tasks)


def test_hour_range_conditions_of_one_clock_share_one_key_function() -> None:
    c = HourRangeCondition()
    assert c.index([0, 8], CTX).key_of is c.index([22, 6], CTX).key_of
    assert c.index([0, 8], CTX).key_of is not c.index([0, 8], CompileContext(None, HourClock())).key_of


def test_priority_and_labels_case_and_missing() -> None:
    tasks: list[dict[str, Any]] = [{}, {"priority": None}, {"priority": "HIGH"}, {"priority": "low"},
                                   {"labels": []}, {"labels": "DOCS"}, {"labels": ["bug", "Docs"]},
                                   {"labels": ["other"]}, {"labels": None}]
    for value in ("high", ["High", "low"], [], ["critical"]):
        agree(PriorityCondition(), value, tasks)
    for value in ("docs", ["bug", "DOCS"], [], ["x"]):
        agree(LabelsCondition(), value, tasks)
