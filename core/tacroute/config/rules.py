"""Validate ``[[routing.rules]]`` into :class:`RuleConfig` objects, conditions compiled.

Each rule's conditions are compiled by the condition types the plugins
registered, once, here; a rule's ``targets``, ``strategy`` and ``requires``
are checked by :mod:`tacroute.config.targets`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tacroute.config.checker import Checker, format_key
from tacroute.config.model import ProviderConfig, Requirements, RuleConfig, TargetConfig
from tacroute.errors import ConditionValueError
from tacroute.types import CompileContext, ConditionIndex, Predicate

__all__ = ["RULE_KEYS", "load_rules"]

#: Keys a rule table may have. Layers that read more keys (targets, strategy)
#: add theirs here.
RULE_KEYS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "priority": (int,),
    "conditions": (dict,),
    "provider": (str,),
    "model": (str,),
    "enabled": (bool,),
    "description": (str,),
    # Several candidates (tacroute.config.targets).
    "targets": (list,),
    "strategy": (str,),
    "requires": (dict,),
}
#: The keys :func:`tacroute.config.targets.load_targets` reads: a rule with none of them has one
#: target, its own provider and model.
_TARGET_KEYS = frozenset({"targets", "strategy", "requires"})


def load_rules(value: Any, chk: Checker, registry: Any, ctx: CompileContext,
                providers: Mapping[str, ProviderConfig], default_provider: str | None,
                default_model: str | None, base: tuple[str, ...] = ("routing", "rules"),
                ) -> list[RuleConfig]:
    """The rules of ``routing.rules`` (``value``), problems reported on ``chk``.

    ``base``: the key path of the array, for messages (a project's own rules
    live under ``projects."NAME".rules``)."""
    if not isinstance(value, list):
        return []
    rules: list[RuleConfig] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(value):
        path: list[str | int] = [*base, index]
        good = chk.table(table, path, RULE_KEYS, "a routing rule")
        if not isinstance(table, dict):
            continue
        name = good.get("name")
        if name is None:
            if "name" not in table:
                chk.add(path, "has no name: every rule needs a unique name = \"...\"")
            continue
        if not name.strip():
            chk.add([*path, "name"], "must not be empty: every rule needs a unique name = \"...\"")
            continue
        if name in seen:
            chk.add([*path, "name"], f"duplicate rule name {name!r} (also {format_key([*base, seen[name]])})")
        seen.setdefault(name, index)
        provider = good.get("provider", default_provider)
        if "provider" in good and provider not in providers:
            chk.add([*path, "provider"], f"unknown provider {provider!r}; configured providers: "
                    f"{', '.join(providers) or '(none)'}")
        model = good.get("model")
        if "model" not in table and not _extra_targets(table):
            chk.add([*path, "model"], f"rule {name!r} has no model: every rule names the model it "
                    "routes to (model = \"...\"), or several in targets = [...]")
        elif model is not None and not model.strip():
            chk.add([*path, "model"], f"rule {name!r} has an empty model: name the model it routes to")
        targets: tuple[TargetConfig, ...] = ()
        strategy = "ordered"
        requires: Requirements | None = None
        if _TARGET_KEYS.intersection(good):  # the checks of these keys load only for a rule with one
            from tacroute.config.targets import load_targets

            targets, strategy, requires = load_targets(good, path, chk, providers, default_provider)
        if targets:
            provider, model = targets[0].provider, targets[0].model
        conditions = good.get("conditions", {})
        predicates, indexes = _compile_conditions(conditions, [*path, "conditions"], chk, registry, ctx)
        rules.append(RuleConfig(
            name=name,
            priority=good.get("priority", 0),
            provider=provider or "",
            model=model or "",
            conditions=conditions,
            predicates=tuple(predicates),
            indexes=tuple(indexes),
            enabled=good.get("enabled", True),
            position=index,
            raw=table,
            targets=targets,
            strategy=strategy,
            requires=requires,
        ))
    return rules


def _extra_targets(table: Mapping[str, Any]) -> bool:
    return "targets" in table


def _compile_conditions(conditions: Mapping[str, Any], path: list[str | int], chk: Checker,
                        registry: Any, ctx: CompileContext,
                        ) -> tuple[list[Predicate], list[ConditionIndex | None]]:
    """Each condition's predicate and, when its type offers one, its index (else None)."""
    predicates: list[Predicate] = []
    indexes: list[ConditionIndex | None] = []
    for cname, cvalue in conditions.items():
        ctype = registry.conditions.get(cname)
        if ctype is None:
            known = ", ".join(sorted(registry.conditions)) or "(none installed)"
            hint = registry.condition_provider_hint(cname)
            extra = (f"; plugin {hint!r} would provide it but is disabled or failed to load"
                     if hint else "; install a plugin that provides it")
            chk.add([*path, cname], f"unknown condition type {cname!r} (known: {known}){extra}")
            continue
        try:
            pred = ctype.compile(cvalue, ctx)
            index = ctype.index(cvalue, ctx)
            predicates.append(pred)
            indexes.append(index)
        except ConditionValueError as exc:
            chk.add([*path, cname], str(exc))
        except Exception as exc:  # noqa: BLE001 - a plugin bug must not escape as a crash
            chk.add([*path, cname], f"condition plugin failed to compile {cvalue!r}: "
                    f"{type(exc).__name__}: {exc}")
    return predicates, indexes
