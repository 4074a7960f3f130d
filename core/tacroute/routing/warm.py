"""What a decision depends on, so that :class:`~tacroute.routing.ModelRouter` can keep
decisions per task attributes and answer a repeated task without matching it again.

A decision is a function of the task's well-known attributes (which
:func:`~tacroute.taskattrs.task_problem` checks), of the attributes the rule
table's conditions read, and, for a task without an ``hour``, of the clock's
hour, when every condition says what it reads (:attr:`ConditionIndex.reads
<tacroute.types.ConditionIndex>`). The router then keys its decisions on those
values, for tasks whose values are of plain types only (a ``str``, an ``int``
that is no ``bool``; for ``labels`` also a list of ``str``) or absent: two such values that
compare equal are the same value, so they are checked and matched alike. A value of
any other type (``True``, ``1.0``, a ``str`` subclass, a tuple, text for a
number, None: a condition may tell None from absent) is decided the long way,
checked and matched, and not kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tacroute.taskattrs import WELL_KNOWN
from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    from tacroute.clock import HourClock
    from tacroute.config.model import RuleConfig
    from tacroute.types import Task

__all__ = ["ABSENT", "KEPT", "Keying", "extra_key", "keying"]



class _Absent:
    """In a key: an attribute the task does not have (None is a value a task may give)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()

#: At most this many task keys are kept per router; when full, it starts afresh.
KEPT = 1024


class Keying(NamedTuple):
    """How a rule table's decisions are keyed, or that they cannot be (``ok`` False)."""

    ok: bool
    #: Attributes read beyond the well-known ones, sorted.
    extra: tuple[str, ...] = ()
    #: The hour(s) of the clock(s) read for a task without ``hour``; None when none is read.
    hours: Callable[[], Any] | None = None


def keying(rules: Sequence[RuleConfig]) -> Keying:
    """Whether (and on what) decisions of ``rules`` (the enabled ones) can be kept."""
    reads: set[str] = set()
    clocks: dict[int, HourClock] = {}
    for rule in rules:
        indexes = rule.indexes or (None,) * len(rule.predicates)
        if len(indexes) != len(rule.predicates):
            return Keying(False)
        for ix in indexes:
            if ix is None or ix.reads is None:
                return Keying(False)
            reads |= ix.reads
            if ix.clock is not None:
                clocks[id(ix.clock)] = ix.clock
    extra = tuple(sorted(reads - WELL_KNOWN))
    if not clocks:
        return Keying(True, extra)
    if len(clocks) == 1:
        return Keying(True, extra, next(iter(clocks.values())).hour)
    each = tuple(clocks.values())
    return Keying(True, extra, lambda: tuple(c.hour() for c in each))


def extra_key(key: tuple[Any, ...], task: Task, extra: tuple[str, ...]) -> tuple[Any, ...] | None:
    """``key`` with ``task``'s values of the ``extra`` attributes, or None when one is of no plain type."""
    values = tuple(task.get(name, ABSENT) for name in extra)
    for v in values:
        if v is not ABSENT and type(v) is not str and type(v) is not int:
            return None
    return (*key, values)
