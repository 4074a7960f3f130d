"""Rules with several targets: validation, ordered, weighted and cheapest selection."""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

import pytest

from tacroute.config import parse_config
from tacroute.errors import ConfigError
from tacroute.plugins import Registry
from tacroute.providers import ProviderManager
from tacroute.routing import ModelRouter
from tacroute.routing.stats import DictStats, check_requirements
from tacroute.types import ModelStats

HEAD = f"""
[providers.claude-cli]
command_template = [{sys.executable!r}, "{{prompt_file}}"]

[providers.openrouter]
command_template = [{sys.executable!r}, "{{prompt_file}}"]
api_key_env = "OPENROUTER_API_KEY"

[routing]
enabled = true
default_provider = "claude-cli"
default_model = "claude-sonnet-4-5"
"""

CHEAPEST = HEAD + """
[[routing.rules]]
name = "low-cheapest"
priority = 50
conditions = { priority = "low" }
strategy = "cheapest"
targets = [
    { model = "claude-sonnet-4-5" },
    { model = "claude-haiku-4" },
    { provider = "openrouter", model = "openai/gpt-4o-mini" },
]
requires = { min_success_rate = 0.9, max_p95_s = 600, min_samples = 20 }
"""


@pytest.fixture(autouse=True)
def _no_pricing_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TACROUTE_PRICING_CACHE", str(tmp_path / "no-cache.json"))


def router(text: str, reg: Registry, *, key: bool = True, stats: DictStats | None = None,
           seed: int = 7) -> ModelRouter:
    config = parse_config(text, Path("t.toml"), registry=reg)
    env = {"OPENROUTER_API_KEY": "x"} if key else {}
    return ModelRouter(config, ProviderManager(config, reg, env=env), registry=reg, stats=stats,
                       rng=random.Random(seed))


def error_of(text: str, reg: Registry) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("t.toml"), registry=reg)
    return str(info.value)


# ------------------------------------------------------------------ validation
def test_targets_load_with_default_provider(builtin_registry: Registry) -> None:
    config = parse_config(CHEAPEST, Path("t.toml"), registry=builtin_registry)
    rule = config.rules[0]
    assert [(t.provider, t.model) for t in rule.targets] == [
        ("claude-cli", "claude-sonnet-4-5"), ("claude-cli", "claude-haiku-4"),
        ("openrouter", "openai/gpt-4o-mini")]
    assert rule.strategy == "cheapest"
    assert rule.requires is not None and rule.requires.min_samples == 20
    assert (rule.provider, rule.model) == ("claude-cli", "claude-sonnet-4-5")


def test_bad_targets_name_file_line_key_and_what_is_valid(builtin_registry: Registry) -> None:
    text = HEAD + """
[[routing.rules]]
name = "x"
strategy = "fastest"
model = "claude-haiku-4"
targets = [{ provider = "nope", model = "a" }, { model = "b", wieght = 2 }, { model = "c", weight = -1 },
           { provider = "claude-cli" }]
requires = { min_success_rate = 1.5 }
"""
    msg = error_of(text, builtin_registry)
    assert "t.toml:16: routing.rules[0].strategy: unknown strategy 'fastest'; valid strategies: " \
           "'ordered', 'weighted', 'cheapest'" in msg
    assert "routing.rules[0].model: a rule has either provider/model or targets" in msg
    assert "routing.rules[0].targets[0].provider: unknown provider 'nope'; configured providers: " \
           "claude-cli, openrouter" in msg
    assert "targets[1].wieght: unknown key in a target (provider, model, weight) (did you mean `weight`?); valid keys are: " \
           "model, provider, weight" in msg
    assert "targets[2].weight: must be a number >= 0" in msg
    assert "targets[3]: has no model" in msg
    assert "routing.rules[0].requires: requires is only used by strategy = \"cheapest\"" in msg


def test_requires_values_and_duplicates(builtin_registry: Registry) -> None:
    text = HEAD + """
[[routing.rules]]
name = "x"
strategy = "cheapest"
targets = [{ model = "claude-haiku-4" }, { provider = "claude-cli", model = "claude-haiku-4" }]
requires = { min_success_rate = 1.5, max_p95_s = 0, min_samples = -1, p99 = 3 }
"""
    msg = error_of(text, builtin_registry)
    assert "targets[1]: duplicate target claude-cli/claude-haiku-4 (also routing.rules[0].targets[0])" in msg
    assert "requires.min_success_rate: must be a fraction from 0 to 1" in msg
    assert "requires.max_p95_s: must be a positive number of seconds" in msg
    assert "requires.min_samples: must be an integer >= 0" in msg
    assert "requires.p99: unknown key in requires; valid keys are: max_p95_s, min_samples, " \
           "min_success_rate" in msg


def test_cheapest_needs_prices_and_strategy_needs_targets(builtin_registry: Registry) -> None:
    text = HEAD + """
[[routing.rules]]
name = "x"
strategy = "cheapest"
targets = [{ model = "no-such-model" }]

[[routing.rules]]
name = "y"
model = "claude-haiku-4"
strategy = "weighted"
"""
    msg = error_of(text, builtin_registry)
    assert ("routing.rules[0].targets[0].model: no price known for model 'no-such-model'" in msg
            and '[pricing."no-such-model"]' in msg)
    assert "routing.rules[1].strategy: strategy needs targets" in msg
    # A config price makes it valid.
    parse_config(text.split("[[routing.rules]]\nname = \"y\"")[0]
                 + '\n[pricing."no-such-model"]\ninput = 1\noutput = 2\n',
                 Path("t.toml"), registry=builtin_registry)


def test_weighted_needs_a_positive_weight(builtin_registry: Registry) -> None:
    text = HEAD + """
[[routing.rules]]
name = "x"
strategy = "weighted"
targets = [{ model = "claude-haiku-4", weight = 0 }]
"""
    assert "strategy 'weighted' needs at least one target with weight > 0" in error_of(text, builtin_registry)


# -------------------------------------------------------------------- ordered
def test_ordered_targets_then_later_rules_then_default(builtin_registry: Registry) -> None:
    text = HEAD + """
[[routing.rules]]
name = "two"
priority = 10
targets = [{ provider = "openrouter", model = "openai/gpt-4o" }, { model = "claude-haiku-4" }]

[[routing.rules]]
name = "later"
priority = 5
model = "claude-opus-4"
"""
    d = router(text, builtin_registry).route({})
    assert (d.provider, d.model, d.rule) == ("openrouter", "openai/gpt-4o", "two")
    assert [(c.provider, c.model, c.rule) for c in d.fallbacks] == [
        ("claude-cli", "claude-haiku-4", "two"), ("claude-cli", "claude-opus-4", "later"),
        ("claude-cli", "claude-sonnet-4-5", None)]
    assert "strategy ordered: target 1 of 2" in d.reason
    # Without the OpenRouter key its target is skipped, with the reason.
    d = router(text, builtin_registry, key=False).route({})
    assert (d.provider, d.model) == ("claude-cli", "claude-haiku-4")
    assert [(c.model, c.reason) for c in d.skipped] == [("openai/gpt-4o", "OPENROUTER_API_KEY not set")]


# ------------------------------------------------------------------- weighted
def test_weighted_proportions_follow_weights_with_a_fixed_seed(builtin_registry: Registry) -> None:
    text = HEAD + """
[[routing.rules]]
name = "balance"
strategy = "weighted"
targets = [{ model = "claude-sonnet-4-5", weight = 3 },
           { provider = "openrouter", model = "openai/gpt-4o", weight = 1 },
           { model = "claude-haiku-4", weight = 0 }]
"""
    r = router(text, builtin_registry, seed=42)
    n = 20_000
    counts = Counter(r.route({}).model for _ in range(n))
    assert counts["claude-haiku-4"] == 0
    assert abs(counts["claude-sonnet-4-5"] / n - 0.75) < 0.02
    assert abs(counts["openai/gpt-4o"] / n - 0.25) < 0.02
    # The others stay fallbacks, weight 0 included; the same seed gives the same draws.
    d = r.route({})
    assert {c.model for c in d.fallbacks} >= {"claude-haiku-4"}
    r1, r2 = router(text, builtin_registry, seed=5), router(text, builtin_registry, seed=5)
    assert [r1.route({}).model for _ in range(50)] == [r2.route({}).model for _ in range(50)]


def test_weighted_draws_only_among_available_targets(builtin_registry: Registry) -> None:
    text = HEAD + """
[[routing.rules]]
name = "balance"
strategy = "weighted"
targets = [{ provider = "openrouter", model = "openai/gpt-4o", weight = 9 },
           { model = "claude-haiku-4", weight = 1 }]
"""
    r = router(text, builtin_registry, key=False)
    assert {r.route({}).model for _ in range(200)} == {"claude-haiku-4"}


# ------------------------------------------------------------------- cheapest
def test_cheapest_without_samples_tries_the_cheapest(builtin_registry: Registry) -> None:
    d = router(CHEAPEST, builtin_registry).route({"priority": "low"})
    # Reference task 50,000 in / 5,000 out: gpt-4o-mini $0.0105, haiku $0.075, sonnet $0.225.
    assert (d.provider, d.model) == ("openrouter", "openai/gpt-4o-mini")
    assert [c.model for c in d.fallbacks] == ["claude-haiku-4", "claude-sonnet-4-5"]
    assert "the cheapest target meeting the requirements ($0.0105" in d.reason
    assert "only 0 recorded run(s)" in d.reason


def test_cheapest_skips_targets_with_enough_bad_samples(builtin_registry: Registry) -> None:
    stats = DictStats({
        ("openrouter", "openai/gpt-4o-mini"): ModelStats(samples=50, success_rate=0.70, p95_duration_s=100),
        ("claude-cli", "claude-haiku-4"): ModelStats(samples=40, success_rate=0.95, p95_duration_s=900),
        ("claude-cli", "claude-sonnet-4-5"): ModelStats(samples=30, success_rate=0.97, p95_duration_s=300),
    })
    d = router(CHEAPEST, builtin_registry, stats=stats).route({"priority": "low"})
    assert (d.provider, d.model) == ("claude-cli", "claude-sonnet-4-5")
    reasons = {c.model: c.reason for c in d.skipped}
    assert reasons["openai/gpt-4o-mini"] == "unmet requirement: success rate 70% < 90% over 50 runs"
    assert reasons["claude-haiku-4"] == "unmet requirement: p95 duration 900s > 600s over 40 runs"
    assert d.fallbacks == ()  # sonnet is also the default: not repeated


def test_cheapest_with_too_few_samples_counts_as_meeting(builtin_registry: Registry) -> None:
    stats = DictStats({
        ("openrouter", "openai/gpt-4o-mini"): ModelStats(samples=19, success_rate=0.0, p95_duration_s=9e9),
    })
    d = router(CHEAPEST, builtin_registry, stats=stats).route({"priority": "low"})
    assert d.model == "openai/gpt-4o-mini"
    assert "only 19 recorded run(s) (< min_samples 20)" in d.reason


def test_cheapest_when_all_fail_uses_later_rules_or_default(builtin_registry: Registry) -> None:
    bad = ModelStats(samples=100, success_rate=0.1, p95_duration_s=10)
    stats = DictStats({("openrouter", "openai/gpt-4o-mini"): bad, ("claude-cli", "claude-haiku-4"): bad,
                       ("claude-cli", "claude-sonnet-4-5"): bad})
    d = router(CHEAPEST, builtin_registry, stats=stats).route({"priority": "low"})
    assert (d.model, d.rule) == ("claude-sonnet-4-5", None)
    assert len(d.skipped) == 3 and d.available
    assert "skipped: using the default" in d.reason


def test_stats_are_read_once_per_build(builtin_registry: Registry) -> None:
    calls: list[tuple[str, str]] = []

    class Counting(DictStats):
        def model_stats(self, provider: str, model: str) -> ModelStats | None:
            calls.append((provider, model))
            return None

    r = router(CHEAPEST, builtin_registry, stats=Counting({}))
    for _ in range(100):
        r.route({"priority": "low"})
    assert len(calls) == 3
    r.refresh_stats()
    assert len(calls) == 6


def test_check_requirements_messages() -> None:
    from tacroute.config.model import Requirements

    req = Requirements(min_success_rate=0.9, max_p95_s=60, min_samples=5)
    assert check_requirements(req, None)[0]
    assert check_requirements(req, ModelStats(5, 0.9, 60.0)) == (True, "meets the requirements over 5 runs")
    assert not check_requirements(req, ModelStats(5, 0.9, 61.0))[0]
    assert check_requirements(req, ModelStats(5, 0.95, None))[0]


def test_plain_configs_keep_the_fast_path(builtin_registry: Registry) -> None:
    """A plain rule is a one-target set: nothing drawn, the decision kept and shared."""
    text = HEAD + '\n[[routing.rules]]\nname = "p"\nmodel = "claude-haiku-4"\n'
    r = router(text, builtin_registry)
    assert r.route({}).model == "claude-haiku-4"
    assert r.route({}) is r.route({})


def test_explain_lists_targets(builtin_registry: Registry) -> None:
    traces = router(CHEAPEST, builtin_registry).explain({"priority": "low"})
    assert traces[0].strategy == "cheapest"
    assert traces[0].targets == ("claude-cli/claude-sonnet-4-5", "claude-cli/claude-haiku-4",
                                 "openrouter/openai/gpt-4o-mini")



def test_skipped_candidates_keep_rule_order(builtin_registry: Registry) -> None:
    text = HEAD + """
[[routing.rules]]
name = "hi"
priority = 60
provider = "openrouter"
model = "openai/gpt-4o"

[[routing.rules]]
name = "lo"
priority = 50
targets = [{ provider = "openrouter", model = "openai/gpt-4o-mini" }, { model = "claude-haiku-4" }]
"""
    d = router(text, builtin_registry, key=False).route({})
    assert (d.model, d.rule) == ("claude-haiku-4", "lo")
    assert [(c.model, c.rule) for c in d.skipped] == [("openai/gpt-4o", "hi"), ("openai/gpt-4o-mini", "lo")]
    assert [c.model for c in d.fallbacks] == ["claude-sonnet-4-5"]


def test_decisions_are_kept_per_matching_rule_set_except_weighted(builtin_registry: Registry) -> None:
    r = router(CHEAPEST, builtin_registry)
    assert r.route({"priority": "low"}) is r.route({"priority": "low", "labels": ["x"]})
    text = HEAD + """
[[routing.rules]]
name = "balance"
strategy = "weighted"
targets = [{ model = "claude-sonnet-4-5" }, { model = "claude-haiku-4" }]
"""
    w = router(text, builtin_registry)
    assert len({w.route({}).model for _ in range(100)}) == 2


def test_pricing_and_estimate_tables_are_validated(builtin_registry: Registry) -> None:
    text = HEAD + """
[pricing."my-model"]
input = "cheap"

[pricing."claude-opus-4"]
input = 15.0
output = -75.0
cache_reed = 1.5

[estimate]
input_tokens = -1
outptu_tokens = 5
"""
    msg = error_of(text, builtin_registry)
    assert "t.toml:15: pricing.my-model.input: must be a number: [pricing] prices are USD per million " \
           "tokens, e.g. input = 3.0; not str 'cheap'" in msg
    assert "pricing.my-model: has no output: give input and output in USD per million tokens" in msg
    assert "pricing.claude-opus-4.output: must be a price >= 0 (USD per million tokens), not -75.0" in msg
    assert "pricing.claude-opus-4.cache_reed: unknown key in [pricing.\"claude-opus-4\"] (did you mean `cache_read`?); valid keys are: " \
           "cache_read, cache_write, input, output" in msg
    assert "estimate.input_tokens: must be a token count >= 0, not -1" in msg
    assert "estimate.outptu_tokens: unknown key in [estimate]" in msg


def test_config_prices_win_over_built_ins(builtin_registry: Registry) -> None:
    from tacroute.pricing import PricingTable, estimate_usage
    from tacroute.types import Usage

    text = HEAD + '\n[pricing."claude-opus-4"]\ninput = 1.0\noutput = 2.0\n\n[estimate]\ninput_tokens = 7\n'
    cfg = parse_config(text, Path("t.toml"), registry=builtin_registry)
    price = PricingTable.load(cfg.raw).get("claude-opus-4")
    assert price is not None and (price.input, price.output, price.source) == (1.0, 2.0, "config")
    assert estimate_usage(cfg.raw) == Usage(7, 5_000)


def test_weighted_with_only_zero_weights_available_uses_file_order(builtin_registry: Registry) -> None:
    text = HEAD + """
[[routing.rules]]
name = "balance"
strategy = "weighted"
targets = [{ provider = "openrouter", model = "openai/gpt-4o", weight = 5 },
           { model = "claude-haiku-4", weight = 0 }, { model = "claude-opus-4", weight = 0 }]
"""
    r = router(text, builtin_registry, key=False)
    assert {r.route({}).model for _ in range(50)} == {"claude-haiku-4"}
