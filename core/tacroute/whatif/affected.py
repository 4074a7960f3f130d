"""Which tasks an edit of some rules can route differently: the rest keep config A's decision.

A decision is a function of the task's ordered list of matching enabled rules
(each rule's candidates are compiled from the rule and the config's global
tables: providers, default, pricing). When config B is config A with some
rules added, removed or changed, and everything else equal (the parsed
documents outside ``routing.rules``, and the file order of the rules both
keep), a task that neither version of any changed rule matches has the same
matching rules in the same order under both: the same decision. Only the
tasks some changed rule (old or new version, enabled or not) matches need
routing under B.

Not used (every task is routed under B) when the configs differ in anything
else, when either has ``[projects]`` / ``[users]`` (their entries' rules and
checks read the global ones), or when either has a ``weighted`` rule (its
draws come from one random stream per side, so skipping tasks would change
which draw each later task gets).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tacroute.config.model import Config, RuleConfig
from tacroute.preferences import has_preferences

__all__ = ["changed_rules", "matched_by_any"]


def _without_rules(doc: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    routing = out.get("routing")
    if isinstance(routing, dict):
        out["routing"] = {k: v for k, v in routing.items() if k != "rules"}
    return out


def changed_rules(a: Config, b: Config) -> tuple[RuleConfig, ...] | None:
    """Both versions of every rule that differs between ``a`` and ``b`` (by name), or None when a
    task none of them matches could still be routed differently (see the module's text)."""
    if has_preferences(a) or has_preferences(b):
        return None
    if any(r.strategy == "weighted" for r in (*a.rules, *b.rules)):
        return None
    if _without_rules(a.raw) != _without_rules(b.raw):
        return None
    old = {r.name: r for r in a.rules}
    new = {r.name: r for r in b.rules}
    if len(old) != len(a.rules) or len(new) != len(b.rules):
        return None  # a loaded config's names are unique; be safe with one built otherwise
    same = {n for n, r in old.items() if n in new and new[n].raw == r.raw}
    if [r.name for r in a.rules if r.name in same] != [r.name for r in b.rules if r.name in same]:
        return None
    return (*(r for n, r in old.items() if n not in same), *(r for n, r in new.items() if n not in same))


def matched_by_any(rules: Sequence[RuleConfig], task: Mapping[str, Any]) -> bool:
    """Whether every condition of at least one of ``rules`` holds for ``task`` (enabled or not)."""
    for r in rules:
        for p in r.predicates:
            if not p(task):
                break
        else:
            return True
    return False
