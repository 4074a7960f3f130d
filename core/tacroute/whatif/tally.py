"""What a set of tasks costs under a config: the tally and report behind simulate and replay.

Costs are linear in tokens, so the tally keeps, per (target under A, target
under B) pair, the number of tasks and the sums of their token counts; each
group is priced once at the end. A target is ``(provider, model, rule)`` with
rule None for the default. In reports, default-routed tasks are counted under
the rule name :data:`DEFAULT_RULE` (``"(default)"``), a name no real rule can
clash with in practice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tacroute.errors import UsageError
from tacroute.pricing import PricingTable
from tacroute.types import DEFAULT_RULE, Usage

__all__ = ["BLOCKED", "DEFAULT_RULE", "Group", "Report", "Side", "Target", "Tally", "missing_prices",
           "side_of"]


#: ``(provider, model, rule)``; rule None means the default.
Target = tuple[str, str, "str | None"]
#: The target of a task a budget blocks: it does not run and costs nothing.
BLOCKED: Target = ("", "", "(blocked by budget)")
BLOCKED_NAME = "(blocked by budget)"


class Group:
    """The tasks routed one way: their count, token sums and recorded cost.

    A row that is added to in place: the scan finds a task's group once per
    distinct attribute set (memoised) and then only adds its counts, so a
    million lines cost a million additions, not a million new rows.
    """

    __slots__ = ("cache_creation_tokens", "cache_read_tokens", "changed", "input_tokens",
                 "output_tokens", "recorded_usd", "tasks")

    def __init__(self, changed: bool = False) -> None:
        self.tasks = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cache_read_tokens = 0
        self.cache_creation_tokens = 0
        #: replay: the cost the runs recorded (estimated where they recorded none).
        self.recorded_usd = 0.0
        #: Whether config B sends these tasks to another provider/model than A.
        self.changed = changed

    def add(self, other: Group) -> None:
        """Add ``other``'s counts, tokens and recorded cost to this group."""
        self.tasks += other.tasks
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_creation_tokens += other.cache_creation_tokens
        self.recorded_usd += other.recorded_usd

    def add_usage(self, usage: Usage) -> None:
        """Count one more task with ``usage``."""
        self.tasks += 1
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cache_read_tokens += usage.cache_read_tokens
        self.cache_creation_tokens += usage.cache_creation_tokens

    @property
    def usage(self) -> Usage:
        return Usage(self.input_tokens, self.output_tokens, self.cache_read_tokens,
                     self.cache_creation_tokens)

    def copy(self) -> Group:
        g = Group(self.changed)
        g.add(self)
        return g


@dataclass
class Tally:
    """Groups keyed by (target under A, target under B or None)."""

    groups: dict[tuple[Target, Target | None], Group] = field(default_factory=dict)
    #: 1-based line numbers (or run ids) of some tasks whose provider/model changed.
    changed_sample: list[Any] = field(default_factory=list)

    def group(self, a: Target, b: Target | None) -> Group:
        key = (a, b)
        g = self.groups.get(key)
        if g is None:
            changed = b is not None and (a[0], a[1]) != (b[0], b[1])
            g = self.groups[key] = Group(changed)
        return g

    def merge(self, other: Tally, sample_cap: int) -> None:
        for key, g in other.groups.items():
            mine = self.groups.get(key)
            if mine is None:
                self.groups[key] = g.copy()
            else:
                mine.add(g)
        room = sample_cap - len(self.changed_sample)
        if room > 0:
            self.changed_sample.extend(other.changed_sample[:room])

    @property
    def tasks(self) -> int:
        return sum(g.tasks for g in self.groups.values())


def price(pricing: PricingTable, model: str, usage: Usage) -> float:
    cost = pricing.cost(model, usage)
    if cost is None:  # checked up front by missing_prices; kept as a clear error
        raise UsageError(f"no price known for model {model!r}: add [pricing.\"{model}\"] with input "
                         "and output (USD per million tokens)")
    return cost


def price_of(pricing: PricingTable, target: tuple[str, str], usage: Usage) -> float:
    """:func:`price` of a ``(provider, model)``; a blocked task costs nothing."""
    return 0.0 if target == BLOCKED[:2] else price(pricing, target[1], usage)


def target_name(provider: str, model: str) -> str:
    """``provider/model``, or the name of a blocked task's target."""
    return BLOCKED_NAME if (provider, model) == BLOCKED[:2] else f"{provider}/{model}"


def missing_prices(pricing: PricingTable, models: Iterable[str]) -> list[str]:
    """Models (in order, once) the table has no price for."""
    out: list[str] = []
    for m in models:
        if pricing.get(m) is None and m not in out:
            out.append(m)
    return out


@dataclass
class Side:
    """One config's view of the tally: tasks and cost per rule and per provider/model."""

    tasks: int
    cost_usd: float
    by_rule: dict[str, int]
    by_target: list[dict[str, Any]]
    #: Tasks a budget blocked (counted in ``tasks``, in no rule or target, costing nothing).
    blocked_tasks: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"tasks": self.tasks, "cost_usd": self.cost_usd, "by_rule": self.by_rule,
                "by_target": self.by_target, "blocked_tasks": self.blocked_tasks}


def side_of(groups: Iterable[tuple[Target, Group]], pricing: PricingTable,
            rule_order: Iterable[str] = ()) -> Side:
    """Sum groups (already keyed by this side's target) into per-rule and per-target figures."""
    per_target: dict[tuple[str, str], Group] = {}
    by_rule: dict[str, int] = {name: 0 for name in rule_order}
    blocked = 0
    for t, g in groups:
        if t == BLOCKED:
            blocked += g.tasks
            continue
        per_target.setdefault((t[0], t[1]), Group()).add(g)
        rule = t[2] if t[2] is not None else DEFAULT_RULE
        by_rule[rule] = by_rule.get(rule, 0) + g.tasks
    tasks = sum(g.tasks for g in per_target.values()) + blocked
    rows: list[dict[str, Any]] = []
    total = 0.0
    for (provider, model), g in sorted(per_target.items(), key=lambda kv: (-kv[1].tasks, kv[0])):
        u = g.usage
        cost = price(pricing, model, u)
        total += cost
        rows.append({"provider": provider, "model": model, "tasks": g.tasks,
                     "share": g.tasks / tasks if tasks else 0.0, "cost_usd": cost, **u.as_dict()})
    return Side(tasks, total, by_rule, rows, blocked)


@dataclass
class Report:
    """The figures simulate and replay print (``as_dict`` is the ``--json`` object)."""

    source: str
    config: str
    side: Side
    baseline: tuple[str, str]
    baseline_cost_usd: float
    defaults: Usage | None = None
    compare: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def savings_usd(self) -> float:
        return self.baseline_cost_usd - self.side.cost_usd

    @property
    def savings_pct(self) -> float:
        b = self.baseline_cost_usd
        return 100.0 * self.savings_usd / b if b else 0.0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "config": self.config,
            "tasks": self.side.tasks,
            "cost_usd": self.side.cost_usd,
            "baseline": {"provider": self.baseline[0], "model": self.baseline[1]},
            "baseline_cost_usd": self.baseline_cost_usd,
            "savings_usd": self.savings_usd,
            "savings_pct": self.savings_pct,
            "by_rule": self.side.by_rule,
            "by_target": self.side.by_target,
            "blocked_tasks": self.side.blocked_tasks,
        }
        if self.defaults is not None:
            out["default_tokens"] = self.defaults.as_dict()
        out.update(self.extra)
        if self.compare is not None:
            out["compare"] = self.compare
        return out


def rule_names(rules: Iterable[Any]) -> list[str]:
    """Enabled rule names in priority order, then the default's key."""
    return [r.name for r in rules if r.enabled] + [DEFAULT_RULE]


def fmt_usd(x: float) -> str:
    return f"-${-x:,.2f}" if x < 0 else f"${x:,.2f}"


def render(report: Report, title: str, lines: list[str] | None = None) -> str:
    """The human-readable form of a report."""
    out = lines if lines is not None else []
    d = report.as_dict()
    n = d["tasks"]
    out.append(title)
    if report.defaults is not None:
        u = report.defaults
        out.append(f"(tasks without token counts: {u.input_tokens:,} input / {u.output_tokens:,} output "
                   "tokens; prices in USD per million tokens from the pricing table)")
    out.append("")
    _side_lines(out, d["by_rule"], d["by_target"], n)
    out.append("")
    if d["blocked_tasks"]:
        out.append(f"Blocked by budget: {d['blocked_tasks']:,} tasks (not run, no cost)")
    out.append(f"Estimated cost:  {fmt_usd(d['cost_usd'])}")
    base = f"{d['baseline']['provider']}/{d['baseline']['model']}"
    out.append(f"Baseline:        {fmt_usd(d['baseline_cost_usd'])}  (every task to {base})")
    out.append(f"Savings:         {fmt_usd(d['savings_usd'])}  ({d['savings_pct']:.1f}%)")
    cmp = d.get("compare")
    if cmp is not None:
        out.append("")
        out.append(f"Compared with {cmp['config']}:")
        _side_lines(out, cmp["by_rule"], cmp["by_target"], n)
        if cmp["blocked_tasks"]:
            out.append(f"  Blocked by budget: {cmp['blocked_tasks']:,} tasks (not run, no cost)")
        pct = 100.0 * cmp["tasks_changed"] / n if n else 0.0
        out.append(f"  Tasks whose provider/model changes: {cmp['tasks_changed']:,} ({pct:.1f}%)")
        for c in cmp["changes"]:
            out.append(f"    {c['from']} -> {c['to']}: {c['tasks']:,} tasks, "
                       f"{fmt_usd(c['difference_usd'])}")
        sample: list[Any] = next((v for k, v in cmp.items() if k.startswith("changed_")), [])
        if sample:
            out.append(f"    e.g. {', '.join(str(x) for x in sample)}")
        out.append(f"  Cost with it:  {fmt_usd(cmp['cost_usd'])}  (difference "
                   f"{fmt_usd(cmp['difference_usd'])}, {cmp['difference_pct']:+.1f}%)")
    return "\n".join(out)


def _side_lines(out: list[str], by_rule: Mapping[str, int], by_target: list[dict[str, Any]], n: int) -> None:
    out.append("  Tasks per rule:")
    width = max((len(k) for k in by_rule), default=10)
    for rule, count in by_rule.items():
        out.append(f"    {rule:<{width}}  {count:>10,}  {100.0 * count / n if n else 0.0:5.1f}%")
    out.append("  Share per provider/model:")
    names = [f"{t['provider']}/{t['model']}" for t in by_target]
    width = max((len(x) for x in names), default=10)
    for name, t in zip(names, by_target):
        out.append(f"    {name:<{width}}  {t['tasks']:>10,}  {100.0 * t['share']:5.1f}%  "
                   f"{fmt_usd(t['cost_usd']):>12}")
