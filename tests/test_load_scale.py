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
