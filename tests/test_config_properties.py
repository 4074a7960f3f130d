"""Property tests: any config either loads or raises ConfigError, nothing else."""

from __future__ import annotations

from typing import Any

import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacroute.config import Config, parse_config
from tacroute.errors import ConfigError
from tacroute.plugins import Registry
from testkit.seed import seed_text

REGISTRY = Registry.load(env={"TACROUTE_LOAD_PLUGINS": "priority,labels,retry_count,hour_range,"
                                                       "claude_cli,openrouter"})

scalars = st.one_of(
    st.integers(min_value=-5, max_value=30), st.booleans(), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["critical", "high", "docs", "claude-cli", "openrouter", "{model}", "{nope}",
                     "{prompt_file}", "{", "claude", "x"]),
    st.text(max_size=6),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["gte", "lte", "eq", "gt", "lt", "ne", "x"]), inner, max_size=3),
), max_leaves=6)

condition_tables = st.dictionaries(
    st.sampled_from(["priority", "labels", "retry_count", "hour_range", "weekday", "bogus"]), values, max_size=3)
rule_tables = st.fixed_dictionaries({}, optional={
    "name": st.one_of(st.sampled_from(["a", "b", "c"]), values),
    "priority": st.one_of(st.integers(-10, 200), values),
    "conditions": st.one_of(condition_tables, values),
    "provider": st.one_of(st.sampled_from(["claude-cli", "openrouter", "nope"]), values),
    "model": st.one_of(st.sampled_from(["claude-opus-4", "m"]), values),
    "enabled": st.one_of(st.booleans(), values),
    "surprise": values,
})
provider_tables = st.fixed_dictionaries({}, optional={
    "type": st.one_of(st.sampled_from(["claude-cli", "openrouter", "gemini"]), values),
    "enabled": st.one_of(st.booleans(), values),
    "command_template": st.one_of(st.lists(st.sampled_from(["claude", "-p", "{prompt_file}", "{model}",
                                                            "{bad}", "{"]), max_size=4), values),
    "stdin": st.one_of(st.sampled_from(["{prompt_file}", "{x}"]), values),
    "requires_api_key": st.one_of(st.booleans(), values),
    "api_key_env": st.one_of(st.just("KEY"), values),
    "env": st.one_of(st.dictionaries(st.sampled_from(["A", "B"]), values, max_size=2), values),
    "timeout": st.one_of(st.integers(-1, 100), values),
    "output_parser": values,
})
documents = st.fixed_dictionaries({}, optional={
    "providers": st.one_of(st.dictionaries(st.sampled_from(["claude-cli", "openrouter", "x"]),
                                           st.one_of(provider_tables, values), max_size=3), values),
    "llm": st.one_of(st.fixed_dictionaries({}, optional={"provider": values, "model_default": values}), values),
    "routing": st.one_of(st.fixed_dictionaries({}, optional={
        "enabled": st.one_of(st.booleans(), values),
        "default_provider": st.one_of(st.sampled_from(["claude-cli", "openrouter"]), values),
        "default_model": st.one_of(st.just("m"), values),
        "timezone": st.one_of(st.sampled_from(["UTC", "Europe/Berlin", "Nowhere/Land", "", "../etc"]), values),
        "rules": st.one_of(st.lists(st.one_of(rule_tables, values), max_size=4), values),
    }), values),
})


def check(text: str) -> None:
    try:
        cfg = parse_config(text, None, registry=REGISTRY)
    except ConfigError as exc:
        assert str(exc)
        return
    assert isinstance(cfg, Config)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_structured_configs_load_or_raise_config_error(doc: dict[str, Any]) -> None:
    try:
        text = tomlkit.dumps(doc)
    except Exception:  # noqa: BLE001 - some generated values are not representable in TOML
        return
    check(text)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(seed_text())), st.integers(min_value=0, max_value=40),
       st.text(max_size=12))
def test_mangled_seed_text_loads_or_raises_config_error(start: int, length: int, junk: str) -> None:
    text = seed_text()
    check(text[:start] + junk + text[start + length:])
