"""From the matching rules' candidates to one :class:`~tacroute.types.Decision`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tacroute.types import Candidate, Decision

if TYPE_CHECKING:
    from tacroute.types import CandidateGate

__all__ = ["assemble_decision"]


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
