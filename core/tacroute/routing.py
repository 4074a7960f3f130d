"""ModelRouter: which provider and model should do a task, and why.

Everything that can be worked out once is worked out when the router is built:
rules sorted by priority (ties keep file order), each rule's conditions
combined into one predicate, each rule's candidate (with its provider's
availability) made ready. A decision then only calls those predicates and
picks from the prepared candidates: no hooks, no config lookups.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from tacroute.errors import InvalidTaskError
from tacroute.providers import ProviderManager
from tacroute.taskattrs import task_problem
from tacroute.types import Candidate, Decision, Predicate, Task

if TYPE_CHECKING:
    from pathlib import Path
    from random import Random

    from tacroute.config.model import Config
    from tacroute.errors import ConfigError
    from tacroute.outcomes import CandidateGate, StatsSource
    from tacroute.strategies import MultiRouter

__all__ = ["ConditionTrace", "ModelRouter", "RuleTrace", "assemble_decision", "router_with_history"]


class ConditionTrace(NamedTuple):
    name: str
    value: Any
    passed: bool


class RuleTrace(NamedTuple):
    """One rule as ``route --explain`` shows it."""

    name: str
    priority: int
    enabled: bool
    provider: str
    model: str
    conditions: tuple[ConditionTrace, ...]
    matched: bool
    available: bool
    reason: str | None
    #: Rules with several targets: the strategy and "provider/model" of each.
    strategy: str | None = None
    targets: tuple[str, ...] = ()


def _always(task: Task) -> bool:
    return True


def _combine(predicates: Sequence[Predicate]) -> Predicate:
    if not predicates:
        return _always
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        a, b = predicates
        return lambda task: a(task) and b(task)
    preds = tuple(predicates)
    return lambda task: all(p(task) for p in preds)


def assemble_decision(matched: Sequence[Candidate], skipped: list[Candidate], default: Candidate,
                      gate: CandidateGate | None, reason_of: Callable[[Candidate], str]) -> Decision:
    """A decision from the matching rules' candidates, in order, then the default.

    The first usable candidate is chosen and the others are its fallbacks
    (each provider/model once); unavailable candidates, and those ``gate``
    skips now, go to ``skipped`` with their reasons. With nothing usable, the
    decision names what the rules chose, marked unavailable. ``skipped`` may
    already hold candidates passed over earlier (unavailable targets).
    """
    usable: list[Candidate] = []
    seen: set[tuple[str, str]] = set()
    any_rule = bool(matched or skipped)
    for c in (*matched, default):
        if c.available and gate is not None:
            why = gate.skip_reason(c.provider, c.model)
            if why is not None:
                c = Candidate(c.provider, c.model, c.rule, False, why)
        if not c.available:
            skipped.append(c)
            continue
        key = (c.provider, c.model)
        if key not in seen:
            seen.add(key)
            usable.append(c)
    if usable:
        first = usable[0]
        if first.rule is not None:
            reason = reason_of(first)
        elif any_rule:
            reason = "matching rules' candidates are unavailable or skipped: using the default"
        else:
            reason = "no rule matched: using the default"
        return Decision(first.provider, first.model, first.rule, reason, tuple(usable[1:]), tuple(skipped))
    chosen = next((c for c in skipped if c.rule is not None), skipped[-1])
    if chosen.rule is None:
        return Decision(chosen.provider, chosen.model, None,
                        f"no rule matched; the default is unavailable: {chosen.reason}",
                        (), tuple(skipped), available=False)
    return Decision(chosen.provider, chosen.model, chosen.rule,
                    f"no candidate is available; rule {chosen.rule!r} chose "
                    f"{chosen.provider}/{chosen.model} ({chosen.reason})",
                    (), tuple(skipped), available=False)


class ModelRouter:
    """Routes tasks with one config. Cheap to call, safe to share across threads."""

    def __init__(self, config: Config, providers: ProviderManager | None = None,
                 registry: Any = None, gate: CandidateGate | None = None,
                 stats: StatsSource | None = None, rng: Random | None = None) -> None:
        """``gate`` (optional) can skip candidates at decision time (cooldowns, rate limits).

        ``stats`` feeds strategy ``cheapest`` (read once per build or reload);
        ``rng`` draws for strategy ``weighted`` (pass a seeded one for repeatable runs).
        """
        self._registry = registry
        self.gate = gate
        self.stats = stats
        self.rng = rng
        self._build(config, providers)

    def _build(self, config: Config, providers: ProviderManager | None) -> None:
        self.config = config
        self.providers = providers or ProviderManager(config, self._registry)
        self._mtime = _mtime(config.path)
        default_ok, default_why = self.providers.is_available(config.default_provider)
        self._default = Candidate(config.default_provider, config.default_model, None,
                                  default_ok, default_why)
        self._enabled = config.routing_enabled
        compiled: list[tuple[Predicate, Candidate, str]] = []
        for rule in config.rules_by_priority():
            if not rule.enabled:
                continue
            ok, why = self.providers.is_available(rule.provider)
            compiled.append((_combine(rule.predicates),
                             Candidate(rule.provider, rule.model, rule.name, ok, why),
                             f"matched rule {rule.name!r} (priority {rule.priority})"))
        self._rules = tuple(compiled)
        self._tests = tuple((1 << i, pred) for i, (pred, _, _) in enumerate(compiled))
        self._cache: dict[int, Decision] = {}
        self._multi: MultiRouter | None = None
        if any(r.targets for r in config.rules if r.enabled):
            # Rules with several targets (tacroute.strategies); plain configs never get here.
            from tacroute.strategies import build_multi

            self._multi = build_multi(config, self.providers, self._default, _combine, self.stats,
                                      self.rng)
            self.rng = self._multi.rng
        self._disabled = self._only_default("routing is disabled")
        self._unmatched = self._only_default("no rule matched")

    def _only_default(self, why: str) -> Decision:
        d = self._default
        if d.available:
            return Decision(d.provider, d.model, None, f"{why}: using the default")
        return Decision(d.provider, d.model, None, f"{why}; the default is unavailable: {d.reason}",
                        skipped=(d,), available=False)

    # ---------------------------------------------------------------- routing
    def route(self, task: Task) -> Decision:
        """Decide for one task (attributes: priority, labels, retry_count, hour, ...).

        Which rules match is all that varies between tasks, so decisions are
        kept per set of matching rules (a bit mask): immutable, and shared.
        A gate (cooldowns, limits) changes over time, so with one nothing is kept.
        Raises :class:`~tacroute.errors.InvalidTaskError` (a ValueError) when a
        well-known attribute is not valid (:mod:`tacroute.taskattrs`).
        """
        problem = task_problem(task)
        if problem is not None:
            raise InvalidTaskError(problem)
        if not self._enabled:
            return self._disabled
        if self._multi is not None:
            return self._multi.route(task, self.gate)
        mask = 0
        for bit, pred in self._tests:
            if pred(task):
                mask |= bit
        if self.gate is not None:
            return self._decide(self._matched(mask))
        decision = self._cache.get(mask)
        if decision is None:
            decision = self._decide(self._matched(mask)) if mask else self._unmatched
            if len(self._cache) >= 4096:
                self._cache.clear()
            self._cache[mask] = decision
        return decision

    def _matched(self, mask: int) -> list[Candidate]:
        return [c for i, (_, c, _) in enumerate(self._rules) if mask >> i & 1]

    def _decide(self, matched: list[Candidate]) -> Decision:
        return assemble_decision(matched, [], self._default, self.gate, self._reason)

    def _reason(self, c: Candidate) -> str:
        for _, cand, reason in self._rules:
            if cand is c:
                return reason
        return "using the default"

    # ---------------------------------------------------------------- explain
    def explain(self, task: Task) -> list[RuleTrace]:
        """Every rule in priority order, each condition's pass or fail."""
        problem = task_problem(task)
        if problem is not None:
            raise InvalidTaskError(problem)
        out: list[RuleTrace] = []
        for rule in self.config.rules_by_priority():
            traces = tuple(
                ConditionTrace(name, value, bool(pred(task)))
                for (name, value), pred in zip(rule.conditions.items(), rule.predicates)
            )
            ok, why = self.providers.is_available(rule.provider)
            out.append(RuleTrace(rule.name, rule.priority, rule.enabled, rule.provider, rule.model,
                                 traces, rule.enabled and all(t.passed for t in traces), ok, why,
                                 rule.strategy if rule.targets else None,
                                 tuple(f"{t.provider}/{t.model}" for t in rule.targets)))
        return out

    # ----------------------------------------------------------------- reload
    def reload(self, path: str | Path | None = None,
               on_error: Callable[[ConfigError], None] | None = None) -> bool:
        """Load the config file again; keep the current config if the new one is invalid.

        Returns True when the new config is in use. An invalid file is reported
        through ``on_error`` (default: printed to stderr) and changes nothing.
        """
        from tacroute.config.loader import load_config
        from tacroute.errors import ConfigError

        target = path if path is not None else self.config.path
        try:
            new = load_config(target, registry=self._registry)
        except ConfigError as exc:
            if on_error is not None:
                on_error(exc)
            else:
                import sys

                print(f"tacroute: config reload failed, keeping the previous config:\n{exc}",
                      file=sys.stderr)
            return False
        self._build(new, None)
        return True

    def refresh_stats(self) -> None:
        """Read the stats source again (strategy ``cheapest``) without reloading the file."""
        self._build(self.config, self.providers)

    def reload_if_changed(self, on_error: Callable[[ConfigError], None] | None = None) -> bool:
        """Reload when the file's modification time changed; True if a new config is in use."""
        mtime = _mtime(self.config.path)
        if mtime == self._mtime:
            return False
        self._mtime = mtime
        return self.reload(on_error=on_error)


def _mtime(path: Path | None) -> float | None:
    if path is None:
        return None
    try:
        return os.stat(path).st_mtime_ns / 1e9
    except OSError:
        return None


def router_with_history(config: Config, *, providers: ProviderManager | None = None,
                        registry: Any = None, state: dict[str, Any] | None = None) -> ModelRouter:
    """The router ``tacroute route`` and ``run_task`` use: what the history records
    feeds it, the cooldowns and provider limits (as its gate) and, when a rule
    uses ``cheapest``, the recorded success rates and durations (read once).
    ``state``: the run's ``RunContext.state`` (see :func:`tacroute.history.open_gate`)."""
    from tacroute.history import open_gate

    stats = None
    if any(r.strategy == "cheapest" and r.enabled for r in config.rules):
        from tacroute.strategies import history_stats

        stats = history_stats(config, registry)
    return ModelRouter(config, providers=providers, registry=registry,
                       gate=open_gate(config, state, registry),
                       stats=stats)
