"""Rules with several targets: the ``ordered``, ``weighted`` and ``cheapest`` strategies.

:class:`ModelRouter` hands its rules to :class:`MultiRouter` only when at least
one enabled rule has ``targets``; configs of plain single-target rules keep the
router's fast path untouched.

Everything that can be known ahead is worked out when the router is built (or
refreshed): provider availability, each target's price for the reference task
and its recorded stats (read once from the :class:`~tacroute.types.StatsSource`,
never per decision). So ``ordered`` and ``cheapest`` rules expand to a fixed
candidate list, and ``weighted`` only draws one random number per decision.

``cheapest`` compares targets by what one *reference task* would cost on each:
the ``[estimate]`` token counts (default: :data:`tacroute.pricing.DEFAULT_ESTIMATE`,
50,000 input and 5,000 output tokens). Anthropic's models keep the same
input/output price ratio, so the mix only changes the order across vendors.
Targets whose recorded success rate or p95 duration miss the rule's
``requires`` are skipped (with the reason); targets with fewer than
``min_samples`` recorded runs count as meeting them, so they get tried.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from tacroute.config.model import Config, Requirements, RuleConfig
from tacroute.pricing import PricingTable, estimate_usage
from tacroute.types import Candidate, CandidateGate, Decision, ModelStats, Predicate, StatsSource, Task, Usage

if TYPE_CHECKING:
    from tacroute.providers import ProviderManager

__all__ = ["DictStats", "MultiRouter", "TargetSet", "build_multi", "check_requirements",
           "compile_targets"]


class DictStats:
    """A :class:`StatsSource` over a plain mapping (tests, and one history query)."""

    def __init__(self, stats: dict[tuple[str, str], ModelStats]) -> None:
        self.stats = stats

    def model_stats(self, provider: str, model: str) -> ModelStats | None:
        return self.stats.get((provider, model))


def check_requirements(req: Requirements, stats: ModelStats | None) -> tuple[bool, str]:
    """Whether recorded stats meet ``req``, and a short why for ``--explain``."""
    n = 0 if stats is None else stats.samples
    if stats is None or n < req.min_samples:
        return True, f"only {n} recorded run(s) (< min_samples {req.min_samples}): tried anyway"
    if req.min_success_rate is not None and stats.success_rate < req.min_success_rate:
        return False, (f"unmet requirement: success rate {stats.success_rate:.0%} < "
                       f"{req.min_success_rate:.0%} over {n} runs")
    if req.max_p95_s is not None and stats.p95_duration_s is not None \
            and stats.p95_duration_s > req.max_p95_s:
        return False, (f"unmet requirement: p95 duration {stats.p95_duration_s:.0f}s > "
                       f"{req.max_p95_s:.0f}s over {n} runs")
    return True, f"meets the requirements over {n} runs"


class TargetSet(NamedTuple):
    """One multi-target rule, compiled: what it expands to at decision time."""

    rule: RuleConfig
    #: Candidates in order (ordered: file order; cheapest: by price, unmet ones left out).
    candidates: tuple[Candidate, ...]
    #: Passed over whatever the task: unmet requirement or provider unavailable.
    skipped: tuple[Candidate, ...]
    #: weighted: cumulative weights over ``candidates`` (available ones only).
    cumulative: tuple[float, ...] = ()

    def expand(self, rng: random.Random) -> Sequence[Candidate]:
        """This decision's candidate order (weighted: one draw by weight goes first)."""
        if not self.cumulative:
            return self.candidates
        total = self.cumulative[-1]
        if total <= 0:  # only weight-0 targets are available: file order
            return self.candidates
        i = bisect.bisect_right(self.cumulative, rng.random() * total)
        i = min(i, len(self.candidates) - 1)
        if i == 0:
            return self.candidates
        c = self.candidates
        return (c[i], *c[:i], *c[i + 1:])


def compile_targets(rule: RuleConfig, availability: Callable[[str], tuple[bool, str | None]],
                    stats: StatsSource | None, pricing: PricingTable | None,
                    reference: Usage) -> tuple[TargetSet, dict[int, str]]:
    """Compile one rule; also the decision reason for each of its candidates (by ``id``)."""
    head = f"matched rule {rule.name!r} (priority {rule.priority}), strategy {rule.strategy}"
    usable: list[tuple[Candidate, float]] = []
    skipped: list[Candidate] = []
    reasons: dict[int, str] = {}
    costed: list[tuple[float, int, Candidate, str]] = []
    for i, t in enumerate(rule.targets):
        ok, why = availability(t.provider)
        if not ok:
            skipped.append(Candidate(t.provider, t.model, rule.name, False, why))
            continue
        c = Candidate(t.provider, t.model, rule.name)
        if rule.strategy == "cheapest":
            price = pricing.get(t.model) if pricing is not None else None
            cost = price.cost(reference) if price is not None else float("inf")
            note = ""
            if rule.requires is not None:
                st = stats.model_stats(t.provider, t.model) if stats is not None else None
                meets, note = check_requirements(rule.requires, st)
                if not meets:
                    skipped.append(Candidate(t.provider, t.model, rule.name, False, note))
                    continue
            costed.append((cost, i, c, note))
        elif rule.strategy == "weighted":
            usable.append((c, t.weight))  # weight 0: never drawn first, still a fallback
            reasons[id(c)] = f"{head}: drawn by weight ({t.weight:g})"
        else:
            usable.append((c, t.weight))
            reasons[id(c)] = f"{head}: target {i + 1} of {len(rule.targets)}"
    if rule.strategy == "cheapest":
        costed.sort(key=lambda x: (x[0], x[1]))
        ref = f"{reference.input_tokens:,} in / {reference.output_tokens:,} out tokens"
        for rank, (cost, _, c, note) in enumerate(costed):
            place = "the cheapest" if rank == 0 else f"cheapest #{rank + 1}"
            reasons[id(c)] = (f"{head}: {place} target meeting the requirements (${cost:.4f} for a "
                              f"reference task of {ref}{'; ' + note if note else ''})")
            usable.append((c, 1.0))
    cands = tuple(c for c, _ in usable)
    cumulative: tuple[float, ...] = ()
    if rule.strategy == "weighted" and cands:
        acc, sums = 0.0, []
        for _, w in usable:
            acc += w
            sums.append(acc)
        cumulative = tuple(sums)
    return TargetSet(rule, cands, tuple(skipped), cumulative), reasons


Entry = Candidate | TargetSet


class MultiRouter:
    """Decides for a config where some rules have several targets."""

    def __init__(self, rules: Sequence[tuple[Predicate, Entry]], default: Candidate,
                 reasons: dict[int, str], rng: random.Random) -> None:
        self.rules = tuple(rules)
        self.default = default
        self.reasons = reasons
        self.rng = rng
        self._tests = tuple((1 << i, pred) for i, (pred, _) in enumerate(self.rules))
        #: Rules whose expansion is drawn per decision: never cached.
        self._random = sum(1 << i for i, (_, e) in enumerate(self.rules)
                           if isinstance(e, TargetSet) and e.cumulative)
        self._cache: dict[int, Decision] = {}

    def route(self, task: Task, gate: CandidateGate | None = None) -> Decision:
        """Decide for one task; ``gate`` may skip candidates now (cooldowns, limits).

        As in the plain router, decisions are kept per set of matching rules,
        except with a gate (it changes over time) or a matching weighted rule.
        """
        mask = 0
        for bit, pred in self._tests:
            if pred(task):
                mask |= bit
        if gate is not None or mask & self._random:
            return self._decide_mask(mask, gate)
        decision = self._cache.get(mask)
        if decision is None:
            decision = self._decide_mask(mask, None)
            if len(self._cache) >= 4096:
                self._cache.clear()
            self._cache[mask] = decision
        return decision

    def _decide_mask(self, mask: int, gate: CandidateGate | None) -> Decision:
        matched: list[Candidate] = []
        for i, (_, entry) in enumerate(self.rules):
            if mask >> i & 1:
                if isinstance(entry, Candidate):
                    matched.append(entry)
                else:
                    matched.extend(entry.expand(self.rng))
                    matched.extend(entry.skipped)  # unavailable: recorded in rule order
        return self.decide(matched, [], gate)

    def decide(self, matched: list[Candidate], skipped: list[Candidate],
               gate: CandidateGate | None = None) -> Decision:
        """The first usable candidate; the rest, then the default, as fallbacks."""
        from tacroute.routing import assemble_decision

        return assemble_decision(matched, skipped, self.default, gate, self._reason)

    def _reason(self, c: Candidate) -> str:
        return self.reasons.get(id(c), f"matched rule {c.rule!r}")


def build_multi(config: Config, providers: ProviderManager, default: Candidate,
                combine: Callable[[Sequence[Predicate]], Predicate], stats: StatsSource | None,
                rng: random.Random | None) -> MultiRouter:
    """Compile a config's enabled rules (plain and multi-target) in priority order."""
    rules = [r for r in config.rules_by_priority() if r.enabled]
    pricing = PricingTable.load(config.raw) if any(r.strategy == "cheapest" for r in rules) else None
    reference = estimate_usage(config.raw)
    entries: list[tuple[Predicate, Entry]] = []
    reasons: dict[int, str] = {}
    for rule in rules:
        pred = combine(rule.predicates)
        if rule.targets:
            ts, why = compile_targets(rule, providers.is_available, stats, pricing, reference)
            entries.append((pred, ts))
            reasons.update(why)
        else:
            ok, reason = providers.is_available(rule.provider)
            c = Candidate(rule.provider, rule.model, rule.name, ok, reason)
            entries.append((pred, c))
            reasons[id(c)] = f"matched rule {rule.name!r} (priority {rule.priority})"
    return MultiRouter(entries, default, reasons, rng if rng is not None else random.Random())


def history_stats(config: Config, registry: object = None) -> StatsSource | None:
    """Recorded stats from the history store, when a ``cheapest`` rule needs them.

    One query (``all_model_stats``) when the router is built; None when no rule
    uses ``cheapest``, ``[history] enabled = false``, nothing was recorded yet
    or the history file cannot be used (a warning on stderr). With a shared
    ``[state]`` backend, the fleet's aggregates instead (this machine's history
    while it cannot be reached).
    """
    if not any(r.strategy == "cheapest" and r.enabled for r in config.rules):
        return None
    from tacroute.state import fleet_model_stats

    fleet = fleet_model_stats(config, registry)
    if fleet is not None:
        return DictStats(fleet)
    from tacroute.history import load_settings

    settings = load_settings(config)
    if not settings.enabled or not settings.path.exists():
        return None
    from tacroute.history.damage import give_up, is_broken
    from tacroute.history.store import HistoryError, HistoryStore

    if is_broken(settings.path):
        return None
    try:
        with HistoryStore(settings.path) as store:
            return DictStats(dict(store.all_model_stats()))
    except HistoryError as exc:  # routing goes on without recorded stats, said once on stderr
        give_up(settings.path, exc)
        return None
