from __future__ import annotations

from typing import Any

import pytest

from tacroute import CompileContext, ConditionValueError
from tacroute.clock import HourClock
from tacroute_conditions.hour_range import HourRangeCondition
from tacroute_conditions.labels import LabelsCondition
from tacroute_conditions.priority import PriorityCondition
from tacroute_conditions.retry_count import RetryCountCondition

CTX = CompileContext(timezone=None, clock=HourClock())


def match(cond: Any, value: Any, task: dict[str, Any]) -> bool:
    return bool(cond.compile(value, CTX)(task))


def test_priority_string_or_list_case_insensitive() -> None:
    c = PriorityCondition()
    assert match(c, "critical", {"priority": "CRITICAL"})
    assert match(c, ["high", "Normal"], {"priority": "normal"})
    assert not match(c, ["high"], {"priority": "low"})
    assert not match(c, "high", {})
    assert c.covers(["high", "normal"], "high") and not c.covers("high", ["high", "normal"])
    assert c.never_matches([])
    with pytest.raises(ConditionValueError, match="priority"):
        c.compile(3, CTX)


def test_labels_any_of_case_insensitive() -> None:
    c = LabelsCondition()
    assert match(c, ["documentation", "docs"], {"labels": ["bug", "Docs"]})
    assert match(c, "docs", {"labels": "DOCS"})
    assert not match(c, ["docs"], {"labels": []})
    assert not match(c, ["docs"], {})
    assert c.covers(["docs", "documentation"], ["docs"])
    with pytest.raises(ConditionValueError):
        c.compile([1, 2], CTX)


@pytest.mark.parametrize(("value", "yes", "no"), [
    (2, [2], [0, 1, 3]),
    ({"gte": 1}, [1, 5], [0]),
    ({"gte": 1, "lte": 3}, [1, 2, 3], [0, 4]),
    ({"gt": 1, "lt": 3}, [2], [1, 3]),
    ({"eq": 0}, [0], [1]),
    ({"ne": 0}, [1, 7], [0]),
    ({"gte": 0, "ne": 2}, [0, 1, 3], [2]),
])
def test_retry_count_operators(value: Any, yes: list[int], no: list[int]) -> None:
    c = RetryCountCondition()
    for n in yes:
        assert match(c, value, {"retry_count": n}), n
    for n in no:
        assert not match(c, value, {"retry_count": n}), n


def test_retry_count_missing_counts_as_zero_and_bad_values() -> None:
    c = RetryCountCondition()
    assert match(c, 0, {})
    assert match(c, {"gte": 1}, {"retry_count": "2"})
    assert not match(c, {"gte": 1}, {"retry_count": "many"})
    with pytest.raises(ConditionValueError, match="unknown operator 'gtee'"):
        c.compile({"gtee": 1}, CTX)
    with pytest.raises(ConditionValueError, match="needs an integer"):
        c.compile({"gte": "1"}, CTX)
    with pytest.raises(ConditionValueError):
        c.compile({}, CTX)
    with pytest.raises(ConditionValueError):
        c.compile(True, CTX)
    assert c.never_matches({"gte": 3, "lte": 1})
    assert c.never_matches({"eq": 1, "ne": 1})
    assert not c.never_matches({"gte": 1})
    assert c.covers({"gte": 1}, {"gte": 2, "lte": 5})
    assert not c.covers({"gte": 1, "ne": 3}, {"gte": 2})
    assert c.covers({"gte": 1, "ne": 3}, {"gte": 4})


def test_hour_range_plain_wrapping_and_all_day() -> None:
    c = HourRangeCondition()
    assert [h for h in range(24) if match(c, [0, 8], {"hour": h})] == list(range(8))
    assert [h for h in range(24) if match(c, [22, 6], {"hour": h})] == [0, 1, 2, 3, 4, 5, 22, 23]
    assert all(match(c, [0, 24], {"hour": h}) for h in range(24))
    assert c.never_matches([5, 5])
    assert not match(c, [0, 8], {"hour": "late"})
    assert match(c, [0, 8], {"hour": "3"})
    assert c.covers([22, 8], [0, 6]) and not c.covers([0, 6], [22, 8])
    for bad in ([0, 25], [24, 3], [-1, 3], [1], "0-8", [1.5, 3], [True, 3]):
        with pytest.raises(ConditionValueError):
            c.compile(bad, CTX)


def test_hour_range_uses_the_clock_without_an_hour_attribute() -> None:
    class FixedClock(HourClock):
        def hour(self) -> int:
            return 23

    ctx = CompileContext(timezone=None, clock=FixedClock())
    pred = HourRangeCondition().compile([22, 6], ctx)
    assert pred({}) and not pred({"hour": 12})


def test_match_globs_any_attribute_case_insensitive() -> None:
    from tacroute_conditions.match import MatchCondition

    c = MatchCondition()
    value = {"command": ["/chore", "/docs*"], "requested_model": "sonnet"}
    assert match(c, value, {"command": "/CHORE", "requested_model": "Sonnet"})
    assert match(c, value, {"command": "/docs_update", "requested_model": "sonnet"})
    assert not match(c, value, {"command": "/feature", "requested_model": "sonnet"})
    assert not match(c, value, {"command": "/chore"})  # every named attribute must match
    assert match(c, {"labels": "bug*"}, {"labels": ["docs", "Bugfix"]})
    assert match(c, {"issue": "4?"}, {"issue": 42})
    assert not match(c, {"labels": "*"}, {"labels": []})
    assert not match(c, {"command": "/chore"}, {"command": "/chore extra"})  # the whole value
    for bad in ({}, "x", {"command": []}, {"command": [1]}, {"command": 3}):
        with pytest.raises(ConditionValueError):
            c.compile(bad, CTX)


def test_match_in_a_config_routes(tmp_path: Any) -> None:
    from tacroute import ModelRouter, load_config

    path = tmp_path / "c.toml"
    path.write_text('[providers.a]\ncommand_template = ["true"]\n[providers.b]\ncommand_template = ["true"]\n'
                    '[routing]\nenabled = true\ndefault_provider = "a"\ndefault_model = "m"\n'
                    '[[routing.rules]]\nname = "chores"\npriority = 50\nprovider = "b"\nmodel = "cheap"\n'
                    'conditions = { match = { command = ["/chore", "/docs"], requested_model = "sonnet" } }\n')
    router = ModelRouter(load_config(path))
    assert router.route({"command": "/chore", "requested_model": "sonnet"}).model == "cheap"
    assert router.route({"command": "/bug", "requested_model": "sonnet"}).model == "m"
