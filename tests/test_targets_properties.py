"""Property tests: configs with random targets, strategies, requires, pricing and estimate
tables either load (and then route) or raise ConfigError, nothing else."""

from __future__ import annotations

import random
from typing import Any

import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacroute.config import parse_config
from tacroute.errors import ConfigError
from tacroute.plugins import Registry
from tacroute.routing import ModelRouter
from tacroute.routing.stats import DictStats
from tacroute.types import ModelStats
from tacroute.whatif.inputs import AssumeAvailable

REGISTRY = Registry.load(env={"TACROUTE_LOAD_PLUGINS": "priority,labels,retry_count,hour_range,"
                                                       "claude_cli,openrouter"})

HEAD = """
[providers.claude-cli]
[providers.openrouter]
[routing]
enabled = true
default_provider = "claude-cli"
default_model = "claude-sonnet-4-5"
"""

scalars = st.one_of(
    st.integers(min_value=-3, max_value=30), st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["claude-haiku-4", "claude-opus-4", "gpt-4o", "claude-cli", "openrouter", "nope",
                     "ordered", "weighted", "cheapest", ""]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["model", "weight", "x"]), inner, max_size=2),
), max_leaves=5)
targets = st.fixed_dictionaries({}, optional={
    "provider": st.one_of(st.sampled_from(["claude-cli", "openrouter", "nope"]), values),
    "model": st.one_of(st.sampled_from(["claude-haiku-4", "claude-opus-4", "gpt-4o", "mystery"]), values),
    "weight": st.one_of(st.floats(min_value=-1, max_value=5), values),
    "extra": values,
})
good_targets = st.fixed_dictionaries({"model": st.sampled_from(["claude-haiku-4", "claude-opus-4", "gpt-4o"])},
                                     optional={"provider": st.sampled_from(["claude-cli", "openrouter"]),
                                               "weight": st.floats(min_value=0, max_value=5)})
rules = st.fixed_dictionaries({"name": st.sampled_from(["a", "b", "c"])}, optional={
    "model": st.one_of(st.just("claude-haiku-4"), values),
    "priority": st.integers(0, 100),
    "conditions": st.sampled_from([{}, {"priority": "low"}, {"hour_range": [0, 8]}]),
    "targets": st.one_of(st.lists(good_targets, min_size=1, max_size=3),
                         st.lists(st.one_of(targets, values), max_size=4), values),
    "strategy": st.one_of(st.sampled_from(["ordered", "weighted", "cheapest", "fastest"]),
                          st.sampled_from(["ordered", "weighted", "cheapest"]), values),
    "requires": st.one_of(st.fixed_dictionaries({}, optional={
        "min_success_rate": st.floats(0, 1), "max_p95_s": st.floats(1, 1000),
        "min_samples": st.integers(0, 40)}), st.fixed_dictionaries({}, optional={
        "min_success_rate": st.one_of(st.floats(-1, 2), values),
        "max_p95_s": st.one_of(st.floats(-10, 1000), values),
        "min_samples": st.one_of(st.integers(-2, 50), values),
        "p99": values,
    }), values),
})
prices = st.dictionaries(st.sampled_from(["mystery", "claude-haiku-4", "gpt-4o"]), st.one_of(
    st.fixed_dictionaries({}, optional={"input": st.one_of(st.floats(-1, 20), values),
                                        "output": st.one_of(st.floats(-1, 80), values),
                                        "cache_read": values, "cache_wrte": values}), values), max_size=2)
documents = st.fixed_dictionaries({"rules": st.lists(rules, max_size=3)}, optional={
    "pricing": st.one_of(prices, values),
    "estimate": st.one_of(st.dictionaries(st.sampled_from(["input_tokens", "output_tokens", "foo"]),
                                          st.one_of(st.integers(-5, 10**6), values), max_size=2), values),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.integers(0, 1000))
def test_target_configs_load_and_route_or_raise_config_error(doc: dict[str, Any], seed: int) -> None:
    body = {"routing": {"rules": doc["rules"]}}
    extra = {k: v for k, v in doc.items() if k != "rules"}
    try:
        text = tomlkit.dumps(extra) + "\n" + HEAD + "\n" + tomlkit.dumps(body).replace("[routing]\n", "", 1)
    except Exception:  # noqa: BLE001 - some generated values are not representable in TOML
        return
    try:
        cfg = parse_config(text, None, registry=REGISTRY)
    except ConfigError as exc:
        assert str(exc)
        return
    stats = DictStats({("claude-cli", "claude-haiku-4"): ModelStats(30, 0.5, 900.0)})
    router = ModelRouter(cfg, AssumeAvailable(cfg, REGISTRY), registry=REGISTRY, stats=stats,
                         rng=random.Random(seed))
    for task in ({}, {"priority": "low", "hour": 3}, {"priority": "high", "hour": 12}):
        d = router.route(task)
        assert d.provider in cfg.providers
        assert d.model
        assert all(c.available for c in d.fallbacks) and not any(c.available for c in d.skipped)


@st.composite
def valid_rules(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(1, 4))):
        rule: dict[str, Any] = {"name": f"r{i}", "priority": draw(st.integers(0, 100)),
                                "conditions": draw(st.sampled_from([{}, {"priority": "low"},
                                                                    {"hour_range": [0, 8]}]))}
        strategy = draw(st.sampled_from(["ordered", "weighted", "cheapest", None]))
        if strategy is None:
            rule["model"] = draw(st.sampled_from(["claude-haiku-4", "gpt-4o"]))
        else:
            ts = draw(st.lists(good_targets, min_size=1, max_size=4,
                               unique_by=lambda t: (t.get("provider", "claude-cli"), t["model"])))
            if strategy == "weighted" and not any(t.get("weight", 1.0) > 0 for t in ts):
                ts[0]["weight"] = 1.0
            if strategy != "weighted":
                for t in ts:
                    t.pop("weight", None)
            rule["targets"], rule["strategy"] = ts, strategy
            if strategy == "cheapest" and draw(st.booleans()):
                rule["requires"] = {"min_success_rate": draw(st.floats(0, 1)),
                                    "max_p95_s": draw(st.floats(1, 1000)),
                                    "min_samples": draw(st.integers(0, 40))}
        out.append(rule)
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_rules(), st.integers(0, 1000))
def test_valid_target_configs_load_and_route(rules_: list[dict[str, Any]], seed: int) -> None:
    text = HEAD + "\n" + tomlkit.dumps({"routing": {"rules": rules_}}).replace("[routing]\n", "", 1)
    cfg = parse_config(text, None, registry=REGISTRY)
    assert [len(r.targets) for r in cfg.rules] == [len(r.get("targets", ())) for r in rules_]
    stats = DictStats({("claude-cli", "claude-haiku-4"): ModelStats(30, 0.5, 900.0)})
    router = ModelRouter(cfg, AssumeAvailable(cfg, REGISTRY), registry=REGISTRY, stats=stats,
                         rng=random.Random(seed))
    for task in ({}, {"priority": "low", "hour": 3}, {"priority": "high", "hour": 12}):
        d = router.route(task)
        assert d.available
        cands = [(c.provider, c.model) for c in d.candidates]
        assert len(cands) == len(set(cands))  # no candidate twice
        assert all(not c.available and c.reason for c in d.skipped)
