"""Findings that do not stop a config from loading, for ``tacroute config validate``.

Rules that can never match, rules shadowed by a higher rule (they can then
only act as fallbacks), provider types' own lint (such as the Claude CLI
template that passes the prompt file's path as the prompt).
"""

from __future__ import annotations

from typing import Any

from tacroute.config.model import Config, RuleConfig
from tacroute.config.shadow import find_shadowers

__all__ = ["lint_config"]


def lint_config(config: Config, registry: Any) -> list[str]:
    """Warnings, one message each, naming the key path."""
    warnings = list(config.warnings)
    if config.rules and not config.routing_enabled:
        warnings.append("routing.enabled: routing is disabled, so no rule is used; every task goes "
                        f"to the default ({config.default_provider}/{config.default_model})")
    for pc in config.providers.values():
        ptype = registry.providers.get(pc.type)
        if ptype is None:
            continue
        try:
            warnings.extend(ptype.lint(pc))
        except Exception as exc:  # noqa: BLE001
            warnings.append(f"providers.{pc.name}: provider type {pc.type!r} lint failed: {exc}")
    ordered = [r for r in config.rules_by_priority() if r.enabled]
    never = {i: _never(rule, registry) for i, rule in enumerate(ordered)}
    shadowed = find_shadowers(ordered, registry, skip={i: bool(n) for i, n in never.items()})
    for i, rule in enumerate(ordered):
        key = f"routing.rules[{rule.position}] ({rule.name!r})"
        if never[i]:
            warnings.append(f"{key}: can never match: {never[i]}")
            continue
        higher = shadowed.get(i)
        if higher is not None:
            warnings.append(
                f"{key}: shadowed by {higher.name!r} (priority {higher.priority}): every task it "
                "matches is matched first by that rule, so it can only be a fallback")
    return warnings


def _never(rule: RuleConfig, registry: Any) -> str | None:
    for name, value in rule.conditions.items():
        ctype = registry.conditions.get(name)
        try:
            if ctype is not None and ctype.never_matches(value):
                return f"{name} = {value!r} matches no task"
        except Exception:  # noqa: BLE001 - lint is best effort
            continue
    return None
