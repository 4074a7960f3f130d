"""The example condition plugin, installed like any third-party plugin."""

from __future__ import annotations

from pathlib import Path

import pytest

from tacroute import ConditionValueError
from tacroute.config import parse_config
from tacroute.plugins import Registry
from tacroute.routing import ModelRouter

CONFIG = """
[providers.claude-cli]
command_template = ["sh", "-c", "true"]
[routing]
enabled = true
default_provider = "claude-cli"
default_model = "claude-sonnet-4-5"
[[routing.rules]]
name = "weekend-haiku"
priority = 50
conditions = { weekday = ["sat", "Sunday"] }
model = "claude-haiku-4"
"""


def test_weekday_plugin_is_discovered_through_its_entry_point() -> None:
    reg = Registry.load(env={})
    assert "weekday" in reg.conditions
    assert reg.plugins["weekday"].distribution == "tacroute-weekday"


def test_weekday_routes_by_task_attribute() -> None:
    reg = Registry.load(env={})
    router = ModelRouter(parse_config(CONFIG, Path("w.toml"), registry=reg), registry=reg)
    assert router.route({"weekday": "sun"}).model == "claude-haiku-4"
    assert router.route({"weekday": "Wednesday"}).model == "claude-sonnet-4-5"


def test_weekday_bad_value_is_a_config_error() -> None:
    reg = Registry.load(env={})
    with pytest.raises(Exception, match="unknown day 'funday'") as info:
        parse_config(CONFIG.replace('"Sunday"', '"funday"'), Path("w.toml"), registry=reg)
    assert "routing.rules[0].conditions.weekday" in str(info.value)
    with pytest.raises(ConditionValueError):
        reg.conditions["weekday"].compile(5, None)  # type: ignore[arg-type]
