"""What the store keeps per run, and the helpers that prepare a record for it."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from tacroute.bounds import bound_cost, bound_usage
from tacroute.history.damage import timestamp
from tacroute.tuples import NamedTuple
from tacroute.types import RunResult, Task, Usage, attempt_totals

__all__ = ["RunFigures", "RunRow", "labels_of", "redact", "run_figures"]

#: Longest error text kept per attempt or run.
MAX_MESSAGE = 500


class RunRow(NamedTuple):
    """One recorded run, as :meth:`HistoryStore.runs` yields it.

    ``provider``/``model`` did the work (for a failed run: the last one tried);
    ``rule`` is the rule the routing decision matched (None: the default).
    ``usage`` and ``cost_usd`` are totals over the run's attempts.
    """

    run_id: str
    started_at: float
    task: dict[str, Any]
    rule: str | None
    provider: str
    model: str
    success: bool
    error: str | None
    attempts: int
    usage: Usage
    cost_usd: float | None
    duration_ms: int
    #: ``"reported"``, ``"estimated"`` (any attempt's cost was) or None (no cost).
    cost_source: str | None = None
    #: The run's session id (:attr:`tacroute.types.RunResult.session_id`), when it had one.
    session_id: str | None = None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> RunRow:
        """The run of one ``runs`` row; ``ValueError`` for a row that makes no sense
        (a damaged file, a hand edit): no id, a time no calendar shows, a NULL count.
        Token counts and cost out of range are clamped as when recording."""
        (run_id, started_at, task, rule, provider, model, success, error, attempts,
         inp, out, cread, ccreate, cost, duration, *rest) = row
        source = rest[0] if rest and rest[0] in ("reported", "estimated") else None
        session = rest[1] if len(rest) > 1 and isinstance(rest[1], str) else None
        try:
            parsed = orjson.loads(task)
        except (TypeError, ValueError):  # orjson's decode error is a ValueError
            parsed = _lenient_json(task)
        notes: list[str] = []
        return cls(_text(run_id), timestamp(started_at), parsed if isinstance(parsed, dict) else {},
                   _opt_text(rule), _text(provider), _text(model), bool(success), _opt_text(error),
                   _whole(attempts), bound_usage(Usage(inp, out, cread, ccreate), notes),
                   bound_cost(cost, notes), _whole(duration), source if cost is not None else None,
                   session)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "started_at": self.started_at, "task": self.task,
                "rule": self.rule, "provider": self.provider, "model": self.model,
                "success": self.success, "error": self.error, "attempts": self.attempts,
                "usage": self.usage.as_dict(), "cost_usd": self.cost_usd,
                "cost_source": self.cost_source, "duration_ms": self.duration_ms,
                "session_id": self.session_id}


def _lenient_json(text: Any) -> Any:
    """What orjson refuses but the standard library wrote (NaN in a task), else ``{}``."""

    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return {}


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None:
        raise ValueError("NULL where a text belongs")
    return value if isinstance(value, str) else str(value)


def _opt_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _whole(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"{repr(value)[:40]} is not a whole number")


class RunFigures(NamedTuple):
    started_at: float
    provider: str
    model: str
    usage: Usage
    cost_usd: float | None
    error: str | None
    cost_source: str | None = None


def run_figures(result: RunResult, clock: Callable[[], float]) -> RunFigures:
    """Start time, who did the work, and totals over the attempts of one run."""
    attempts = result.attempts
    if attempts:
        started = min(a.started_at for a in attempts)
        usage, cost = attempt_totals(attempts)
        if cost is None:
            cost = result.cost_usd
        last = attempts[-1]
        error = result.error
        if error is None and not result.success and last.error_class is not None:
            error = f"{last.error_class}: {last.message}" if last.message else str(last.error_class)
    else:
        started = clock() - result.duration_ms / 1000
        usage, cost, error = result.usage, result.cost_usd, result.error
    provider = result.provider or (attempts[-1].provider if attempts else result.decision.provider)
    model = result.model or (attempts[-1].model if attempts else result.decision.model)
    sources = [a.cost_source for a in attempts if a.cost_usd is not None]
    source = ("estimated" if "estimated" in sources else "reported" if sources
              else result.cost_source)
    return RunFigures(started, provider, model, usage, cost, error, source)


def labels_of(task: Task) -> list[str]:
    """The task's labels, lower-cased (labels match case-insensitively), without duplicates."""
    raw = task.get("labels")
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple, set, frozenset)):
        return []
    return sorted({str(item).lower() for item in raw if str(item)})


def redact(text: str | None, env: dict[str, str] | None = None) -> str | None:
    """``text`` with secrets masked, then cut to :data:`MAX_MESSAGE` characters.

    The one redactor's rules (:mod:`tacroute.redact`) over the secrets of
    ``env`` (default ``os.environ``): the runner already masked what its
    commands were given (provider ``env`` tables included); this is the last
    line before the history file.
    """
    from tacroute.redact import Redactor

    return Redactor.from_env(env).cut(text, MAX_MESSAGE)
