"""What-if on tasks already grouped by attribute set (the web UI's recorded history).

Each group (a task's attributes as JSON, with how many tasks share them and
their summed tokens) is routed once under config A and B, instead of once per
task; a group whose decision a ``weighted`` rule draws is routed per task, the
group's tokens shared out evenly. Budgets need tasks in order, so a config with
budgets is not for this path (:func:`simulate_groups` refuses it).

Between what-ifs against the same saved config A, a :class:`SavedDecisions`
keeps A's decision (and the parsed task) per group: A is routed once per
group per saved config, not per request. When config B is A with only rules
changed (:func:`~tacroute.whatif.affected.changed_rules`), a group that no
changed rule matches keeps A's decision under B, and only the others are
routed under B; the report is the same as routing every group under both.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import orjson

from tacroute.config.model import Config
from tacroute.errors import UsageError
from tacroute.taskattrs import task_problem
from tacroute.types.run import Usage
from tacroute.whatif.affected import changed_rules, matched_by_any
from tacroute.whatif.compare import simulate_report
from tacroute.whatif.inputs import TaskFileError, target_of, what_if_router
from tacroute.whatif.simulate import _RANDOM, MEMO_LIMIT, _prepare, priced
from tacroute.whatif.tally import Report, Tally, Target

__all__ = ["SavedDecisions", "TaskGroup", "simulate_groups"]

#: ``(attributes as JSON, [tasks, input, output, cache read, cache creation tokens])``.
TaskGroup = tuple[bytes, list[int]]


class SavedDecisions:
    """Config A's decision per group key (with the parsed task), for what-ifs against ``config``.

    Valid as long as ``config`` is the saved config (a decision depends only on
    the config and the group's attributes, hour included): make a new one when
    it changes. Safe to share between threads.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._router: Any = None
        self._known: dict[bytes, tuple[dict[str, Any], Target]] = {}

    def get(self, key: bytes, name: str) -> tuple[dict[str, Any], Target]:
        """(task, target under A) of group ``key``; TaskFileError for attributes that are not valid."""
        hit = self._known.get(key)
        if hit is not None:
            return hit
        task = orjson.loads(key)
        problem = task_problem(task)
        if problem is not None:
            raise TaskFileError(name, 0, problem)
        with self._lock:
            if self._router is None:
                self._router = what_if_router(self.config, 0)
            hit = (task, target_of(self._router.route(task)))
            if len(self._known) >= MEMO_LIMIT:
                self._known.clear()
            self._known[key] = hit
        return hit


def simulate_groups(config: Config, compare: Config, groups: Iterable[TaskGroup], name: str,
                    defaults: Usage | None = None, saved: SavedDecisions | None = None) -> Report:
    """The ``simulate --compare`` report of ``groups`` under ``config`` and ``compare``.

    ``saved``: config A's decisions kept from earlier calls (for ``config``; ignored otherwise).
    """
    from tacroute.preferences import has_preferences, preferences

    for c in (config, compare):
        if has_preferences(c) and preferences(c).budgeted():
            raise UsageError("a config with budgets needs its tasks in order: use simulate or replay")
    changed = changed_rules(config, compare)
    if changed is not None:
        if saved is None or saved.config is not config:
            saved = SavedDecisions(config)
        return _only_changed(config, compare, groups, name, defaults, saved, changed)
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


def _only_changed(config: Config, compare: Config, groups: Iterable[TaskGroup], name: str,
                  defaults: Usage | None, saved: SavedDecisions, changed: tuple[Any, ...]) -> Report:
    """:func:`simulate_groups` routing under B only the groups a changed rule matches."""
    defaults, base, pricing = priced(config, compare, None, defaults)
    tally = Tally()
    router_b: Any = None
    get = saved.get
    for key, (n, i, o, cr, cw) in groups:
        task, a = get(key, name)
        b = a
        if changed and matched_by_any(changed, task):
            if router_b is None:
                router_b = what_if_router(compare, 1)
            b = target_of(router_b.route(task))
        g = tally.group(a, b)
        g.tasks += n
        g.input_tokens += i
        g.output_tokens += o
        g.cache_read_tokens += cr
        g.cache_creation_tokens += cw
    return simulate_report(tally, defaults, config, compare, base, pricing, name)
