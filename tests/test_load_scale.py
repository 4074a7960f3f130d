"""Loading a large rule table: the shortcuts taken per rule keep every answer and message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tacroute.config import parse_config
from tacroute.errors import ConfigError
from tacroute.plugins import Registry
from tacroute.routing.targets import compile_rules
from testkit.seed import SEED_CONFIG

REG_ENV = {"TACROUTE_LOAD_PLUGINS": "priority,labels,retry_count,hour_range"}


def config_with(rules: str) -> str:
    return SEED_CONFIG.replace("enabled = false", "enabled = true") + rules


def test_a_boolean_is_still_no_integer_in_a_rule() -> None:
    text = config_with('\n[[routing.rules]]\nname = "b"\npriority = true\nenabled = 1\nmodel = "m"\n')
    with pytest.raises(ConfigError) as err:
        parse_config(text, Path("c.toml"), registry=Registry.load(env=REG_ENV))
    msg = str(err.value)
    assert "priority: must be an integer, not true or false (True)" in msg
    assert "enabled: must be true or false, not an integer (1)" in msg


def test_each_provider_is_asked_about_once_per_build() -> None:
    rules = "".join(f'\n[[routing.rules]]\nname = "r{i}"\nprovider = "{p}"\nmodel = "m"\n'
                    f'conditions = {{ hour_range = [{i % 24}, {(i * 7) % 25}] }}\n'
                    for i, p in enumerate(["claude-cli", "openrouter"] * 50))
    config = parse_config(config_with(rules), registry=Registry.load(env=REG_ENV))
    asked: list[str] = []

    def availability(name: str) -> tuple[bool, str | None]:
        asked.append(name)
        return name == "claude-cli", None if name == "claude-cli" else "no key"

    sets, _ = compile_rules(config.rules, availability, None, config.raw)
    assert sorted(asked) == ["claude-cli", "openrouter"]
    assert [ts.candidates[0].available for ts in sets] == [r.provider == "claude-cli" for r in config.rules]
    assert {ts.candidates[0].reason for ts in sets if not ts.candidates[0].available} == {"no key"}


def test_rules_sharing_an_hour_range_match_as_each_alone() -> None:
    reg = Registry.load(env=REG_ENV)
    ranges = [(22, 6), (0, 24), (5, 5), (9, 17), (22, 6), (9, 17), (0, 0), (23, 24)]
    rules = "".join(f'\n[[routing.rules]]\nname = "r{i}"\nmodel = "m{i}"\n'
                    f'conditions = {{ hour_range = [{a}, {b}] }}\n' for i, (a, b) in enumerate(ranges))
    config = parse_config(config_with(rules), registry=reg)
    for rule, (a, b) in zip(config.rules, ranges):
        want = [(a <= h < b) if a <= b else (h >= a or h < b) for h in range(24)]
        assert [rule.predicates[0]({"hour": h}) for h in range(24)] == want
        assert rule.indexes[0] is not None
        assert rule.indexes[0].keys == frozenset(h for h in range(24) if want[h])


def test_the_index_of_a_large_table_matches_as_the_rules_predicates() -> None:
    """Bitsets built from positions (many rules per key) give what calling every predicate gives."""
    import random

    from tacroute.routing.index import RuleIndex

    rng = random.Random(11)
    labels = [f"l{i}" for i in range(40)]
    rules = []
    for i in range(1500):
        conds = []
        if rng.random() < 0.6:
            conds.append(f'labels = ["{rng.choice(labels)}", "{rng.choice(labels)}"]')
        if rng.random() < 0.4:
            conds.append(f'priority = "{rng.choice(["high", "low", "normal"])}"')
        if rng.random() < 0.3:
            conds.append(f"retry_count = {{ gte = {rng.randint(0, 3)}, lte = {rng.randint(2, 6)}, ne = 3 }}")
        if rng.random() < 0.2:
            conds.append(f"hour_range = [{rng.randint(0, 23)}, {rng.randint(0, 24)}]")
        rules.append(f'\n[[routing.rules]]\nname = "r{i}"\nmodel = "m"\nconditions = {{ {", ".join(conds)} }}\n')
    config = parse_config(config_with("".join(rules)), registry=Registry.load(env=REG_ENV))
    table = [r for r in config.rules_by_priority() if r.enabled]
    index = RuleIndex(table)
    for _ in range(300):
        task = {"labels": rng.sample(labels, rng.randint(0, 3)), "priority": rng.choice(["high", "low", "x"]),
                "retry_count": rng.randint(0, 7), "hour": rng.randint(0, 23)}
        expected = sum(1 << i for i, r in enumerate(table) if all(p(task) for p in r.predicates))
        assert index.match(task) == expected
