"""Decisions kept per task attributes (tacroute.routing.warm): a repeated task is answered
without being checked or matched again, and is decided exactly as a fresh router decides it.

The reference is a naive loop over the rules after the attribute check; sequences of tasks
mix valid ones with invalid values equal to valid ones (True for 1, 14.0 for 14, a str
subclass, a tuple of labels), tasks that differ only in an attribute a plugin condition
reads, tasks without an hour (the clock's), and repeat each task so that the second
answer comes from the cache.
"""

from __future__ import annotations

import time as real_time
from typing import Any

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tacroute.clock
import tacroute_conditions.hour_range
import tacroute_conditions.labels
import tacroute_conditions.match
import tacroute_conditions.priority
import tacroute_conditions.retry_count
from tacroute import ConditionType, hookimpl
from tacroute.config import parse_config
from tacroute.errors import InvalidTaskError
from tacroute.plugins import Registry
from tacroute.routing import ModelRouter
from tacroute.routing.warm import KEPT
from tacroute.taskattrs import task_problem
from tacroute.types import CompileContext, ConditionIndex, Predicate, Task
from tacroute.whatif.inputs import AssumeAvailable

CALLS = {"tier": 0, "flag": 0}
FLAG = {"on": False}


def _tier(task: Task) -> Any:
    CALLS["tier"] += 1
    k = task.get("tier")
    return k if isinstance(k, str | int | float) else None  # True is 1 and 2.0 is 2 here


class Tier(ConditionType):
    """A plugin condition that says what it reads: ``tier = ["gold", 2]`` (names or numbers)."""

    name = "tier"

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        wanted = frozenset(value)
        return lambda task: _tier(task) in wanted

    def index(self, value: Any, ctx: CompileContext) -> ConditionIndex:
        return ConditionIndex(_tier, frozenset(value), reads=frozenset({"tier"}))


class Flag(ConditionType):
    """A plugin condition that reads state beside the task and does not say what it reads."""

    name = "flag"

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        def flag(task: Task) -> bool:
            CALLS["flag"] += 1
            return FLAG["on"] is value

        return flag


class TestConditions:
    @hookimpl
    def register_conditions(self, register: Any) -> None:
        register(Tier())
        register(Flag())


REGISTRY = Registry.from_plugins([tacroute_conditions.priority, tacroute_conditions.labels,
                                  tacroute_conditions.retry_count, tacroute_conditions.hour_range,
                                  tacroute_conditions.match, TestConditions()])


class Shouty(str):
    """Valid as a string, but what the conditions read of it (str()) is another value."""

    def __str__(self) -> str:
        return "CRITICAL"


def config_of(table: list[tuple[int, bool, dict[str, Any]]], timezone: str = "UTC") -> Any:
    rules = [{"name": f"r{i}", "priority": prio, "enabled": enabled, "conditions": conds,
              "provider": "p", "model": f"m{i}"} for i, (prio, enabled, conds) in enumerate(table)]
    text = ('[providers.p]\ntype = "claude-cli"\nenabled = true\n'
            f'[routing]\nenabled = true\ntimezone = "{timezone}"\ndefault_provider = "p"\n'
            'default_model = "default"\n\n'
            + tomlkit.dumps({"routing": {"rules": rules}}).replace("[routing]\n", "", 1))
    return parse_config(text, None, registry=REGISTRY)


def router_of(config: Any) -> ModelRouter:
    return ModelRouter(config, AssumeAvailable(config, REGISTRY), registry=REGISTRY)


def reference(config: Any, task: Task) -> list[str] | str:
    """The attribute check's message, or every enabled rule matching, in priority order."""
    problem = task_problem(task)
    if problem is not None:
        return problem
    return [r.name for r in config.rules_by_priority() if r.enabled and all(p(task) for p in r.predicates)]


def decided(router: ModelRouter, task: Task) -> list[str] | str:
    try:
        d = router.route(task)
    except InvalidTaskError as exc:
        return str(exc)
    return [r for r in (d.rule, *(c.rule for c in d.fallbacks)) if r is not None]


PRIORITIES = ["critical", "High", "low", "normal"]
LABELS = ["bug", "Docs", "docs", "security"]

conditions = st.fixed_dictionaries({}, optional={
    "priority": st.one_of(st.sampled_from(PRIORITIES), st.lists(st.sampled_from(PRIORITIES), max_size=3)),
    "labels": st.lists(st.sampled_from(LABELS), max_size=3),
    "retry_count": st.one_of(st.integers(0, 3), st.fixed_dictionaries({"gte": st.integers(0, 3)})),
    "hour_range": st.tuples(st.integers(0, 23), st.integers(0, 24)).map(list),
    "tier": st.lists(st.one_of(st.sampled_from(["gold", "Gold"]), st.integers(1, 2)), min_size=1, max_size=2),
})
rule_tables = st.lists(st.tuples(st.integers(0, 4), st.booleans(), conditions), max_size=10)

#: Values of each attribute: valid ones, and invalid or odd ones equal to them.
VALUES: dict[str, list[Any]] = {
    "priority": ["critical", "high", "High", Shouty("low"), 1, True, None],
    "labels": [["bug"], ["docs", "bug"], [], "docs", ("docs",), [Shouty("bug")], [1], ["bug", None], {"bug"}],
    "retry_count": [0, 1, 2, True, False, 1.0, -1, "1", " 2 ", None],
    "hour": [0, 7, 14, 23, 24, -1, True, 14.0, "14", None],
    "project": ["acme/api", 1, None],
    "user": ["ann", b"ann", None],
    "tier": ["gold", "Gold", 1, 2, True, 2.0, ["gold"], None],
}
tasks = st.fixed_dictionaries({}, optional={k: st.sampled_from(v) for k, v in VALUES.items()})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_tables, st.lists(tasks, min_size=1, max_size=10), st.randoms(use_true_random=False))
def test_kept_decisions_equal_the_naive_loop(table: list[tuple[int, bool, dict[str, Any]]],
                                            batch: list[Task], rng: Any) -> None:
    config = config_of(table)
    router = router_of(config)
    assert router._keyed  # every condition here says what it reads
    order = batch * 3
    rng.shuffle(order)
    for task in order:
        copy = dict(task)  # a new dict each time, as a caller's tasks are
        assert decided(router, copy) == reference(config, copy), task


def test_an_attribute_set_to_none_is_not_decided_as_an_absent_one() -> None:
    """retry_count counts an absent attribute as 0 but matches no number for None."""
    config = config_of([(0, True, {"retry_count": 0}), (1, True, {"tier": ["gold"]})])
    router = router_of(config)
    for task in ({}, {"retry_count": None}, {}, {"retry_count": None}, {"tier": None}, {}):
        assert decided(router, dict(task)) == reference(config, task), task


def test_an_invalid_task_right_after_an_equal_valid_one_is_refused() -> None:
    router = router_of(config_of([(1, True, {"retry_count": 1}), (0, True, {"hour_range": [14, 15]})]))
    pairs = [({"retry_count": 1}, {"retry_count": True}), ({"hour": 14}, {"hour": 14.0}),
             ({"priority": "high"}, {"priority": 1}), ({"labels": ["docs"]}, {"labels": [Shouty("docs")]}),
             ({"project": "a", "hour": 3}, {"project": 1, "hour": 3})]
    for valid, invalid in pairs:
        router.route(valid)
        router.route(dict(valid))  # kept
        problem = task_problem(invalid)
        if problem is None:  # a str subclass is valid: decided by what it reads as
            continue
        with pytest.raises(InvalidTaskError) as err:
            router.route(invalid)
        assert str(err.value) == problem


def test_a_str_subclass_is_decided_by_what_the_conditions_read_of_it() -> None:
    router = router_of(config_of([(1, True, {"priority": "critical"})]))
    assert router.route({"priority": "low"}).rule is None
    assert router.route({"priority": "low"}).rule is None  # kept
    assert router.route({"priority": Shouty("low")}).rule == "r0"  # str() is "CRITICAL"
    router = router_of(config_of([(1, True, {"labels": ["critical"]})]))
    assert router.route({"labels": ["low"]}).rule is None
    assert router.route({"labels": ["low"]}).rule is None  # kept
    assert router.route({"labels": [Shouty("low")]}).rule == "r0"


def test_tasks_differing_only_in_an_attribute_a_plugin_condition_reads() -> None:
    router = router_of(config_of([(1, True, {"tier": ["gold"], "priority": "high"})]))
    assert router.route({"priority": "high", "tier": "gold"}).rule == "r0"
    assert router.route({"priority": "high", "tier": "silver"}).rule is None
    assert router.route({"priority": "high", "tier": "gold"}).rule == "r0"
    assert router.route({"priority": "high"}).rule is None


def test_a_kept_task_is_neither_checked_nor_matched_again() -> None:
    router = router_of(config_of([(1, True, {"tier": ["gold"]}), (0, True, {"priority": "high"})]))
    router.route({"priority": "high", "tier": "gold"})
    before = CALLS["tier"]
    for _ in range(5):
        assert router.route({"priority": "high", "tier": "gold"}).rule == "r0"
    assert CALLS["tier"] == before
    router.route({"priority": "high", "tier": "lead"})  # a new key is matched
    assert CALLS["tier"] > before


def test_a_condition_that_does_not_say_what_it_reads_is_asked_every_time() -> None:
    router = router_of(config_of([(1, True, {"flag": True}), (0, True, {"priority": "high"})]))
    assert not router._keyed
    FLAG["on"] = False
    assert router.route({"priority": "high"}).rule == "r1"
    FLAG["on"] = True
    try:
        assert router.route({"priority": "high"}).rule == "r0"
    finally:
        FLAG["on"] = False


class FakeTime:
    """``tacroute.clock``'s view of ``time``, at a set instant."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def localtime(self, t: float) -> Any:
        return real_time.localtime(t)


def test_a_task_without_an_hour_follows_the_clock_across_the_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    day = 1_700_000_000 - 1_700_000_000 % 86400
    fake = FakeTime(day + 13 * 3600 - 1)            # 12:59:59 UTC
    monkeypatch.setattr(tacroute.clock, "time", fake)
    router = router_of(config_of([(1, True, {"hour_range": [13, 14]})]))
    task = {"priority": "high"}
    assert router.route(task).rule is None
    assert router.route(dict(task)).rule is None  # kept, for 12:xx
    fake.now += 1                                   # 13:00:00
    assert router.route(dict(task)).rule == "r0"
    assert router.route({"priority": "high", "hour": 12}).rule is None  # the task's hour wins
    fake.now += 3600                                # 14:00:00
    assert router.route(dict(task)).rule is None


def test_the_kept_decisions_do_not_grow_without_bound() -> None:
    router = router_of(config_of([(1, True, {"labels": ["docs"]})]))
    for i in range(KEPT * 2 + 10):
        assert router.route({"labels": [f"l{i}"]}).rule is None
        assert len(router._seen) <= KEPT
    assert router.route({"labels": ["docs"]}).rule == "r0"


def test_weighted_rules_still_draw_each_time() -> None:
    config = parse_config(
        '[providers.p]\ntype = "claude-cli"\nenabled = true\n'
        '[routing]\nenabled = true\ndefault_provider = "p"\ndefault_model = "default"\n'
        '[[routing.rules]]\nname = "w"\nstrategy = "weighted"\nconditions = { priority = "high" }\n'
        'targets = [{ model = "a", weight = 1 }, { model = "b", weight = 1 }]\n', None, registry=REGISTRY)
    router = router_of(config)
    seen = {router.route({"priority": "high"}).model for _ in range(200)}
    assert seen == {"a", "b"}
    assert not router._seen
