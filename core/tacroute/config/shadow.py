"""Find shadowed rules without comparing every pair of rules.

A rule is shadowed when a rule checked before it (higher priority, or the same
priority earlier in the file) matches every task it matches: each condition of
the higher rule is also a condition of the lower one, and covers its value
(:meth:`tacroute.types.ConditionType.covers`). The first such rule is reported.

Comparing every pair is quadratic, and a config with thousands of rules took
most of a minute. Instead the earlier rules are indexed as they are passed:

- by the set of condition names (a rule can only shadow rules whose names
  include all of its own; there are few distinct sets);
- within one set, by the values themselves: rules with equal conditions
  shadow the same rules, so only the first of them is ever compared;
- within one set, by ``cover_tokens``: when a condition type says that
  ``covers(a, b)`` needs every token of ``b`` among the tokens of ``a`` (a
  ``labels`` list covers another only if it holds all its labels), only the
  earlier rules posted under the lower rule's rarest token are compared.

Every candidate found is confirmed with the same ``covers`` check as before,
so the findings are the pairwise comparison's, in the same order.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

from tacroute.config.model import RuleConfig

__all__ = ["find_shadowers", "shadows"]


def shadows(higher: RuleConfig, lower: RuleConfig, registry: Any) -> bool:
    """Whether every task matching ``lower`` also matches ``higher``."""
    for name, value in higher.conditions.items():
        if name not in lower.conditions:
            return False
        ctype = registry.conditions.get(name)
        try:
            if ctype is None or not ctype.covers(value, lower.conditions[name]):
                return False
        except Exception:  # noqa: BLE001 - lint is best effort
            return False
    return True


def _freeze(value: Any) -> Hashable:
    """A hashable stand-in equal only for equal values (1, 1.0 and true stay apart)."""
    if isinstance(value, dict):
        return ("d", tuple(sorted((str(k), _freeze(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("l", tuple(_freeze(v) for v in value))
    try:
        hash(value)
    except TypeError:
        return ("r", repr(value))
    return (type(value).__name__, value)


def _tokens(registry: Any, name: str, value: Any) -> frozenset[Hashable] | None:
    ctype = registry.conditions.get(name)
    hook = getattr(ctype, "cover_tokens", None)
    if hook is None:
        return None
    try:
        tokens = hook(value)
    except Exception:  # noqa: BLE001 - lint is best effort: no index for this value
        return None
    return frozenset(tokens) if tokens is not None else None


class _Group:
    """The earlier rules that share one set of condition names."""

    __slots__ = ("first", "names", "postings", "untokened")

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names
        #: One entry (order, rule) per distinct set of condition values: the earliest.
        self.first: dict[Hashable, tuple[int, RuleConfig]] = {}
        #: name -> token -> entries posted under it, in order.
        self.postings: dict[str, dict[Hashable, list[tuple[int, RuleConfig]]]] = {n: {} for n in names}
        #: name -> entries whose value has no tokens (compared with every lower rule).
        self.untokened: dict[str, list[tuple[int, RuleConfig]]] = {n: [] for n in names}

    def add(self, order: int, rule: RuleConfig, registry: Any) -> None:
        sig = _freeze(rule.conditions)
        if sig in self.first:
            return
        entry = (order, rule)
        self.first[sig] = entry
        for name in self.names:
            tokens = _tokens(registry, name, rule.conditions[name])
            if tokens is None:
                self.untokened[name].append(entry)
                continue
            posting = self.postings[name]
            for token in tokens:
                posting.setdefault(token, []).append(entry)

    def candidates(self, rule: RuleConfig, registry: Any) -> Iterable[tuple[int, RuleConfig]]:
        """Earlier entries that might shadow ``rule``, in order (a superset of the real ones)."""
        best: Sequence[tuple[int, RuleConfig]] | None = None
        best_name = ""
        for name in self.names:
            tokens = _tokens(registry, name, rule.conditions[name])
            if not tokens:
                continue
            posting = self.postings[name]
            for token in tokens:
                found = posting.get(token, ())
                if best is None or len(found) < len(best):
                    best, best_name = found, name
        if best is None:
            return self.first.values()
        extra = self.untokened[best_name]
        return sorted([*best, *extra], key=lambda e: e[0]) if extra else best


def find_shadowers(ordered: Sequence[RuleConfig], registry: Any,
                   skip: Mapping[int, bool] | None = None) -> dict[int, RuleConfig]:
    """For each index into ``ordered`` (rules in the order they are checked), the first
    earlier rule that shadows it. Indexes in ``skip`` are not looked up (they still
    shadow later rules)."""
    groups: dict[frozenset[str], _Group] = {}
    found: dict[int, RuleConfig] = {}
    for i, rule in enumerate(ordered):
        names = frozenset(rule.conditions)
        if not (skip and skip.get(i)):
            hit: tuple[int, RuleConfig] | None = None
            for group_names, group in groups.items():
                if not group_names <= names:
                    continue
                for entry in group.candidates(rule, registry):
                    if hit is not None and entry[0] >= hit[0]:
                        break
                    if shadows(entry[1], rule, registry):
                        hit = entry
                        break
            if hit is not None:
                found[i] = hit[1]
        if names not in groups:
            groups[names] = _Group(names)
        groups[names].add(i, rule, registry)
    return found
