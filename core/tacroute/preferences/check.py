"""Checking ``[projects."NAME"]``, ``[users.NAME]`` and ``[policy]`` (config sections).

Problems go to the loader's checker, so they come out like every other
config error (``file:line: projects."acme/api".budget.to: ...``). An entry's
``rules`` are checked and compiled by the loader's own rule code, with the
same schema as ``routing.rules``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, cast

from tacroute.config.checker import format_key
from tacroute.preferences.model import PERIODS, Budget, Entry, EntrySet, Limit, is_glob
from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    from tacroute.config.checker import Checker, KeyPath
    from tacroute.config.model import ProviderConfig
    from tacroute.config.schema import SectionContext

__all__ = ["CHECKS", "Policy", "check_entry"]

ENTRY_KEYS: dict[str, tuple[type, ...]] = {
    "deny_providers": (list,),
    "allow_providers": (list,),
    "prefer_providers": (list,),
    "default_provider": (str,),
    "default_model": (str,),
    "budget": (dict,),
    "rules": (list,),
}
BUDGET_KEYS: dict[str, tuple[type, ...]] = {
    "daily_usd": (int, float),
    "monthly_usd": (int, float),
    "over": (str,),
    "to": (str,),
    "reserve_usd": (int, float),
    "shared": (bool,),
}
#: The most a budget amount may be (a sanity bound: a typo of a few digits).
MAX_USD = 1e9


class Policy(NamedTuple):
    """``[policy]``."""

    repo_config: bool = False


class _Setting(NamedTuple):
    """What the loader knows besides the table: for rules and provider names."""

    providers: Mapping[str, Any]
    default_provider: str | None
    registry: Any
    ctx: Any


def _setting(ctx: SectionContext) -> _Setting:
    from tacroute.clock import HourClock
    from tacroute.types import CompileContext

    doc = ctx.doc
    providers = doc.get("providers")
    providers = providers if isinstance(providers, dict) else {}
    routing: Mapping[str, Any] = doc["routing"] if isinstance(doc.get("routing"), dict) else {}
    llm: Mapping[str, Any] = doc["llm"] if isinstance(doc.get("llm"), dict) else {}
    default = routing.get("default_provider") or llm.get("provider")
    if not isinstance(default, str):
        default = next(iter(providers)) if len(providers) == 1 else None
    tz = None
    if isinstance(routing.get("timezone"), str) and routing["timezone"]:
        import zoneinfo

        try:
            tz = zoneinfo.ZoneInfo(routing["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            tz = None  # reported by the loader
    # The loader (and a re-check of a hand-made Config) always passes its registry.
    return _Setting(providers, default, ctx.registry, CompileContext(tz, HourClock(tz)))


def _names(value: Any, path: KeyPath, chk: Checker, providers: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            chk.add([*path, i], f"must be a provider name (a string), not {type(item).__name__}")
        elif item not in providers:
            chk.add([*path, i], f"unknown provider {item!r}; configured providers: "
                    f"{', '.join(providers) or '(none)'}")
        else:
            out.append(item)
    return out


def _budget(value: Any, path: KeyPath, chk: Checker, providers: Mapping[str, Any],
            glob: bool) -> Budget | None:
    good = chk.table(value, path, BUDGET_KEYS, "a budget")
    limits: list[Limit] = []
    for key, period in PERIODS.items():
        amount = good.get(key)
        if amount is None:
            continue
        if not 0 < amount <= MAX_USD:  # also NaN
            chk.add([*path, key], f"must be a number of US dollars > 0 and at most {MAX_USD:,.0f}, "
                    f"not {amount!r}")
            continue
        limits.append(Limit(period, float(amount)))
    if isinstance(value, dict) and not any(k in value for k in PERIODS):
        chk.add(path, "has no amount: set daily_usd and/or monthly_usd")
    over = good.get("over", "block")
    if over not in ("block", "downgrade"):
        chk.add([*path, "over"], f"must be \"block\" or \"downgrade\", not {over!r}")
        over = "block"
    to: tuple[str, str] | None = None
    if "to" in good:
        provider, sep, model = good["to"].partition("/")
        if not sep or not provider or not model:
            chk.add([*path, "to"], f"must be \"PROVIDER/MODEL\", e.g. \"claude-cli/claude-haiku-4\"; "
                    f"got {good['to']!r}")
        elif provider not in providers:
            chk.add([*path, "to"], f"names unknown provider {provider!r}; configured providers: "
                    f"{', '.join(providers) or '(none)'}")
        else:
            to = (provider, model)
        if over != "downgrade":
            chk.add([*path, "to"], "is only used with over = \"downgrade\"")
    elif over == "downgrade":
        chk.add([*path, "over"], "over = \"downgrade\" needs to = \"PROVIDER/MODEL\" (what to use instead)")
    reserve = good.get("reserve_usd", 0.0)
    if not 0 <= reserve < math.inf:
        chk.add([*path, "reserve_usd"], f"must be a number of US dollars >= 0, not {reserve!r}")
        reserve = 0.0
    shared = bool(good.get("shared", False))
    if shared and not glob:
        chk.warn([*path, "shared"], "only means something for a glob entry (\"acme/*\"): this entry "
                 "governs one name")
    if not limits or len(good) != len(value):
        return None
    return Budget(tuple(limits), over, to, float(reserve), shared)


def check_entry(kind: str, pattern: str, value: Any, path: KeyPath, chk: Checker,
                s: _Setting, source: str = "") -> Entry | None:
    """One entry's table; None when it has a problem (reported on ``chk``)."""
    from tacroute.config.rules import load_rules

    before = len(chk.issues)
    good = chk.table(value, path, ENTRY_KEYS, f"[{format_key(path)}]")
    if not pattern.strip():
        chk.add(path, f"a {kind} name must not be empty")
    lists = {k: _names(good[k], [*path, k], chk, s.providers) for k in
             ("deny_providers", "allow_providers", "prefer_providers") if k in good}
    deny = frozenset(lists.get("deny_providers", ()))
    allow = frozenset(lists["allow_providers"]) if "allow_providers" in good else None
    dp = good.get("default_provider")
    if dp is not None and dp not in s.providers:
        chk.add([*path, "default_provider"], f"unknown provider {dp!r}; configured providers: "
                f"{', '.join(s.providers) or '(none)'}")
    for key in ("default_provider", "default_model"):
        if key in good and not good[key].strip():
            chk.add([*path, key], "must not be empty")
    budget = _budget(good["budget"], [*path, "budget"], chk, s.providers, is_glob(pattern)) \
        if "budget" in good else None
    rules = load_rules(good.get("rules", []), chk, s.registry, s.ctx,
                       cast("Mapping[str, ProviderConfig]", s.providers), dp or s.default_provider,
                       good.get("default_model"), base=tuple(str(p) for p in (*path, "rules")))
    entry = Entry(kind, pattern, deny, allow, tuple(lists.get("prefer_providers", ())), dp,
                  good.get("default_model"), tuple(rules), budget, source)
    _check_denied(entry, path, chk, s)
    return entry if len(chk.issues) == before else None


def _check_denied(e: Entry, path: KeyPath, chk: Checker, s: _Setting) -> None:
    """A default or downgrade target the entry itself denies can never be used."""
    def refused(p: str) -> str:
        return "denies" if p in e.deny else "does not allow (allow_providers)"

    if e.default_provider is not None or e.default_model is not None:
        p = e.default_provider or s.default_provider
        if p is not None and not e.allows(p):
            chk.add([*path, "default_provider" if e.default_provider else "default_model"],
                    f"the default provider {p!r} is one this {e.kind} {refused(p)}")
    elif s.default_provider is not None and not e.allows(s.default_provider):
        chk.warn(path, f"{e.kind} {e.pattern!r} {refused(s.default_provider)} the routing default "
                 f"{s.default_provider!r}: its tasks that no rule matches have no candidate; set "
                 "default_provider/default_model here")
    if e.budget is not None and e.budget.to is not None and not e.allows(e.budget.to[0]):
        chk.add([*path, "budget", "to"], f"downgrades to provider {e.budget.to[0]!r}, which this "
                f"{e.kind} {refused(e.budget.to[0])}")
    for r in e.rules:
        if r.provider and not e.allows(r.provider) and not r.targets:
            chk.warn([*path, "rules", r.position, "provider"], f"rule {r.name!r} routes to provider "
                     f"{r.provider!r}, which this {e.kind} {refused(r.provider)}: it can never be used")


def _overlaps(entries: list[Entry], root: str, chk: Checker) -> None:
    """Warn about entries that match the same names (the exact one, then the longest glob wins)."""
    globs = [e for e in entries if is_glob(e.pattern)]
    if not globs:
        return
    for g in globs:
        for e in entries:
            if e is g or (is_glob(e.pattern) and (len(e.pattern), e.pattern) <= (len(g.pattern), g.pattern)):
                continue
            if not (fnmatchcase(e.pattern, g.pattern) or fnmatchcase(g.pattern, e.pattern)):
                continue
            winner = e if not is_glob(e.pattern) or len(e.pattern) > len(g.pattern) else g
            loser = g if winner is e else e
            conflict = {k for k in ("deny", "allow", "prefer", "default_provider", "default_model",
                                    "budget") if getattr(e, k) != getattr(g, k)}
            what = (f"with different settings ({', '.join(sorted(conflict))})" if conflict
                    else "with the same settings")
            chk.warn([root, g.pattern], f"{root} {g.pattern!r} and {e.pattern!r} overlap {what}: for a "
                     f"name both match, {winner.pattern!r} wins and {loser.pattern!r} is not used")


def _check_kind(kind: str, root: str) -> Any:
    def check(value: Any, chk: Checker, ctx: SectionContext) -> EntrySet:
        if not isinstance(value, dict):
            chk.add([root], f"must be a table of {kind} names, not {type(value).__name__}")
            return EntrySet({})
        if not value:
            return EntrySet({})
        s = _setting(ctx)
        entries: dict[str, Entry] = {}
        for pattern, table in value.items():
            e = check_entry(kind, pattern, table, [root, pattern], chk, s)
            if e is not None:
                entries[pattern] = e
        _check_rule_names(list(entries.values()), root, chk, ctx.doc)
        _overlaps(list(entries.values()), root, chk)
        return EntrySet(entries)

    return check


def _check_rule_names(entries: list[Entry], root: str, chk: Checker, doc: Mapping[str, Any]) -> None:
    routing = doc.get("routing")
    rules = routing.get("rules") if isinstance(routing, dict) else None
    names = {r.get("name"): i for i, r in enumerate(rules or []) if isinstance(r, dict)}
    for e in entries:
        for r in e.rules:
            if r.name in names:
                chk.add([root, e.pattern, "rules", r.position, "name"],
                        f"rule name {r.name!r} is also routing.rules[{names[r.name]}]: give it its own name")


def _empty(ctx: SectionContext) -> EntrySet:
    return EntrySet({})


def _check_policy(value: Any, chk: Checker, ctx: SectionContext) -> Policy:
    good = chk.table(value, ["policy"], {"repo_config": (bool,)})
    return Policy(bool(good.get("repo_config", False)))


#: Each table's check and its value when the table is absent (the plugin registers them:
#: :mod:`tacroute.preferences.plugin`, which imports this module only when one is used).
CHECKS: dict[str, tuple[Callable[[Any, Checker, SectionContext], Any], Callable[[SectionContext], Any]]] = {
    "projects": (_check_kind("project", "projects"), _empty),
    "users": (_check_kind("user", "users"), _empty),
    "policy": (_check_policy, lambda ctx: Policy()),
}
