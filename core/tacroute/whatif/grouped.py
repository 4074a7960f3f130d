"""What-if on tasks already grouped by attribute set (the web UI's recorded history).

Each group (a task's attributes as JSON, with how many tasks share them and
their summed tokens) is routed once under config A and B, instead of once per
task; a group whose decision a ``weighted`` rule draws is routed per task, the
group's tokens shared out evenly. Budgets need tasks in order, so a config with
budgets is not for this path (:func:`simulate_groups` refuses it).
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from tacroute.config.model import Config
from tacroute.errors import UsageError
from tacroute.types.run import Usage
from tacroute.whatif.compare import simulate_report
from tacroute.whatif.simulate import _RANDOM, _prepare
from tacroute.whatif.tally import Report

__all__ = ["TaskGroup", "simulate_groups"]

#: ``(attributes as JSON, [tasks, input, output, cache read, cache creation tokens])``.
TaskGroup = tuple[bytes, list[int]]


def simulate_groups(config: Config, compare: Config, groups: Iterable[TaskGroup], name: str,
                    defaults: Usage | None = None) -> Report:
    """The ``simulate --compare`` report of ``groups`` under ``config`` and ``compare``."""
    from tacroute.preferences import has_preferences, preferences

    for c in (config, compare):
        if has_preferences(c) and preferences(c).budgeted():
            raise UsageError("a config with budgets needs its tasks in order: use simulate or replay")
    sim, base, pricing = _prepare(config, compare, None, defaults, 0, 10)
    for key, (n, i, o, cr, cw) in groups:
        task = orjson.loads(key)
        g = sim.memo.get(key) or sim.resolve(task, key, lambda: (name, 0))
        if g is _RANDOM:
            share = [(v // n, v % n) for v in (i, o, cr, cw)]
            for k in range(n):
                one = sim.group_for(task)
                one.tasks += 1
                one.input_tokens += share[0][0] + (k < share[0][1])
                one.output_tokens += share[1][0] + (k < share[1][1])
                one.cache_read_tokens += share[2][0] + (k < share[2][1])
                one.cache_creation_tokens += share[3][0] + (k < share[3][1])
            continue
        g.tasks += n
        g.input_tokens += i
        g.output_tokens += o
        g.cache_read_tokens += cr
        g.cache_creation_tokens += cw
    return simulate_report(sim.tally, sim.defaults, config, compare, base, pricing, name)
