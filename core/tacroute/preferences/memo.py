"""The PreferenceRouter's final decisions kept per task key, checked against the spend table's version.

Each (project, user) pair's ModelRouter keeps its decisions per task key
(:mod:`tacroute.routing.warm`), but the preference router would still find the
pair, call its router, apply ``prefer_providers`` and compare the budgets at
every decision. :class:`KeptDecisions` keeps the final decision per task key
instead. Its key is ModelRouter's (``route`` is inherited: the same code), over
the rules of every entry and the global rules together, so that equal keys
mean the same pair and the same decision of the pair's router. With each
decision it keeps the spend table's :attr:`~tacroute.preferences.spend.SpendTable.version`
it was checked at. A kept decision of a pair with budgets stands while, after
the freshness check every decision makes (the clock read; the table brought
current when the clock leaves the window in which it has nothing to do: a new
day or month, the next look at the history file's ``data_version``, the next
read of the fleet's spend), the version is the one it was checked at. Every
change bumps it: a spend added, the table read anew from the history file or
the fleet (where other processes' runs and settled budget holds show), a new
period. Then the budgets are compared again, not the rules. A pair without
budgets has nothing to check.

Nothing is kept with a gate (cooldowns and limits change between decisions:
the pair's router asks it each time), for a pair whose rules draw
(``weighted``), nor when a condition does not say what it reads (as ModelRouter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tacroute.preferences.budgetcheck import verdict
from tacroute.routing.router import ModelRouter
from tacroute.routing.warm import KEPT, keying

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tacroute.config.model import RuleConfig
    from tacroute.preferences.combo import _Combo
    from tacroute.preferences.router import PreferenceRouter
    from tacroute.types import Decision, Task

__all__ = ["KeptDecisions"]


class _Memo:
    """One task key's pair, the decision before budgets, and (spend version or None, final decision)."""

    __slots__ = ("adjusted", "combo", "state")

    def __init__(self, combo: _Combo, adjusted: Decision) -> None:
        self.combo, self.adjusted = combo, adjusted
        #: One tuple, replaced whole: a thread reads a version and the decision checked at it.
        self.state: tuple[int | None, Decision] = (None, adjusted)


class KeptDecisions(ModelRouter):
    """Final decisions of ``owner`` per task key (see the module's text). Only ``route`` and the
    keying of ModelRouter are used (its ``__init__``, which compiles rules, is not called): the
    pairs' routers decide."""

    def __init__(self, owner: PreferenceRouter, rules: Sequence[RuleConfig]) -> None:
        keyed = keying([r for r in rules if r.enabled])
        self._keyed = keyed.ok
        self._extra, self._hours = keyed.extra, keyed.hours
        self._seen: dict[tuple[Any, ...], Any] = {}
        self._check = KeptDecisions._fresh
        self._owner = owner
        #: The owner's class's own ``route`` (the instance's is this one's).
        self._uncached = type(owner).route
        self._spend = owner.spend
        self._clock = owner.clock

    def _decide(self, task: Task, key: tuple[Any, ...] | None) -> Decision:
        """The owner's decision, kept under ``key`` (None: a task that is not keyed)."""
        owner = self._owner
        if key is None:
            return self._uncached(owner, task)
        combo = owner._find(task)
        d = combo.router.route(task)  # checks the task: nothing is kept for an invalid one
        if not combo.plain:
            last = combo.last
            d = last[1] if last[0] is d else combo.adjust(d)  # type: ignore[assignment]
        memo = _Memo(combo, d)
        final = self._budgeted(memo, self._clock()) if combo.checks and self._spend is not None else d
        if not combo.random:
            seen = self._seen
            if len(seen) >= 4 * KEPT:  # one store for every pair (each pair's router keeps KEPT)
                seen.clear()
            seen[key] = memo
        return final

    def _fresh(self, memo: _Memo) -> Decision:
        """The kept decision while the spend table has not changed since it was checked."""
        version, final = memo.state
        if version is None:
            return final
        spend = self._spend
        assert spend is not None
        now = self._clock()
        fresh = spend.fresh
        if not fresh[0] <= now < fresh[1]:
            spend.current(now)
        if version == spend.version:
            return final
        return self._budgeted(memo, now)

    def _budgeted(self, memo: _Memo, now: float) -> Decision:
        """Compare the budgets again (:func:`verdict`, what the uncached path's cells stand for)."""
        spend = self._spend
        assert spend is not None
        fresh = spend.fresh
        if not fresh[0] <= now < fresh[1]:
            spend.current(now)
        version = spend.version  # read before the sums: a change while comparing leaves it stale
        found = verdict(memo.combo.budgets, spend, now)
        final = memo.adjusted if found is None else self._owner._over_budget(memo.combo, memo.adjusted, found)
        memo.state = (version, final)
        return final
