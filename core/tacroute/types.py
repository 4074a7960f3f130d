"""The small set of types that the core and plugins share.

Plugin authors subclass :class:`ConditionType` and :class:`ProviderType`, and
implement :class:`OutputParser`; tracking plugins receive :class:`Decision`,
:class:`AttemptRecord` and :class:`RunResult` through the observer hooks.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from tacroute.clock import HourClock
    from tacroute.config.model import ProviderConfig

__all__ = [
    "AttemptRecord",
    "Candidate",
    "CandidateGate",
    "CompileContext",
    "ConditionType",
    "Decision",
    "ErrorClass",
    "ModelStats",
    "Outcome",
    "OutputParser",
    "OutputParserFactory",
    "ParserSignal",
    "Predicate",
    "ProviderType",
    "RunResult",
    "StatsSource",
    "Task",
    "Usage",
]

#: A task's attributes: an open mapping (``priority``, ``labels``,
#: ``retry_count``, ``hour`` and anything a custom condition reads).
Task = Mapping[str, Any]

#: A compiled condition: called with the task, returns whether it holds.
Predicate = Callable[[Task], bool]


# --------------------------------------------------------------------- conditions
@dataclass(frozen=True, slots=True)
class CompileContext:
    """What a condition type may use when it compiles a value.

    ``timezone`` is ``routing.timezone`` (``None`` means local time) and
    ``clock`` gives the current hour in that zone, cheaply.
    """

    timezone: tzinfo | None
    clock: HourClock


class ConditionType:
    """A kind of rule condition, such as ``priority`` or ``hour_range``.

    Subclass it, set ``name`` and implement :meth:`compile`, then register an
    instance from a ``register_conditions`` hook. ``compile`` runs once, when a
    config loads; the predicate it returns runs on every routing decision, so it
    should be a plain, fast function that reads the task and calls no hooks.
    """

    #: The key used in a rule's ``conditions`` table.
    name: ClassVar[str] = ""
    #: One line for ``tacroute plugins`` and error messages: what a valid value is.
    description: ClassVar[str] = ""

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        """Turn a config value into a predicate.

        Raise :class:`tacroute.errors.ConditionValueError` with a message that
        says what would be valid; the loader adds file, line and key path.
        """
        raise NotImplementedError

    def never_matches(self, value: Any) -> bool:
        """Whether a (valid) value can match no task at all, for ``config validate``."""
        return False

    def covers(self, broader: Any, narrower: Any) -> bool:
        """Whether every task matching ``narrower`` also matches ``broader``.

        Used to warn about shadowed rules. The default, equal values, is always
        safe: a condition type that cannot tell just never reports shadowing.
        """
        return bool(broader == narrower)


# ---------------------------------------------------------------------- providers
class ProviderType:
    """A kind of provider, such as ``claude-cli`` or ``openrouter``.

    A ``[providers.NAME]`` table uses the type named by its ``type`` key
    (default: ``NAME``). The core reads the common keys (``enabled``,
    ``command_template``, ``stdin``, ``requires_api_key``, ``api_key_env``,
    ``env``, ``timeout``, ``output_parser``); ``options`` declares the extra keys
    this type accepts and their TOML types, which the core checks before the
    plugin sees them.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: Command used when the table has no ``command_template``.
    default_command: ClassVar[Sequence[str]] = ()
    #: What goes to the command's standard input when the table has no ``stdin``
    #: (a template such as ``"{prompt_file}"`` means: that file's content).
    default_stdin: ClassVar[str | None] = None
    #: Environment variable holding the API key when the table names none.
    default_api_key_env: ClassVar[str | None] = None
    #: Name of the registered output parser that reads this provider's stdout.
    output_parser: ClassVar[str | None] = None
    #: Extra table keys: name -> accepted Python type(s) after TOML parsing.
    options: ClassVar[Mapping[str, type | tuple[type, ...]]] = {}

    def lint(self, config: ProviderConfig) -> list[str]:
        """Warnings for ``tacroute config validate`` (the config still loads)."""
        return []

    def availability(self, config: ProviderConfig) -> tuple[bool, str | None]:
        """Extra availability checks after the core's (enabled, command, API key).

        Return ``(False, reason)`` to mark the provider unavailable.
        """
        return True, None


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


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one attempt (all models it used, side requests included)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_creation_tokens + other.cache_creation_tokens,
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_creation_tokens": self.cache_creation_tokens,
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an output parser concluded about one finished (or stopped) process."""

    success: bool
    error_class: ErrorClass | None = None
    message: str | None = None
    result: str | None = None
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = None
    retry_after_s: float | None = None
    api_error_status: int | None = None
    models: tuple[str, ...] = ()
    diagnostics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParserSignal:
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


#: What ``register_output_parsers`` registers: a no-argument factory.
OutputParserFactory = Callable[[], OutputParser]


# --------------------------------------------------------------------- decisions
@dataclass(frozen=True, slots=True)
class Candidate:
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


@dataclass(frozen=True, slots=True)
class Decision:
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


# ----------------------------------------------------------------------- records
@dataclass(frozen=True, slots=True)
class AttemptRecord:
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


@dataclass(frozen=True, slots=True)
class RunResult:
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


# ------------------------------------------------------------ learning from history
@dataclass(frozen=True, slots=True)
class ModelStats:
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
    :meth:`skip_reason` once per candidate it considers.
    """

    def skip_reason(self, provider: str, model: str) -> str | None:
        """A human-readable reason to skip the candidate now, or None to use it."""
        ...
