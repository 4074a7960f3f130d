"""Property tests: the indexed router matches exactly what a naive loop over the rules matches.

The reference is the simplest router there is: every enabled rule in priority
order, every predicate called. Random rule tables mix the four indexed
built-ins, the ``match`` condition (no index: a plain predicate), a plugin
condition defined here without an index, one with an index of its own (keys and
ranges), and disabled rules; random tasks use odd cases, numbers as text,
missing attributes and the clock's hour.
"""

from __future__ import annotations

from typing import Any

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tacroute_conditions.hour_range
import tacroute_conditions.labels
import tacroute_conditions.match
import tacroute_conditions.priority
import tacroute_conditions.retry_count
from tacroute import ConditionType, hookimpl
from tacroute.config import parse_config
from tacroute.plugins import Registry
from tacroute.routing import ModelRouter
from tacroute.routing.index import RuleIndex
from tacroute.types import CompileContext, ConditionIndex, Predicate, Task
from tacroute.whatif.inputs import AssumeAvailable


class OddIssue(ConditionType):
    """A plugin condition with no index: ``odd_issue = true`` (issue number odd)."""

    name = "odd_issue"

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        return lambda task: isinstance(task.get("issue"), int) and (task["issue"] % 2 == 1) == value


def _size_key(task: Task) -> Any:
    s = task.get("size")
    return s.lower() if isinstance(s, str) else s


class Size(ConditionType):
    """A plugin condition with its own index: ``size = ["s", 3]`` (names, or whole numbers >= n)."""

    name = "size"

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        names = {v for v in value if isinstance(v, str)}
        floors = [v for v in value if isinstance(v, int)]

        def size(task: Task) -> bool:
            k = _size_key(task)
            return k in names or (type(k) is int and any(k >= f for f in floors))

        return size

    def index(self, value: Any, ctx: CompileContext) -> ConditionIndex:
        return ConditionIndex(_size_key, frozenset(v for v in value if isinstance(v, str)),
                              tuple((float(v), float("inf")) for v in value if isinstance(v, int)))


class TestConditions:
    @hookimpl
    def register_conditions(self, register: Any) -> None:
        register(OddIssue())
        register(Size())


REGISTRY = Registry.from_plugins([tacroute_conditions.priority, tacroute_conditions.labels,
                                  tacroute_conditions.retry_count, tacroute_conditions.hour_range,
                                  tacroute_conditions.match, TestConditions()])

PRIORITIES = ["critical", "High", "low", "NORMAL", "normal"]
LABELS = ["bug", "Docs", "docs", "security", "CHORE"]
OPS = ["eq", "ne", "gt", "gte", "lt", "lte"]

conditions = st.fixed_dictionaries({}, optional={
    "priority": st.one_of(st.sampled_from(PRIORITIES), st.lists(st.sampled_from(PRIORITIES), max_size=3)),
    "labels": st.lists(st.sampled_from(LABELS), max_size=3),
    "retry_count": st.one_of(st.integers(-1, 3), st.dictionaries(st.sampled_from(OPS), st.integers(-1, 3),
                                                                 min_size=1, max_size=3)),
    "hour_range": st.tuples(st.integers(0, 23), st.integers(0, 24)).map(list),
    "match": st.fixed_dictionaries({"command": st.sampled_from(["/chore*", ["/docs", "/fix?"], "*"])}),
    "odd_issue": st.booleans(),
    "size": st.lists(st.one_of(st.sampled_from(["S", "m", "xl"]), st.integers(0, 6)), min_size=1, max_size=3),
})
rule_tables = st.lists(st.tuples(st.integers(0, 4), st.booleans(), conditions), max_size=14)

tasks = st.fixed_dictionaries({}, optional={
    "priority": st.sampled_from([*PRIORITIES, "CRITICAL", "none"]),
    "labels": st.one_of(st.lists(st.sampled_from([*LABELS, "BUG", "other"]), max_size=3),
                        st.sampled_from(LABELS)),
    "retry_count": st.one_of(st.integers(0, 4), st.sampled_from(["0", "2", " 3 "])),
    "hour": st.one_of(st.integers(0, 23), st.sampled_from(["7", "23"])),
    "command": st.sampled_from(["/chore", "/DOCS", "/fixx", "/fix1", "build"]),
    "issue": st.integers(0, 9),
    "size": st.one_of(st.sampled_from(["s", "M", "XL", "huge"]), st.integers(-1, 8)),
})


def reference(config: Any, task: Task) -> list[str]:
    """The naive router: every enabled rule in priority order, every predicate called."""
    return [r.name for r in config.rules_by_priority()
            if r.enabled and all(p(task) for p in r.predicates)]


def config_of(table: list[tuple[int, bool, dict[str, Any]]]) -> Any:
    rules = [{"name": f"r{i}", "priority": prio, "enabled": enabled, "conditions": conds,
              "provider": "p", "model": f"m{i}"} for i, (prio, enabled, conds) in enumerate(table)]
    text = ('[providers.p]\ntype = "claude-cli"\nenabled = true\n'
            '[routing]\nenabled = true\ndefault_provider = "p"\ndefault_model = "default"\n\n'
            + tomlkit.dumps({"routing": {"rules": rules}}).replace("[routing]\n", "", 1))
    return parse_config(text, None, registry=REGISTRY)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_tables, st.lists(tasks, min_size=1, max_size=8))
def test_indexed_matching_equals_the_naive_loop(table: list[tuple[int, bool, dict[str, Any]]],
                                                 batch: list[Task]) -> None:
    config = config_of(table)
    router = ModelRouter(config, AssumeAvailable(config, REGISTRY), registry=REGISTRY)
    enabled = [r for r in config.rules_by_priority() if r.enabled]
    index = RuleIndex(enabled, by_groups=True)  # the bitsets whatever the size (the router may
    # call small tables' predicates)
    for task in batch * 2:  # twice: the second decision comes from the cache
        want = reference(config, task)
        mask = index.match(task)
        assert [r.name for i, r in enumerate(enabled) if mask >> i & 1] == want
        d = router.route(task)  # every rule has its own model: the fallbacks list every match
        assert [d.rule, *(c.rule for c in d.fallbacks)] == [*want, None]


@pytest.mark.parametrize("sizes", [[0, 0], [2, 0, 5], [1, 1, "s", 1]])
def test_overlapping_ranges_of_one_rule_still_match(sizes: list[Any]) -> None:
    """A plugin's index may give one rule equal or overlapping ranges (``size = [0, 0]``)."""
    config = config_of([(0, True, {"size": sizes})])
    index = RuleIndex([r for r in config.rules_by_priority() if r.enabled], by_groups=True)
    for value in (-1, 0, 1, 2, 5, 8, "s"):
        task = {"size": value}
        assert bool(index.match(task) & 1) == (reference(config, task) == ["r0"]), value


def test_rules_without_an_index_keep_their_predicates_and_the_order() -> None:
    config = config_of([(1, True, {"odd_issue": True}), (3, True, {"priority": "low", "odd_issue": False}),
                        (2, False, {}), (0, True, {})])
    router = ModelRouter(config, AssumeAvailable(config, REGISTRY), registry=REGISTRY)
    d = router.route({"priority": "LOW", "issue": 4})
    assert [d.rule, *(c.rule for c in d.fallbacks)] == ["r1", "r3", None]
    d = router.route({"priority": "LOW", "issue": 5})
    assert [d.rule, *(c.rule for c in d.fallbacks)] == ["r0", "r3", None]
