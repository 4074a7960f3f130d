"""A rule's targets, compiled: the ``ordered``, ``weighted`` and ``cheapest`` strategies.

Every enabled rule compiles to a :class:`TargetSet`; a plain rule (one
``provider``/``model``) is a set of one target, so the router has one loop
for both kinds and a config of plain rules pays nothing for strategies.

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

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tacroute.tuples import NamedTuple
from tacroute.types import Candidate

if TYPE_CHECKING:
    from random import Random

    from tacroute.config.model import RuleConfig
    from tacroute.pricing import PricingTable
    from tacroute.types import StatsSource, Usage

__all__ = ["TargetSet", "compile_rules", "compile_targets"]

Availability = Callable[[str], tuple[bool, str | None]]


class TargetSet(NamedTuple):
    """One rule, compiled: what it expands to at decision time (a plain rule: one candidate)."""

    rule: RuleConfig
    #: Candidates in order (ordered: file order; cheapest: by price, unmet ones left out;
    #: a plain rule: its one candidate, available or not).
    candidates: tuple[Candidate, ...]
    #: Passed over whatever the task: unmet requirement or provider unavailable.
    skipped: tuple[Candidate, ...]
    #: weighted: cumulative weights over ``candidates`` (available ones only).
    cumulative: tuple[float, ...] = ()

    def expand(self, rng: Random | None) -> Sequence[Candidate]:
        """This decision's candidate order (weighted: one draw by weight goes first)."""
        if not self.cumulative or rng is None:
            return self.candidates
        total = self.cumulative[-1]
        if total <= 0:  # only weight-0 targets are available: file order
            return self.candidates
        from bisect import bisect_right  # weighted targets only

        i = bisect_right(self.cumulative, rng.random() * total)
        i = min(i, len(self.candidates) - 1)
        if i == 0:
            return self.candidates
        c = self.candidates
        return (c[i], *c[:i], *c[i + 1:])


def compile_rules(rules: Iterable[RuleConfig], availability: Availability, stats: StatsSource | None,
                  config_raw: Mapping[str, Any] | None) -> tuple[tuple[TargetSet, ...], dict[int, str]]:
    """Compile rules (enabled, in priority order); also each candidate's decision reason (by ``id``).

    The price table and the reference task are read only when a rule uses ``cheapest``.
    """
    rules = tuple(rules)
    pricing: PricingTable | None = None
    reference: Usage | None = None
    if any(r.targets and r.strategy == "cheapest" for r in rules):
        from tacroute.pricing import PricingTable, estimate_usage

        pricing = PricingTable.load(config_raw)
        reference = estimate_usage(config_raw)
    sets: list[TargetSet] = []
    reasons: dict[int, str] = {}
    availability = _asked_once(availability)  # 5,000 rules name a handful of providers
    for rule in rules:
        if rule.targets:
            ts, why = compile_targets(rule, availability, stats, pricing, reference)
            reasons.update(why)
        else:
            ok, reason = availability(rule.provider)
            c = Candidate(rule.provider, rule.model, rule.name, ok, reason)
            ts = TargetSet(rule, (c,), ())
            reasons[id(c)] = f"matched rule {rule.name!r} (priority {rule.priority})"
        sets.append(ts)
    return tuple(sets), reasons


def _asked_once(availability: Availability) -> Availability:
    """``availability``, each provider asked about once (for one build: it does not change within it)."""
    known: dict[str, tuple[bool, str | None]] = {}

    def ask(provider: str) -> tuple[bool, str | None]:
        got = known.get(provider)
        if got is None:
            got = known[provider] = availability(provider)
        return got

    return ask


def compile_targets(rule: RuleConfig, availability: Availability, stats: StatsSource | None,
                    pricing: PricingTable | None,
                    reference: Usage | None) -> tuple[TargetSet, dict[int, str]]:
    """Compile one rule with ``targets``; also each candidate's decision reason (by ``id``).

    ``pricing`` and ``reference`` are needed only for ``cheapest``."""
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
            cost = price.cost(reference) if reference is not None and price is not None else float("inf")
            note = ""
            if rule.requires is not None:
                from tacroute.routing.stats import check_requirements  # only `requires` reads it

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
        assert reference is not None
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
