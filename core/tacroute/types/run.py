"""Types of running tasks and learning from them: outcomes, records, stats.

A module of its own so that routing (which needs none of them) does not pay
for creating these classes at start-up. Everything here is also importable
from :mod:`tacroute.types` and :mod:`tacroute`.

The value types are NamedTuples, like routing's: immutable, and about a third
of a frozen dataclass's cost to create at import, which ``tacroute run`` pays
before it can spawn anything. Derive a changed copy with ``._replace(...)``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    from tacroute.types.decision import Decision, Task

__all__ = [
    "AttemptRecord",
    "CandidateGate",
    "ErrorClass",
    "ModelStats",
    "Outcome",
    "OutputParser",
    "ParserSignal",
    "RunResult",
    "StatsSource",
    "Usage",
    "attempt_totals",
]


# -------------------------------------------------------------------- outcomes
class ErrorClass(enum.StrEnum):
    """Why an attempt failed. The runner fails over on some of these."""

    AUTH = "auth"
    RATE_LIMIT = "rate_limit"
    OVERLOADED = "overloaded"
    BAD_REQUEST = "bad_request"
    MODEL_NOT_FOUND = "model_not_found"
    TIMEOUT = "timeout"
    SPAWN_FAILED = "spawn_failed"
    PERMISSION = "permission"
    CRASH = "crash"
    #: Stopped on purpose (a signal to ``tacroute run``, ``run_task(cancel=...)``):
    #: never a provider's fault, so it counts toward no cooldown or failure rate.
    CANCELLED = "cancelled"


class Usage(NamedTuple):
    """Token counts of one attempt (all models it used, side requests included).

    ``input_tokens`` leaves out the cached ones (``cache_read_tokens``);
    ``reasoning_tokens`` is the part of ``output_tokens`` the model spent
    thinking (already counted there, and priced with it).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    reasoning_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:  # type: ignore[override]
        """Field-wise sum (not tuple concatenation)."""
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_creation_tokens + other.cache_creation_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )

    def as_dict(self) -> dict[str, int]:
        """The counts by name (JSON output, history rows)."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_creation_tokens": self.cache_creation_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }


class Outcome(NamedTuple):
    """What an output parser concluded about one finished (or stopped) process."""

    success: bool
    error_class: ErrorClass | None = None
    message: str | None = None
    result: str | None = None
    usage: Usage = Usage()
    cost_usd: float | None = None
    retry_after_s: float | None = None
    api_error_status: int | None = None
    models: tuple[str, ...] = ()
    diagnostics: tuple[str, ...] = ()
    #: The program's own id of the conversation (Claude's ``session_id``, Codex's
    #: ``thread_id``), to find or resume it later.
    session_id: str | None = None
    #: Where ``cost_usd`` comes from: ``"reported"`` by the provider, ``"estimated"``
    #: by tacroute from the tokens and its pricing table; None without a cost.
    cost_source: str | None = None


class ParserSignal(NamedTuple):
    """Returned by :meth:`OutputParser.feed` to stop the process at once.

    For example a non-retryable API error that the program itself would keep
    retrying for minutes.
    """

    error_class: ErrorClass
    message: str
    retry_after_s: float | None = None
    api_error_status: int | None = None


class OutputParser(Protocol):
    """Reads one process's stdout incrementally, line by line.

    A new parser is made for every attempt, so it may keep state.
    """

    def feed(self, line: str) -> ParserSignal | None:
        """Take one line (without its newline); return a signal to stop the process."""
        ...

    def progress(self) -> Usage:
        """Tokens seen so far, for a live status line."""
        ...

    def finish(self, exit_code: int | None, stderr_tail: str) -> Outcome:
        """Conclude after the process ended (``exit_code`` None: it was killed)."""
        ...


#: A no-argument function returning a new parser (what :meth:`OutputParserType.create` is).


# ----------------------------------------------------------------------- records
class AttemptRecord(NamedTuple):
    """One try of one candidate, passed to ``observe_attempt``."""

    run_id: str
    attempt: int
    task: Task
    provider: str
    provider_type: str
    model: str
    rule: str | None
    success: bool
    error_class: ErrorClass | None
    message: str | None
    exit_code: int | None
    started_at: float
    duration_ms: int
    usage: Usage
    cost_usd: float | None
    output_file: str | None
    #: The provider's retry-after on a rate-limit answer (seconds), when it gave one;
    #: the history layer uses it as the cooldown length.
    retry_after_s: float | None = None
    #: The program's conversation id (:attr:`Outcome.session_id`), when it told one.
    session_id: str | None = None
    #: ``"reported"`` or ``"estimated"`` (:attr:`Outcome.cost_source`); None without a cost.
    cost_source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The attempt as ``tacroute run --json`` shows it."""
        return {
            "attempt": self.attempt,
            "provider": self.provider,
            "provider_type": self.provider_type,
            "model": self.model,
            "rule": self.rule,
            "success": self.success,
            "error_class": self.error_class.value if self.error_class else None,
            "message": self.message,
            "exit_code": self.exit_code,
            "duration_ms": self.duration_ms,
            "usage": self.usage.as_dict(),
            "cost_usd": self.cost_usd,
            "cost_source": self.cost_source,
            "session_id": self.session_id,
            "output_file": self.output_file,
        }


class RunResult(NamedTuple):
    """A whole run: every attempt and how it ended, passed to ``observe_run``."""

    run_id: str
    task: Task
    decision: Decision
    attempts: tuple[AttemptRecord, ...]
    success: bool
    provider: str | None
    model: str | None
    result: str | None
    usage: Usage
    cost_usd: float | None
    duration_ms: int
    error: str | None = None
    #: ``"reported"`` when every attempt's cost was reported, ``"estimated"`` when
    #: any was estimated; None without a cost.
    cost_source: str | None = None
    #: Where the run's output is: ``--output-file`` when given (the winning
    #: attempt's output, or the last attempt's), else the last attempt's own file.
    output_file: str | None = None
    #: The program's conversation id of the winning attempt (of the last attempt
    #: when every attempt failed), to resume it; None when the program told none.
    session_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The run as ``tacroute run --json`` prints it (one JSON object)."""
        final = self.attempts[-1] if self.attempts else None
        return {
            "run_id": self.run_id,
            "success": self.success,
            "provider": self.provider,
            "model": self.model,
            "rule": final.rule if final else None,
            "error_class": final.error_class.value if final and final.error_class else None,
            "error": self.error,
            "result": self.result,
            "cost_usd": self.cost_usd,
            "cost_source": self.cost_source,
            "usage": self.usage.as_dict(),
            "duration_ms": self.duration_ms,
            "output_file": self.output_file,
            "session_id": self.session_id,
            "attempts": [a.as_dict() for a in self.attempts],
            "decision": self.decision.as_dict(),
            "task": dict(self.task),
        }


# ------------------------------------------------------------ learning from history
class ModelStats(NamedTuple):
    """Recorded performance of one provider/model (from the history store)."""

    samples: int
    success_rate: float
    p95_duration_s: float | None


class StatsSource(Protocol):
    """Where cost-aware strategies read recorded performance (the history store)."""

    def model_stats(self, provider: str, model: str) -> ModelStats | None:
        """Stats for one provider/model, or None when nothing was recorded."""
        ...


class CandidateGate(Protocol):
    """Decides at routing time whether a candidate must be skipped now.

    Cooldowns and rate limits live behind this; the router calls
    :meth:`skip_reason` once per candidate it considers. A gate may also offer
    ``skips_nothing_now() -> bool`` (optional, not part of the protocol): True
    means no candidate would be skipped now, so the router keeps its cached
    decision without asking per candidate.
    """

    def skip_reason(self, provider: str, model: str) -> str | None:
        """A human-readable reason to skip the candidate now, or None to use it."""
        ...


def attempt_totals(attempts: Iterable[AttemptRecord]) -> tuple[Usage, float | None]:
    """Token usage and cost summed over attempts; cost None when no attempt reported one."""
    usage = Usage()
    cost: float | None = None
    for a in attempts:
        usage = usage + a.usage
        if a.cost_usd is not None:
            cost = a.cost_usd if cost is None else cost + a.cost_usd
    return usage, cost
