"""What the PreferenceRouter keeps per (project, user) pair, and how it adjusts a decision for it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tacroute.types import Decision

if TYPE_CHECKING:
    from tacroute.preferences.model import Entry
    from tacroute.preferences.spend import Key
    from tacroute.routing.router import ModelRouter

__all__ = ["_Combo"]


class _Combo:
    """What routing a (project, user) pair needs, worked out at its first task."""

    __slots__ = ("budgets", "cells", "checks", "last", "plain", "prefer", "project", "random", "refused",
                 "router", "user")

    def __init__(self, router: ModelRouter, project: Entry | None, user: Entry | None,
                 budgets: tuple[tuple[Entry, Key], ...], prefer: tuple[str, ...]) -> None:
        self.router, self.project, self.user = router, project, user
        self.budgets, self.prefer = budgets, prefer
        self.refused = bool(getattr(router.providers, "_refused", None))
        #: A rule of the pair's draws its candidates' order (``weighted``): its decisions are not kept.
        self.random = any(r.enabled and r.strategy == "weighted" for r in router.config.rules)
        #: (key, 0 for the day's spend or 1 for the month's, threshold) of every budget amount: a
        #: spend at or over the threshold may be over (then :func:`verdict` decides). The threshold
        #: sits a hair under ``usd - reserve_usd``, so that rounding never lets an over budget pass.
        self.checks = tuple((key, 0 if lim.period == "day" else 1,
                             lim.usd if not e.budget.reserve_usd
                             else lim.usd - e.budget.reserve_usd - 1e-9 * (1.0 + abs(lim.usd)))
                            for e, key in budgets if e.budget is not None for lim in e.budget.limits)
        #: Nothing to do after the entries' router: no refused provider, no prefer, no budget.
        self.plain = not (self.refused or prefer or self.checks)
        #: (the router's decision, what it becomes) for the last decision: the router hands back
        #: the same (cached) decision object for the same matching rules. One tuple: replaced whole.
        self.last: tuple[Decision | None, Decision | None] = (None, None)
        #: (the spend table's dict, ((its [day, month] list of a key, i, threshold), ...)): the
        #: lists are updated in place, so while the table holds the same dict no look-up is needed.
        self.cells: tuple[object, tuple[tuple[list[float], int, float], ...]] = (None, ())

    def bind(self, table: dict[Key, list[float]]) -> tuple[object, tuple[tuple[list[float], int, float],
                                                                            ...]]:
        """The cells of ``table`` this pair's budgets read (a key not spent yet gets its zeros, which
        the table's ``add`` then adds to: ``setdefault`` on both sides)."""
        self.cells = (table, tuple((table.setdefault(key, [0.0, 0.0]), i, threshold)
                                   for key, i, threshold in self.checks))
        return self.cells

    def adjust(self, d: Decision) -> Decision:
        """``d`` with refused candidates explained and ``prefer_providers`` applied."""
        first = d
        if not d.available and self.refused:
            d = _not_refused(d)
        if self.prefer and d.fallbacks:
            d = _prefer(d, self.prefer)
        self.last = (first, d)
        return d


def _not_refused(d: Decision) -> Decision:
    """An unavailable decision names a candidate the entries refuse only when nothing else is left."""
    refused = [c for c in d.skipped if c.reason and (" by project " in c.reason or " by user " in c.reason)]
    if not refused or (d.provider, d.model) not in {(c.provider, c.model) for c in refused}:
        return d
    other = next((c for c in d.skipped if c not in refused), None)
    if other is None:
        return d._replace(reason=f"every candidate is refused: {refused[0].reason}")
    return d._replace(provider=other.provider, model=other.model, rule=other.rule,
                      reason=f"no candidate is available; {other.provider}/{other.model} "
                             f"({other.rule or 'default'}): {other.reason} (refused: "
                             + ", ".join(f"{c.provider}/{c.model}" for c in refused) + ")")


def _prefer(d: Decision, prefer: tuple[str, ...]) -> Decision:
    """The decision with the preferred providers' candidates first (in ``prefer`` order)."""
    cands = d.candidates
    rank = {p: i for i, p in enumerate(prefer)}
    ordered = sorted(cands, key=lambda c: rank.get(c.provider, len(rank)))
    if ordered[0] is cands[0] and ordered == list(cands):
        return d
    first = ordered[0]
    reason = (f"{d.reason}; {first.provider}/{first.model} moved first by prefer_providers"
              if first is not cands[0] else d.reason)
    return Decision(first.provider, first.model, first.rule, reason, tuple(ordered[1:]), d.skipped,
                    d.available)
