"""The report of a simulation, and the section comparing config B with config A."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tacroute.config.model import Config
from tacroute.pricing import PricingTable
from tacroute.types import Usage
from tacroute.whatif.tally import Group, Report, Tally, price, price_of, rule_names, side_of, target_name

__all__ = ["compare_section", "simulate_report"]


def compare_section(tally: Tally, config_b: str, pricing_a: PricingTable, pricing_b: PricingTable,
                    side_a_cost: float, rule_order_b: Iterable[str], sample_name: str) -> dict[str, Any]:
    """Config B's figures, the tasks whose provider/model changes, and the cost difference."""
    side_b = side_of(((b, g) for (_, b), g in tally.groups.items() if b is not None), pricing_b,
                     rule_order_b)
    moves: dict[tuple[tuple[str, str], tuple[str, str]], Group] = {}
    for (a, b), g in tally.groups.items():
        if b is None or not g.changed:
            continue
        moves.setdefault(((a[0], a[1]), (b[0], b[1])), Group()).add(g)
    changes = []
    for ((pa, ma), (pb, mb)), g in sorted(moves.items(), key=lambda kv: (-kv[1].tasks, kv[0])):
        u = g.usage
        ca, cb = price_of(pricing_a, (pa, ma), u), price_of(pricing_b, (pb, mb), u)
        changes.append({"from": target_name(pa, ma), "to": target_name(pb, mb), "tasks": g.tasks,
                        "cost_a_usd": ca,
                        "cost_b_usd": cb, "difference_usd": cb - ca})
    diff = side_b.cost_usd - side_a_cost
    return {
        "config": config_b,
        "tasks_changed": sum(c["tasks"] for c in changes),
        "cost_usd": side_b.cost_usd,
        "difference_usd": diff,
        "difference_pct": 100.0 * diff / side_a_cost if side_a_cost else 0.0,
        "by_rule": side_b.by_rule,
        "by_target": side_b.by_target,
        "blocked_tasks": side_b.blocked_tasks,
        "changes": changes,
        sample_name: list(tally.changed_sample),
    }


def simulate_report(tally: Tally, defaults: Usage, config: Config, compare: Config | None,
                    base: tuple[str, str], pricing_a: PricingTable, source: str) -> Report:
    """Price the tally under config A (and B) into the report ``simulate`` prints."""
    side = side_of(((a, g) for (a, _), g in tally.groups.items()), pricing_a,
                   rule_names(config.rules_by_priority()))
    total = Usage()
    for g in tally.groups.values():
        total = total + g.usage
    report = Report(source, str(config.path), side, base, price(pricing_a, base[1], total), defaults)
    if compare is not None:
        report.compare = compare_section(tally, str(compare.path), pricing_a, PricingTable.load(compare.raw),
                                         side.cost_usd, rule_names(compare.rules_by_priority()),
                                         "changed_lines")
    return report
