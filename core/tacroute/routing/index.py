"""Which rules match a task, by bitsets: the cost follows the conditions, not the rules.

Rule ``i`` (enabled rules in priority order) is bit ``i``. For each condition
that offers a :class:`~tacroute.types.ConditionIndex` (the built-ins do), the
rules using it are grouped by the condition's key function; a group keeps, per
key a task can have, the bitset of its rules that accept that key, plus the
"any" mask of rules without the condition (they match every value). A decision
calls each group's key function once, looks its key(s) up, and ANDs the
groups' bitsets. Conditions without an index keep their predicates, which then
run only on the rules the groups left (in priority order, first failing one
ends the rule's test, as before). A table hardly larger than its number of
groups (the seed's five rules) is matched by its predicates alone: faster there.

Whole-number ranges (``retry_count``'s ``gte``/``lt``...) are cut at every
range end of every rule into segments, each with its bitset; a key is then one
bisection away from its segment (:mod:`bisect`, loaded only for a table matched
by its groups: the seed's five rules, matched by their predicates, never bisect).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    from tacroute.config.model import RuleConfig
    from tacroute.types import ConditionIndex, Predicate, Task

__all__ = ["RuleIndex"]


class _Group(NamedTuple):
    """One key function's lookup tables."""

    key_of: Callable[[Task], Any]
    many: bool
    #: key -> rules accepting it, OR-ed with ``any`` (single keys) or without it (``many``).
    table: dict[Hashable, int]
    #: Rules without this condition: they match whatever the key.
    any: int
    #: Range segments' start points and, per segment, its rules (``any`` included); () without ranges.
    bounds: tuple[float, ...]
    segments: tuple[int, ...]


class _Build:
    """One group while the index is built: rule positions, made bitsets once at the end (OR-ing
    bit after bit into 5,000-bit integers copied each whole integer: quadratic in the rules)."""

    __slots__ = ("key_of", "keys", "last", "many", "ranges", "rules")

    def __init__(self, key_of: Callable[[Task], Any], many: bool) -> None:
        self.key_of = key_of
        self.many = many
        self.keys: dict[Hashable, list[int]] = {}
        self.ranges: list[tuple[float, float, int]] = []
        self.rules: list[int] = []
        self.last = -1  # the last rule added (rules come in order)


def _mask(positions: Sequence[int], size: int) -> int:
    """The bitset with bit ``i`` set for each ``i`` in ``positions`` (each below ``size``)."""
    if len(positions) <= 8:
        mask = 0
        for i in positions:
            mask |= 1 << i
        return mask
    buf = bytearray((size >> 3) + 1)
    for i in positions:
        buf[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(buf, "little")


class RuleIndex:
    """The matching of one rule list (enabled rules, in priority order)."""

    __slots__ = ("all", "bisect", "groups", "many", "ranged", "residual", "single", "small", "tests")

    def __init__(self, rules: Sequence[RuleConfig], *, by_groups: bool = False) -> None:
        """``by_groups``: match by the bitsets even a table small enough for its predicates."""
        self.all = (1 << len(rules)) - 1
        builds: dict[tuple[str, Callable[[Task], Any], bool], _Build] = {}
        tests: dict[int, Predicate] = {}
        for i, rule in enumerate(rules):
            rest: list[Predicate] = []
            indexes: Sequence[ConditionIndex | None] = rule.indexes or (None,) * len(rule.predicates)
            for name, pred, ix in zip(rule.conditions, rule.predicates, indexes):
                if ix is None or (ix.many and ix.ranges):  # ranges are for single keys
                    rest.append(pred)
                    continue
                b = builds.get((name, ix.key_of, ix.many))
                if b is None:
                    b = builds[(name, ix.key_of, ix.many)] = _Build(ix.key_of, ix.many)
                if b.last == i:  # the same group twice in one rule: keep the second as a predicate
                    rest.append(pred)
                    continue
                b.last = i
                b.rules.append(i)
                for k in ix.keys:
                    held = b.keys.get(k)
                    if held is None:
                        b.keys[k] = [i]
                    else:
                        held.append(i)
                if ix.ranges:
                    b.ranges.extend((lo, hi, 1 << i) for lo, hi in ix.ranges)
            if rest:
                tests[1 << i] = _combine(rest)
        self.groups = tuple(_group(b, self.all, len(rules)) for b in builds.values())
        #: A table barely larger than its number of groups is faster by its predicates.
        self.small = tuple((1 << i, _combine(r.predicates)) for i, r in enumerate(rules)) \
            if len(rules) <= len(self.groups) + 2 and not by_groups else None
        # The same groups by kind, as plain tuples: the loops below are the hot path.
        self.single = tuple((g.key_of, g.table, g.any) for g in self.groups if not g.many and not g.bounds)
        self.many = tuple((g.key_of, g.table, g.any) for g in self.groups if g.many)
        self.ranged = tuple((g.key_of, g.table, g.any, g.bounds, g.segments)
                            for g in self.groups if g.bounds)
        #: ``bisect.bisect_right`` for the ranged groups of a table matched by its groups.
        self.bisect: Callable[[Sequence[float], float], int] | None = None
        if self.ranged and self.small is None:
            from bisect import bisect_right

            self.bisect = bisect_right
        #: Rules with predicates left to call: bit -> their predicates, combined.
        self.tests = tests
        self.residual = sum(tests)

    def match(self, task: Task) -> int:
        """The bit mask of the rules matching ``task``."""
        if self.small is not None:
            mask = 0
            for bit, pred in self.small:
                if pred(task):
                    mask |= bit
            return mask
        cand = self.all
        for key_of, table, anym in self.single:
            cand &= table.get(key_of(task), anym)
        for key_of, table, anym in self.many:
            bits = anym
            for k in key_of(task):
                bits |= table.get(k, 0)
            cand &= bits
        bisect = self.bisect
        if bisect is not None:  # set exactly when there are ranged groups
            for key_of, table, anym, bounds, segments in self.ranged:
                k = key_of(task)
                if type(k) is int:
                    cand &= segments[bisect(bounds, k)] | table.get(k, 0)
                else:
                    cand &= table.get(k, 0) | anym
        left = cand & self.residual
        while left:  # each left rule's own predicates, lowest bit first
            low = left & -left
            if not self.tests[low](task):
                cand ^= low
            left ^= low
        return cand


def _group(b: _Build, everything: int, size: int) -> _Group:
    anym = everything & ~_mask(b.rules, size)
    keys = {k: _mask(v, size) for k, v in b.keys.items()}
    table = keys if b.many else {k: v | anym for k, v in keys.items()}
    if not b.ranges:
        return _Group(b.key_of, b.many, table, anym, (), ())
    ends = [(lo, hi + 1, bit) for lo, hi, bit in _disjoint(b.ranges)]  # [lo, end)
    points = sorted({p for lo, end, _ in ends for p in (lo, end) if not math.isinf(p)})
    # Segment j covers [points[j-1], points[j]); a range toggles its rule on at its
    # start segment and off from its end's (a rule's ranges are made disjoint first).
    # Every finite end is a point: its segment is the one after it (bisect_right).
    segment_of = {p: j for j, p in enumerate(points, 1)}
    toggles = [0] * (len(points) + 2)
    for lo, end, bit in ends:
        start = 0 if math.isinf(lo) else segment_of[lo]
        end_at = len(points) + 1 if math.isinf(end) else segment_of[end]
        toggles[start] ^= bit
        toggles[end_at] ^= bit
    segments, running = [], 0
    for t in toggles[:-1]:
        running ^= t
        segments.append(running | anym)
    table = {k: v & ~anym for k, v in table.items()}  # an int key also gets its segment's rules
    return _Group(b.key_of, b.many, table, anym, tuple(points), tuple(segments))


def _always(task: Task) -> bool:
    return True


def _combine(predicates: Sequence[Predicate]) -> Predicate:
    if not predicates:
        return _always
    if len(predicates) == 1:
        return predicates[0]
    preds = tuple(predicates)
    return lambda task: all(p(task) for p in preds)


def _disjoint(ranges: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    """Each rule's whole-number ranges merged where they overlap or touch (a plugin may give
    ``[0, 0]`` as two equal ranges: toggled twice, the rule would drop out)."""
    out: list[tuple[float, float, int]] = []
    for lo, hi, bit in sorted(ranges, key=lambda r: (r[2], r[0], r[1])):
        if out and out[-1][2] == bit and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi), bit)
        else:
            out.append((lo, hi, bit))
    return out
