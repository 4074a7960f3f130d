"""PreferenceRouter: the router for configs with ``[projects]`` or ``[users]`` tables.

It wraps :class:`~tacroute.routing.ModelRouter` rather than changing it. Per
task it finds the project entry and the user entry that govern it, and routes
with a ModelRouter built (once per pair of entries, at first use) from the
config with

- the rules in layer order: the project's, then the user's, then ``routing.rules``;
- the default: the project's, then the user's, then ``routing.default_*``;
- providers the entries deny (or do not allow) marked unavailable, so they
  are skipped like any unavailable candidate, default and rules alike, with the reason.

Then ``prefer_providers`` moves the preferred providers' candidates to the
front, and the budgets are checked against the in-memory spend table
(:mod:`tacroute.preferences.spend`): over a budget, ``block`` leaves no
candidate and ``downgrade`` replaces them with the budget's ``to``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tacroute.config.model import Config
from tacroute.errors import InvalidTaskError
from tacroute.preferences.budgetcheck import Verdict, verdict
from tacroute.preferences.combo import _Combo
from tacroute.preferences.spend import budget_key
from tacroute.providers import ProviderManager
from tacroute.routing.router import ModelRouter
from tacroute.taskattrs import task_problem
from tacroute.types import Candidate, Decision, Task

if TYPE_CHECKING:
    from pathlib import Path
    from random import Random

    from tacroute.history.slots import BudgetRefused
    from tacroute.preferences.model import Entry, Preferences
    from tacroute.preferences.spend import SpendTable
    from tacroute.routing.router import RuleTrace
    from tacroute.state.api import Reservation
    from tacroute.types import CandidateGate, StatsSource

__all__ = ["PreferenceRouter"]


class _Layered(Config):
    """A config whose rules are already in layer order (project, user, global)."""

    __slots__ = ()

    def rules_by_priority(self) -> tuple[Any, ...]:
        return self.rules


class _Filtered(ProviderManager):
    """The providers of a base manager, minus those the task's entries refuse."""

    def __init__(self, base: ProviderManager, entries: tuple[Entry, ...]) -> None:
        self.__dict__.update(base.__dict__)  # the same config, registry, env and status cache
        self._base = base
        self._refused: dict[str, str] = {}
        for e in entries:
            for name in base.config.providers:
                if name not in self._refused and not e.allows(name):
                    how = "denied" if name in e.deny else "not in allow_providers"
                    self._refused[name] = f"{how} by {e.label}"

    def is_available(self, name: str) -> tuple[bool, str | None]:
        why = self._refused.get(name)
        if why is not None:
            return False, why
        return self._base.is_available(name)


def _ordered(rules: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(sorted(rules, key=lambda r: (-r.priority, r.position)))


class PreferenceRouter:
    """Routes like :class:`ModelRouter`, with the preferences and budgets of the task's
    project and user applied (see the module's text). Safe to share across threads."""

    def __init__(self, config: Config, prefs: Preferences, *, providers: ProviderManager | None = None,
                 registry: Any = None, gate: CandidateGate | None = None,
                 stats: StatsSource | None = None, rng: Random | None = None,
                 spend: SpendTable | None = None, clock: Callable[[], float] | None = None) -> None:
        self.config = config
        self.prefs = prefs
        self.gate = gate
        self.spend = spend
        self.clock = clock or time.time
        self._registry = registry
        self._stats = stats
        self._rng = rng
        self.base = ModelRouter(config, providers=providers, registry=registry, gate=gate, stats=stats,
                                rng=rng)
        self.providers = self.base.providers
        self._routers: dict[tuple[int, int], ModelRouter] = {}
        #: project -> user -> its combo (two look-ups of cached string hashes, no tuple to build)
        self._combos: dict[str | None, dict[str | None, _Combo]] = {}
        self._combo_count = 0
        self._keep()

    def _keep(self) -> None:
        """Route through final decisions kept per task key when they can be (:mod:`.memo`): then
        ``route`` is the kept decisions' (no extra call), which falls back on this class's."""
        self.__dict__.pop("route", None)
        if self.gate is not None or type(self)._over_budget is not PreferenceRouter._over_budget:
            return  # a gate changes between decisions; a subclass may watch each over-budget one
        from tacroute.preferences.memo import KeptDecisions

        prefs = self.prefs
        kept = KeptDecisions(self, [*self.config.rules, *(r for e in (*prefs.projects, *prefs.users)
                                                          for r in e.rules)])
        if kept._keyed:
            self.route = kept.route  # type: ignore[method-assign]

    # ------------------------------------------------------------- building
    def _combo(self, project: str | None, user: str | None) -> _Combo:
        pe = self.prefs.projects.match(project)
        ue = self.prefs.users.match(user)
        entries = tuple(e for e in (pe, ue) if e is not None)
        rkey = (id(pe), id(ue))
        router = self._routers.get(rkey)
        if router is None:
            router = self.base if not entries else self._build(pe, ue, entries)
            self._routers[rkey] = router
        budgets = tuple((e, budget_key(e, name)) for e, name in ((pe, project), (ue, user))
                        if e is not None and e.budget is not None and name is not None)
        prefer = tuple(dict.fromkeys(p for e in entries for p in e.prefer))
        combo = _Combo(router, pe, ue, budgets, prefer)
        if self._combo_count >= 65536:
            self._combos, self._combo_count = {}, 0
        self._combos.setdefault(project, {})[user] = combo
        self._combo_count += 1
        return combo

    def _find(self, task: Task) -> _Combo:
        """The combo of the task's project and user (built at first sight; checked strings)."""
        pair = (task.get("project"), task.get("user"))
        if any(v is not None and type(v) is not str for v in pair):
            raise InvalidTaskError(task_problem(task) or "task attributes project and user must be strings")
        found = self._combos.get(pair[0], {}).get(pair[1])
        return found if found is not None else self._combo(*pair)

    def _build(self, pe: Entry | None, ue: Entry | None, entries: tuple[Entry, ...]) -> ModelRouter:
        c = self.config
        rules = (*(_ordered(pe.rules) if pe else ()), *(_ordered(ue.rules) if ue else ()),
                 *c.rules_by_priority())
        layered = _Layered._make(c._replace(
            rules=rules,
            default_provider=(pe and pe.default_provider) or (ue and ue.default_provider)
            or c.default_provider,
            default_model=(pe and pe.default_model) or (ue and ue.default_model) or c.default_model))
        providers = _Filtered(self.base.providers, entries)
        return ModelRouter(layered, providers=providers, registry=self._registry, gate=self.gate,
                           stats=self._stats, rng=self._rng)

    # -------------------------------------------------------------- routing
    def route(self, task: Task) -> Decision:
        """Decide for one task; its ``project`` and ``user`` attributes pick the entries.

        This is the uncached path: most routers answer through their kept decisions
        (:meth:`_keep`), which come here for what they cannot key."""
        get = task.get
        try:
            combo = self._combos[get("project")][get("user")]
        except (KeyError, TypeError):  # first sight, or not strings (unhashable)
            combo = self._find(task)
        d = combo.router.route(task)
        if combo.plain:
            return d
        last = combo.last
        d = last[1] if last[0] is d else combo.adjust(d)  # type: ignore[assignment]
        checks = combo.checks
        spend = self.spend
        if checks and spend is not None:
            now = self.clock()
            fresh = spend.fresh
            if not fresh[0] <= now < fresh[1]:
                spend.current(now)
            table = spend.spend
            cells = combo.cells
            if cells[0] is not table:
                cells = combo.bind(table)
            for cell, i, threshold in cells[1]:  # the common case: under every budget
                if cell[i] >= threshold:
                    found = verdict(combo.budgets, spend, now)
                    if found is not None:
                        d = self._over_budget(combo, d, found)
                    break
        return d

    def _over_budget(self, combo: _Combo, d: Decision, v: Verdict) -> Decision:
        passed_over = tuple(c._replace(available=False, reason=f"budget: {v.short}")
                            for c in d.candidates if c.available) if d.available else ()
        if v.budget.over == "block" or v.budget.to is None:
            return Decision(d.provider, d.model, d.rule, v.message, (), d.skipped + passed_over,
                            available=False)
        p, m = v.budget.to
        ok, why = combo.router.providers.is_available(p)
        if ok and self.gate is not None:
            why = self.gate.skip_reason(p, m)
            ok = why is None
        if not ok:
            return Decision(p, m, None, f"{v.message}; the downgrade target is unavailable: {why}", (),
                            d.skipped + passed_over + (Candidate(p, m, None, False, why),), available=False)
        return Decision(p, m, None, v.message, (), d.skipped + passed_over)

    def reservations(self, task: Task, cand: Candidate) -> list[Reservation]:
        """What an attempt of ``task`` on ``cand`` holds of its budgets (:mod:`.reserve`)."""
        from tacroute.preferences.reserve import reservations

        return reservations(self, task, cand)

    def budget_refused(self, task: Task, decision: Decision, exc: BudgetRefused) -> Decision:
        """The decision once a hold was refused at the start of an attempt (:mod:`.reserve`)."""
        from tacroute.preferences.reserve import refused_decision

        return refused_decision(self, task, decision, exc)

    # ----------------------------------------------------------- explaining
    def explain(self, task: Task) -> list[RuleTrace]:
        """Every rule the task's router checks, in layer order (project, user, global)."""
        self.route(task)  # validates the task and builds its router
        return self._find(task).router.explain(task)

    def layers(self, task: Task, decision: Decision) -> list[dict[str, Any]]:
        """Which layer decided each step, for ``tacroute route --explain``."""
        from tacroute.preferences.explain import layers

        combo = self._find(task)
        return layers(self, combo, task, decision)

    def reload_if_changed(self, on_error: Any = None) -> bool:
        """Reload the file when it changed (the entries' routers are built again at first use)."""
        if not self.base.reload_if_changed(on_error):
            return False
        from tacroute.preferences import preferences

        self.config, self.prefs = self.base.config, preferences(self.base.config)
        self.providers = self.base.providers
        self._routers, self._combos, self._combo_count = {}, {}, 0
        self._keep()
        return True


def preference_router(config: Config, *, providers: ProviderManager | None = None, registry: Any = None,
                      gate: CandidateGate | None = None, cwd: Path | None = None,
                      clock: Callable[[], float] | None = None) -> PreferenceRouter:
    """The router :func:`tacroute.routing.router_with_history` gives a config with preferences:
    budgets read from (and kept current with) the history file, a repository's
    ``.tacroute.toml`` applied when ``[policy] repo_config`` allows it."""
    from tacroute.preferences import preferences
    from tacroute.preferences.spend import shared_spend

    prefs = preferences(config)
    if prefs.repo_config:
        from tacroute.preferences.repo import with_repo_config

        prefs = with_repo_config(config, prefs, cwd, registry)
    stats = None
    rules = [r for e in (*prefs.projects, *prefs.users) for r in e.rules] + list(config.rules)
    if any(r.strategy == "cheapest" and r.enabled for r in rules):
        from tacroute.routing.stats import history_stats

        stats = history_stats(config, registry)
    spend = shared_spend(config, prefs) if prefs.budgeted() else None
    return PreferenceRouter(config, prefs, providers=providers, registry=registry, gate=gate, stats=stats,
                            spend=spend, clock=clock)
