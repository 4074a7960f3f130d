"""What routing works with: a task, a compiled condition, candidates and the decision.

Value types are NamedTuples: immutable, and cheap to create at import
(routing is start-up-bound).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tacroute.tuples import NamedTuple

__all__ = ["DEFAULT_RULE", "Candidate", "Decision", "Predicate", "Task"]

#: A task's attributes: an open mapping (``priority``, ``labels``,
#: ``retry_count``, ``hour`` and anything a custom condition reads).
Task = Mapping[str, Any]

#: A compiled condition: called with the task, returns whether it holds.
Predicate = Callable[[Task], bool]


# --------------------------------------------------------------------- decisions
#: How reports (``stats``, ``simulate``, ``replay``) name the default route:
#: the tasks or runs no rule matched.
DEFAULT_RULE = "(default)"


class Candidate(NamedTuple):
    """One provider/model a decision may use, and whether it can be used now."""

    provider: str
    model: str
    rule: str | None
    available: bool = True
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "rule": self.rule,
            "available": self.available,
            "reason": self.reason,
        }


class Decision(NamedTuple):
    """The router's answer for one task.

    ``provider``/``model``/``rule`` are the first available candidate (or, when
    none is available, what the rules chose, with ``available`` False).
    ``rule`` is None when the default was used and ``reason`` says why.
    ``fallbacks`` are the other available candidates in the order the runner
    should try them; ``skipped`` are the candidates passed over, with reasons.
    """

    provider: str
    model: str
    rule: str | None
    reason: str
    fallbacks: tuple[Candidate, ...] = ()
    skipped: tuple[Candidate, ...] = ()
    available: bool = True

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        """The chosen candidate followed by the fallbacks: the runner's order."""
        first = Candidate(self.provider, self.model, self.rule, self.available,
                          None if self.available else self.reason)
        return (first, *self.fallbacks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "rule": self.rule,
            "reason": self.reason,
            "available": self.available,
            "fallbacks": [
                {"provider": c.provider, "model": c.model, "rule": c.rule} for c in self.fallbacks
            ],
            "skipped": [c.as_dict() for c in self.skipped],
        }
