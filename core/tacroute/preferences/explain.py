"""``tacroute route --explain`` for a config with preferences: which layer decided each step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tacroute.preferences.budgetcheck import fmt_time, fmt_usd, is_over, whose

if TYPE_CHECKING:
    from tacroute.preferences.combo import _Combo
    from tacroute.preferences.model import Entry
    from tacroute.preferences.router import PreferenceRouter
    from tacroute.types import Decision, Task

__all__ = ["layers"]


def _entry(kind: str, name: Any, e: Entry | None) -> str:
    if name is None:
        return f"the task has no {kind}"
    if e is None:
        return f"no [{kind}s] entry matches {name!r}"
    how = "exactly" if e.pattern == name else "by glob"
    return f"{name!r} matches [{kind}s.{e.pattern!r}] {how}" + (f" ({e.source})" if e.source else "")


def layers(router: PreferenceRouter, combo: _Combo, task: Task, d: Decision) -> list[dict[str, Any]]:
    """One dict per step: ``layer`` (project, user, rules, default, deny filter, prefer,
    budget) and ``what`` happened there."""
    out: list[dict[str, Any]] = [
        {"layer": "project", "what": _entry("project", task.get("project"), combo.project)},
        {"layer": "user", "what": _entry("user", task.get("user"), combo.user)},
    ]
    owner: dict[str, str] = {}
    for layer, e in (("project rule", combo.project), ("user rule", combo.user)):
        for r in e.rules if e else ():
            owner[r.name] = f"{layer} ({e.kind} {e.pattern!r})"  # type: ignore[union-attr]
    cfg = combo.router.config
    decided = "default"
    if d.rule is not None:
        decided = owner.get(d.rule, "global rule (routing.rules)")
    out.append({"layer": "rules", "what": f"{len(owner)} project/user rule(s) checked before "
                f"{len(router.config.rules)} global rule(s); {d.provider}/{d.model} from: "
                + (f"{decided} {d.rule!r}" if d.rule else "the default or the budget")})
    src = "routing.default_*"
    for e in (combo.project, combo.user):
        if e is not None and (e.default_model or e.default_provider):
            src = f"{e.kind} {e.pattern!r}"
            break
    out.append({"layer": "default", "what": f"{cfg.default_provider}/{cfg.default_model} (from {src})"})
    refused = [c for c in d.skipped if c.reason and (" by project " in c.reason or " by user " in c.reason)
               and (c.reason.startswith("denied") or c.reason.startswith("not in allow"))]
    out.append({"layer": "deny filter", "what": "; ".join(
        f"{c.provider}/{c.model} ({c.rule or 'default'}): {c.reason}" for c in refused)
        or "no candidate refused"})
    if combo.prefer:
        out.append({"layer": "prefer", "what": f"prefer_providers {list(combo.prefer)}"
                    + (": moved first" if "prefer_providers" in d.reason else ": order unchanged")})
    spend = router.spend
    for e, key in combo.budgets:
        assert e.budget is not None
        for limit in e.budget.limits:
            if spend is None:
                out.append({"layer": "budget", "what": f"{whose(e, key)}: no history, spend unknown"})
                continue
            spend.current(router.clock())
            spent = spend.get(key, limit.period)
            state = ("ok" if not is_over(e.budget, limit, spent)
                     else "blocked" if e.budget.over == "block" else "downgraded")
            out.append({"layer": "budget", "state": state, "what": (
                f"{'daily' if limit.period == 'day' else 'monthly'} budget of {whose(e, key)}: "
                f"{fmt_usd(spent)} of {fmt_usd(limit.usd)} spent, {state}; resets "
                f"{fmt_time(spend.bounds(limit.period)[1], spend.tz)}")})
    return out
