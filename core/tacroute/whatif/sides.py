"""The router one side of a what-if (config A, or the compared config B) routes with.

A config without ``[projects]`` / ``[users]`` gets a plain ModelRouter; one
with them a PreferenceRouter (every enabled provider counts as available, no
gate, no repository file). When entries have budgets, the side keeps its own
in-memory spend table: tasks are routed in order, each routed task's tokens
priced at the model it went to are added to its project's and user's
spend, and the router's clock is the task's time, so a month of tasks hits a
budget where it would. A task a budget blocks costs nothing.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tacroute.preferences import has_preferences, preferences
from tacroute.preferences.spend import SpendTable, period_bounds
from tacroute.pricing import PricingTable
from tacroute.routing import ModelRouter
from tacroute.whatif.inputs import AssumeAvailable, target_of
from tacroute.whatif.tally import BLOCKED

if TYPE_CHECKING:
    from datetime import tzinfo

    from tacroute.config.model import Config
    from tacroute.preferences.budgetcheck import Verdict
    from tacroute.preferences.combo import _Combo
    from tacroute.preferences.router import PreferenceRouter
    from tacroute.types import Decision, Task, Usage
    from tacroute.whatif.tally import Target

__all__ = ["SimSpend", "WhatIfSide", "task_time"]


class SimSpend(SpendTable):
    """A spend table fed only by simulated tasks: a new day zeroes the day's spend and keeps the
    month's; a new month starts from nothing."""

    def _roll(self, now: float) -> None:
        month = period_bounds(now, self.tz, "month")
        with self.lock:
            self.day = period_bounds(now, self.tz, "day")
            if month == self.month:
                for v in self.spend.values():
                    v[0] = 0.0
            else:
                self.month = month
                self.spend = {}


class _Clock:
    __slots__ = ("now",)

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _blocking_router(config: Config, rng: random.Random, spend: SpendTable | None,
                     clock: _Clock) -> PreferenceRouter:
    from tacroute.preferences.router import PreferenceRouter

    class Marking(PreferenceRouter):
        """Remembers the last decision a budget blocked (what-if routing is single-threaded)."""

        blocked: Decision | None = None

        def _over_budget(self, combo: _Combo, d: Decision, v: Verdict) -> Decision:
            out = super()._over_budget(combo, d, v)
            if not out.available:
                self.blocked = out
            return out

    return Marking(config, preferences(config), providers=AssumeAvailable(config), rng=rng,
                   spend=spend, clock=clock)


class WhatIfSide:
    """Routes tasks for one config of a what-if (see the module's text)."""

    def __init__(self, config: Config, rng: random.Random, start: float) -> None:
        self.config = config
        self.clock = _Clock(start)
        self.pricing = PricingTable.load(config.raw)
        self.spend: SimSpend | None = None
        self.router: Any
        rules = list(config.rules)
        if has_preferences(config):
            prefs = preferences(config)
            rules += [r for e in (*prefs.projects, *prefs.users) for r in e.rules]
            if prefs.budgeted():
                self.spend = SimSpend(prefs, config.timezone)
            self.router = _blocking_router(config, rng, self.spend, self.clock)
        else:
            self.router = ModelRouter(config, AssumeAvailable(config), rng=rng)
        #: Rules whose decisions are drawn at random (never memoised).
        self.weighted = {r.name for r in rules if r.strategy == "weighted"}

    @property
    def budgeted(self) -> bool:
        return self.spend is not None

    def route(self, task: Task) -> Decision:
        d: Decision = self.router.route(task)
        return d

    def charged(self, task: Task, at: float, usage: Usage) -> Target:
        """Route ``task`` as of ``at`` and count its cost toward its budgets; BLOCKED when a budget
        stops it."""
        self.clock.now = at
        router = self.router
        d: Decision = router.route(task)
        if d is router.blocked:
            return BLOCKED
        spend = self.spend
        assert spend is not None
        cost = self.pricing.cost(d.model, usage)
        if cost:
            spend.current(at)
            spend.add(task.get("project"), task.get("user"), cost, at)
        return target_of(d)


def task_time(value: Any, default: float, tz: tzinfo | None) -> float | None:
    """A task's ``started_at`` (epoch seconds, or an ISO 8601 time; without an offset: in ``tz``,
    local time without one) in epoch seconds; ``default`` when absent, None when it is neither."""
    if value is None:
        return default
    if type(value) in (int, float):
        return float(value)
    if isinstance(value, str):
        try:
            t = datetime.fromisoformat(value)
        except ValueError:
            return None
        if t.tzinfo is None and tz is not None:
            t = t.replace(tzinfo=tz)
        return t.timestamp()
    return None
