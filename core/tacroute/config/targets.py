"""Validate a rule's ``targets``, ``strategy`` and ``requires`` keys.

A rule may name several candidates instead of one ``provider``/``model``::

    [[routing.rules]]
    name = "bulk-cheapest"
    conditions = { priority = "low" }
    strategy = "cheapest"                  # or "ordered" (default), "weighted"
    targets = [
        { provider = "claude-cli", model = "claude-haiku-4" },
        { provider = "openrouter", model = "openai/gpt-4o-mini", weight = 3 },
    ]
    requires = { min_success_rate = 0.9, max_p95_s = 600, min_samples = 20 }

A target without ``provider`` uses ``routing.default_provider``. Problems are
collected on the loader's checker, so they come out with file, line, key path
and what would be valid, like every other config error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tacroute.config.checker import format_key
from tacroute.config.model import STRATEGIES, Requirements, RuleConfig, TargetConfig

if TYPE_CHECKING:
    from tacroute.config.checker import Checker
    from tacroute.config.model import ProviderConfig

__all__ = ["REQUIRES_KEYS", "TARGET_KEYS", "check_cheapest_prices", "load_targets"]

TARGET_KEYS: dict[str, tuple[type, ...]] = {"provider": (str,), "model": (str,), "weight": (int, float)}
REQUIRES_KEYS: dict[str, tuple[type, ...]] = {
    "min_success_rate": (int, float),
    "max_p95_s": (int, float),
    "min_samples": (int,),
}

Path = list[str | int]


def load_targets(good: Mapping[str, Any], path: Path, chk: Checker,
                 providers: Mapping[str, ProviderConfig], default_provider: str | None,
                 ) -> tuple[tuple[TargetConfig, ...], str, Requirements | None]:
    """The rule's targets, strategy and requirements (already type-checked keys in ``good``)."""
    strategy = good.get("strategy", "ordered")
    if strategy not in STRATEGIES:
        chk.add([*path, "strategy"], f"unknown strategy {strategy!r}; valid strategies: "
                + ", ".join(repr(s) for s in STRATEGIES))
        strategy = "ordered"
    if "targets" not in good:
        for key in ("strategy", "requires"):
            if key in good:
                chk.add([*path, key], f"{key} needs targets = [{{ provider = \"...\", model = \"...\" }}, "
                        "...]; a rule with one provider/model has nothing to choose from")
        return (), "ordered", None
    for key in ("provider", "model"):
        if key in good:
            chk.add([*path, key], "a rule has either provider/model or targets, not both: move it into "
                    "targets = [{ provider = \"...\", model = \"...\" }, ...]")
    targets = _targets(good["targets"], [*path, "targets"], chk, providers, default_provider)
    if strategy == "weighted" and targets and not any(t.weight > 0 for t in targets):
        chk.add([*path, "targets"], "strategy 'weighted' needs at least one target with weight > 0")
    if strategy != "weighted" and any(t.weight != 1.0 for t in targets):
        chk.warnings.append(f"{format_key(path)}: weight is only used by strategy = \"weighted\" "
                            f"(this rule's strategy is {strategy!r})")
    requires = None
    if "requires" in good:
        if strategy != "cheapest":
            chk.add([*path, "requires"], "requires is only used by strategy = \"cheapest\" "
                    f"(this rule's strategy is {strategy!r})")
        else:
            requires = _requires(good["requires"], [*path, "requires"], chk)
    return tuple(targets), strategy, requires


def _targets(value: list[Any], path: Path, chk: Checker, providers: Mapping[str, ProviderConfig],
             default_provider: str | None) -> list[TargetConfig]:
    if not value:
        chk.add(path, "is empty: list at least one { provider = \"...\", model = \"...\" }")
        return []
    out: list[TargetConfig] = []
    seen: dict[tuple[str, str], int] = {}
    for i, item in enumerate(value):
        tpath: Path = [*path, i]
        good = chk.table(item, tpath, TARGET_KEYS, "a target (provider, model, weight)")
        if not isinstance(item, dict):
            continue
        provider = good.get("provider", default_provider)
        if "provider" in good and provider not in providers:
            chk.add([*tpath, "provider"], f"unknown provider {provider!r}; configured providers: "
                    f"{', '.join(providers) or '(none)'}")
            continue
        model = good.get("model")
        if model is None:
            if "model" not in item:
                chk.add(tpath, "has no model: every target needs model = \"...\"")
            continue
        if not model:
            chk.add([*tpath, "model"], "must not be empty")
            continue
        weight = good.get("weight", 1.0)
        if "weight" in good and not 0 <= weight < math.inf:
            chk.add([*tpath, "weight"], f"must be a number >= 0 (a share of the load), not {weight!r}")
            continue
        if provider is None:
            continue  # routing.default_provider is missing: reported by the loader already
        key = (provider, model)
        if key in seen:
            chk.add(tpath, f"duplicate target {provider}/{model} (also {format_key(path)}[{seen[key]}])")
            continue
        seen[key] = i
        out.append(TargetConfig(provider, model, float(weight)))
    return out


def _requires(value: dict[str, Any], path: Path, chk: Checker) -> Requirements | None:
    good = chk.table(value, path, REQUIRES_KEYS, "requires")
    ok = True
    rate = good.get("min_success_rate")
    if rate is not None and not 0 <= rate <= 1:
        chk.add([*path, "min_success_rate"], f"must be a fraction from 0 to 1 (0.9 = 90%), not {rate!r}")
        ok = False
    p95 = good.get("max_p95_s")
    if p95 is not None and not p95 > 0:
        chk.add([*path, "max_p95_s"], f"must be a positive number of seconds, not {p95!r}")
        ok = False
    samples = good.get("min_samples", 20)
    if samples < 0:
        chk.add([*path, "min_samples"], f"must be an integer >= 0, not {samples!r}")
        ok = False
    if not ok or len(good) != len(value):
        return None
    return Requirements(None if rate is None else float(rate), None if p95 is None else float(p95),
                        int(samples))


def check_cheapest_prices(rules: Sequence[RuleConfig], doc: Mapping[str, Any], chk: Checker) -> None:
    """Every target of a ``cheapest`` rule needs a known price (built-in, cache or ``[pricing]``)."""
    cheapest = [r for r in rules if r.strategy == "cheapest"]
    if not cheapest:
        return
    from tacroute.pricing import PricingTable

    table = PricingTable.load(doc)
    for rule in cheapest:
        for i, t in enumerate(rule.targets):
            if table.get(t.model) is None:
                chk.add(["routing", "rules", rule.position, "targets", i, "model"],
                        f"no price known for model {t.model!r}, and strategy 'cheapest' compares "
                        f"prices: add [pricing.\"{t.model}\"] with input and output (USD per "
                        "million tokens)")

