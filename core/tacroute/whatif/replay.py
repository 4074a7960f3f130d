"""``tacroute replay``: what a config would have cost on the recorded history.

Every recorded run is routed again under the config, with its recorded task
attributes; a task recorded without ``hour`` gets the hour it started at (in
``routing.timezone``, else local time), which is what the router saw then.
Its recorded tokens are priced at the model the config picks, and the total
is set against the recorded cost (a run recorded without a cost is priced at
its recorded model; runs whose recorded model has no price are counted in
``recorded_cost_unknown``). Failed runs count too: they cost money.

``[projects]`` / ``[users]`` apply as in ``tacroute route``. With budgets, the
runs (oldest first) are routed in order, each as of the time it started: the
spend of each budget grows with the cost of the runs routed before it and
starts again with each new day or month (:mod:`tacroute.whatif.sides`). A run
a budget would block counts under ``blocked_tasks``, at no cost.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

import orjson

from tacroute.config.model import Config
from tacroute.errors import InvalidTaskError
from tacroute.pricing import PricingTable
from tacroute.types import Usage
from tacroute.whatif.inputs import config_models, parse_baseline, require_prices, target_of
from tacroute.whatif.sides import WhatIfSide
from tacroute.whatif.tally import (
    Group,
    Report,
    Tally,
    Target,
    price,
    price_of,
    rule_names,
    side_of,
    target_name,
)

__all__ = ["RunLike", "render_replay", "replay"]


class RunLike(Protocol):
    """What replay reads of a recorded run (``tacroute.history.RunRow`` has it)."""

    @property
    def run_id(self) -> str: ...
    @property
    def started_at(self) -> float: ...
    @property
    def task(self) -> Mapping[str, Any]: ...
    @property
    def rule(self) -> str | None: ...
    @property
    def provider(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def usage(self) -> Usage: ...
    @property
    def cost_usd(self) -> float | None: ...


def replay(runs: Iterable[RunLike], config: Config, *, source: str = "history",
           baseline: str | None = None, seed: int | None = 0, sample_cap: int = 10) -> Report:
    """Route recorded runs under ``config`` and price their recorded tokens."""
    base = parse_baseline(baseline, config)
    pricing = PricingTable.load(config.raw)
    require_prices(pricing, [*config_models(config), base[1]], config)
    side = WhatIfSide(config, random.Random(seed), time.time())
    weighted = side.weighted
    tz = config.timezone
    memo: dict[bytes, Target] = {}
    tally = Tally()
    estimated = unknown = 0
    for run in runs:
        task = dict(run.task)
        if task.get("hour") is None:
            task["hour"] = datetime.fromtimestamp(run.started_at, tz).hour
        u = run.usage
        if side.budgeted:
            b = _charged(side, task, run, u)
        else:
            key = orjson.dumps(task, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
            cached = memo.get(key)
            if cached is None:
                cached = _charged(side, task, run, u)
                if cached[2] not in weighted:
                    memo[key] = cached
            b = cached
        g: Group = tally.group((run.provider, run.model, run.rule), b)
        g.add_usage(u)
        cost = run.cost_usd
        if cost is None:
            cost = pricing.cost(run.model, u)
            if cost is None:
                unknown += 1
                cost = 0.0
            else:
                estimated += 1
        g.recorded_usd += cost
        if g.changed and len(tally.changed_sample) < sample_cap:
            tally.changed_sample.append(run.run_id)
    return _report(tally, config, pricing, base, source, estimated, unknown)


def _charged(side: WhatIfSide, task: dict[str, Any], run: RunLike, usage: Usage) -> Target:
    """The run's target under the config (with budgets: as of its start, its cost counted)."""
    try:
        if side.budgeted:
            return side.charged(task, run.started_at, usage)
        return target_of(side.route(task))
    except InvalidTaskError as exc:
        raise InvalidTaskError(f"recorded run {run.run_id}: {exc}") from None


def _report(tally: Tally, config: Config, pricing: PricingTable, base: tuple[str, str], source: str,
            estimated: int, unknown: int) -> Report:
    side = side_of(((b, g) for (_, b), g in tally.groups.items() if b is not None), pricing,
                   rule_names(config.rules_by_priority()))
    total = Usage()
    recorded = 0.0
    for g in tally.groups.values():
        total = total + g.usage
        recorded += g.recorded_usd
    #: (from, to, model under B) -> the runs that move that way.
    moves: dict[tuple[str, str, str, str], Group] = {}
    for (a, b), g in tally.groups.items():
        if b is None or not g.changed:
            continue
        moves.setdefault((f"{a[0]}/{a[1]}", target_name(b[0], b[1]), b[0], b[1]), Group()).add(g)
    changes = [{"from": k[0], "to": k[1], "tasks": m.tasks, "recorded_cost_usd": m.recorded_usd,
                "cost_usd": price_of(pricing, k[2:], m.usage),
                "difference_usd": price_of(pricing, k[2:], m.usage) - m.recorded_usd}
               for k, m in sorted(moves.items(), key=lambda kv: (-kv[1].tasks, kv[0]))]
    report = Report(source, str(config.path), side, base, price(pricing, base[1], total))
    diff = side.cost_usd - recorded
    report.extra = {
        "recorded_cost_usd": recorded,
        "recorded_cost_estimated": estimated,
        "recorded_cost_unknown": unknown,
        "difference_usd": diff,
        "difference_pct": 100.0 * diff / recorded if recorded else 0.0,
        "tasks_changed": sum(c["tasks"] for c in changes),
        "changes": changes,
        "changed_runs": list(tally.changed_sample),
    }
    return report


def render_replay(report: Report) -> str:
    """Text for ``tacroute replay``."""
    from tacroute.whatif.tally import fmt_usd, render

    e = report.extra
    lines = render(report, f"Replayed {report.side.tasks:,} recorded runs with {report.config}").split("\n")
    lines.append("")
    lines.append(f"Recorded cost:    {fmt_usd(e['recorded_cost_usd'])}"
                 + (f"  ({e['recorded_cost_estimated']:,} runs priced from their tokens)"
                    if e["recorded_cost_estimated"] else "")
                 + (f"  ({e['recorded_cost_unknown']:,} runs of unpriced models left out)"
                    if e["recorded_cost_unknown"] else ""))
    lines.append(f"With this config: {fmt_usd(report.side.cost_usd)}  (difference "
                 f"{fmt_usd(e['difference_usd'])}, {e['difference_pct']:+.1f}%)")
    n = report.side.tasks
    pct = 100.0 * e["tasks_changed"] / n if n else 0.0
    lines.append(f"Runs whose provider/model would change: {e['tasks_changed']:,} ({pct:.1f}%)")
    for c in e["changes"]:
        lines.append(f"  {c['from']} -> {c['to']}: {c['tasks']:,} runs, {fmt_usd(c['difference_usd'])}")
    if e["changed_runs"]:
        lines.append(f"  e.g. runs {', '.join(str(r) for r in e['changed_runs'])}")
    return "\n".join(lines)
