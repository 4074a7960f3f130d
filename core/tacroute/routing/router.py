"""ModelRouter: which provider and model should do a task, and why.

Everything that can be worked out once is worked out when the router is built:
rules sorted by priority (ties keep file order), each rule's conditions
combined into one predicate, each rule's candidates (with their providers'
availability) compiled into a :class:`~tacroute.routing.targets.TargetSet`
(a plain rule is a set of one). A decision then only calls those predicates
and picks from the prepared candidates: no hooks, no config lookups.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tacroute.errors import InvalidTaskError
from tacroute.providers import ProviderManager
from tacroute.routing.decision import assemble_decision
from tacroute.routing.index import RuleIndex
from tacroute.routing.targets import compile_rules
from tacroute.routing.warm import ABSENT, KEPT, extra_key, keying
from tacroute.taskattrs import task_problem
from tacroute.tuples import NamedTuple
from tacroute.types import Candidate, Decision, Task

if TYPE_CHECKING:
    from pathlib import Path
    from random import Random

    from tacroute.config.model import Config
    from tacroute.errors import ConfigError
    from tacroute.types import CandidateGate, StatsSource

__all__ = ["ConditionTrace", "ModelRouter", "RuleTrace"]

#: What is kept per set of matching rules: their candidates, the (provider, model)
#: pairs a gate is asked about, and the decision when the gate skips none.
_Kept = tuple[tuple[Candidate, ...], tuple[tuple[str, str], ...], Decision]


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
        rules = [r for r in config.rules_by_priority() if r.enabled]
        self._sets, self._reasons = compile_rules(rules, self.providers.is_available, self.stats,
                                                  config.raw)
        self._index = RuleIndex(rules)
        #: Rules whose candidate order is drawn per decision (weighted): never cached.
        self._random = sum(1 << i for i, ts in enumerate(self._sets) if ts.cumulative)
        if self._random and self.rng is None:
            import random

            self.rng = random.Random()
        #: Per set of matching rules (a bit mask): see _Kept.
        self._cache: dict[int, _Kept] = {}
        #: Per task key (:mod:`tacroute.routing.warm`): the same, for valid tasks only.
        self._seen: dict[tuple[Any, ...], Any] = {}
        #: What a kept decision goes through before it is returned, called with the router and
        #: what was kept (None: nothing): the gate's check. A subclass that keeps other things per
        #: task key checks them here.
        self._check: Callable[[Any, Any], Decision] | None = None if self.gate is None \
            else ModelRouter._gated
        keyed = keying(rules)
        self._keyed = keyed.ok and self._enabled
        self._extra, self._hours = keyed.extra, keyed.hours
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

        Which rules match is all that varies between tasks, so the candidates
        and the decision are kept per set of matching rules (a bit mask, from
        :class:`~tacroute.routing.index.RuleIndex`): immutable, and shared. When
        the rules' conditions say what they read, they are also kept per task
        key (:mod:`tacroute.routing.warm`), for valid tasks only: a repeated
        task is neither checked nor matched again. A gate (cooldowns, limits)
        changes over time: it is asked about the kept candidates each time, and
        the kept decision stands when it skips none. A matching weighted rule
        draws anew each time, so then nothing is kept.
        Raises :class:`~tacroute.errors.InvalidTaskError` (a ValueError) when a
        well-known attribute is not valid (:mod:`tacroute.taskattrs`).
        """
        if type(task) is not dict or not self._keyed:
            return self._decide(task, None)
        # The task's key, inline (a call costs a tenth of the whole): plain types only. An
        # attribute that is absent is ABSENT in the key; one set to None is no plain value (a
        # condition may tell None from absent: retry_count counts absent as 0) and goes the
        # checked way.
        get, absent = task.get, ABSENT
        p, labels = get("priority", absent), get("labels", absent)
        rc, h = get("retry_count", absent), get("hour", absent)
        project, user = get("project", absent), get("user", absent)
        if type(labels) is list:
            labels = tuple(labels)
            for x in labels:
                if type(x) is not str:
                    return self._decide(task, None)
        elif labels is not absent and type(labels) is not str:
            return self._decide(task, None)
        if not ((type(p) is str or p is absent) and (type(rc) is int or rc is absent)
                and (type(h) is int or h is absent) and (project is absent or type(project) is str)
                and (user is absent or type(user) is str)):
            return self._decide(task, None)
        hours = self._hours
        key: tuple[Any, ...] = (p, labels, rc, h, project, user,
                                hours() if h is absent and hours is not None else None)
        if self._extra:
            longer = extra_key(key, task, self._extra)
            if longer is None:
                return self._decide(task, None)
            key = longer
        hit = self._seen.get(key)
        if hit is None:
            return self._decide(task, key)
        check = self._check
        if check is None:
            return hit[2]  # type: ignore[no-any-return]
        return check(self, hit)

    def _decide(self, task: Task, key: tuple[Any, ...] | None) -> Decision:
        """Check and match ``task``; keep the decision under ``key`` (None: do not)."""
        problem = task_problem(task)
        if problem is not None:
            raise InvalidTaskError(problem)
        if not self._enabled:
            return self._disabled
        mask = self._index.match(task)
        if mask & self._random:
            return assemble_decision(self._matched(mask), [], self._default, self.gate, self._reason)
        hit = self._cache.get(mask)
        if hit is None:
            hit = self._prepare(mask)
        if key is not None:
            if len(self._seen) >= KEPT:
                self._seen.clear()
            self._seen[key] = hit
        if self.gate is None:
            return hit[2]
        return self._gated(hit)

    def _gated(self, hit: _Kept) -> Decision:
        """The kept decision, or a new one when the gate now skips one of its candidates."""
        gate = self.gate
        assert gate is not None
        idle = getattr(gate, "skips_nothing_now", None)
        if idle is not None and idle():
            return hit[2]
        for provider, model in hit[1]:
            if gate.skip_reason(provider, model) is not None:
                return assemble_decision(hit[0], [], self._default, gate, self._reason)
        return hit[2]

    def _prepare(self, mask: int) -> _Kept:
        matched = tuple(self._matched(mask))
        decision = assemble_decision(matched, [], self._default, None, self._reason) if mask \
            else self._unmatched
        asked = tuple(dict.fromkeys((c.provider, c.model) for c in (*matched, self._default)
                                    if c.available))
        hit = (matched, asked, decision)
        if len(self._cache) >= 4096:
            self._cache.clear()
        self._cache[mask] = hit
        return hit

    def _matched(self, mask: int) -> list[Candidate]:
        """The candidates of the rules in ``mask``, in priority order."""
        matched: list[Candidate] = []
        sets = self._sets
        while mask:
            low = mask & -mask
            ts = sets[low.bit_length() - 1]
            matched.extend(ts.expand(self.rng))
            matched.extend(ts.skipped)  # passed over whatever the task: in rule order
            mask ^= low
        return matched

    def _reason(self, c: Candidate) -> str:
        return self._reasons.get(id(c), f"matched rule {c.rule!r}")

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
