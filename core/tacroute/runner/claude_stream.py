"""What the Claude CLI would print, made from a run's attempts (``tacroute-claude``, ``tacroute run``).

:class:`ClaudeStream` takes every raw output line of every attempt as it is
written (``run_task(on_line=stream.on_line)``) and, at the end, the run's
result (:meth:`ClaudeStream.finish`). For ``stream-json`` the attempts' JSON
lines go to the output at once, in order; each attempt's own ``result`` line
is held back; :meth:`finish` writes exactly one ``result`` line, last: the
winning attempt's, or, when every attempt failed, a Claude-shaped error
result naming each attempt and why. ``json`` writes only that result object,
``text`` only its ``result`` text.

The result line always has ``session_id``, ``is_error``, ``result``,
``total_cost_usd`` (a number: the whole call's cost, failed attempts
included; 0 when unknown, never null), ``usage``, ``duration_ms`` (the whole
call) and ``num_turns``, plus a ``tacroute`` object (run id, provider, model).
Lines that are not JSON objects (a non-Claude worker's text) stay in the
attempt's own file and are not printed: a stream-json reader parses every line.
"""

from __future__ import annotations

import json
import threading
from typing import Any, TextIO

from tacroute.types.run import RunResult, Usage

__all__ = ["FORMATS", "ClaudeStream", "claude_usage", "error_object", "failure_text"]

FORMATS = ("text", "json", "stream-json")


def claude_usage(usage: Usage) -> dict[str, int]:
    """Token counts under the Claude CLI's names."""
    return {"input_tokens": usage.input_tokens, "cache_creation_input_tokens": usage.cache_creation_tokens,
            "cache_read_input_tokens": usage.cache_read_tokens, "output_tokens": usage.output_tokens}


class ClaudeStream:
    """One run's Claude-shaped output, written to ``out`` in format ``fmt``."""

    def __init__(self, out: TextIO, fmt: str = "stream-json") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format {fmt!r}; valid: {', '.join(FORMATS)}")
        self.out = out
        self.fmt = fmt
        self._live = fmt == "stream-json"
        self._results: dict[int, dict[str, Any]] = {}
        self._sessions: dict[int, str] = {}
        self._lock = threading.Lock()

    def on_line(self, number: int, line: str) -> None:
        """One raw line of attempt ``number`` (give this to ``run_task(on_line=...)``)."""
        text = line.strip()
        if not text.startswith("{"):
            return
        try:
            msg = json.loads(text)
        except (ValueError, RecursionError):
            return
        if not isinstance(msg, dict):
            return
        session = msg.get("session_id")
        if isinstance(session, str) and session and number not in self._sessions:
            self._sessions[number] = session
        if msg.get("type") == "result":
            self._results[number] = msg  # held back: only the run's own result line is printed
            return
        if self._live:
            self._write(text)

    def result_object(self, result: RunResult) -> dict[str, Any]:
        """The run's Claude-shaped result (see the module's description)."""
        final = result.attempts[-1] if result.attempts else None
        number = final.attempt if final is not None else 0
        base = dict(self._results.get(number, {})) if result.success else {}
        obj: dict[str, Any] = {"type": "result"}
        obj.update(base)
        if result.success:
            text = base.get("result")
            obj["subtype"] = "success"
            obj["result"] = text if isinstance(text, str) else (result.result or "")
        else:
            obj.pop("api_error_status", None)
            obj["subtype"] = "error_during_execution"
            obj["result"] = failure_text(result)
            obj["errors"] = [_attempt_line(a) for a in result.attempts] or [obj["result"]]
        obj["is_error"] = not result.success
        session = base.get("session_id") or self._sessions.get(number)
        obj["session_id"] = session if isinstance(session, str) and session else _new_session_id()
        obj["total_cost_usd"] = result.cost_usd if result.cost_usd is not None else 0
        if not isinstance(obj.get("usage"), dict):
            obj["usage"] = claude_usage(result.usage if not result.success else
                                        (final.usage if final is not None else Usage()))
        obj["duration_ms"] = result.duration_ms
        turns = base.get("num_turns")
        obj["num_turns"] = turns if isinstance(turns, int) and not isinstance(turns, bool) else int(
            result.success)
        obj["tacroute"] = {"run_id": result.run_id, "provider": result.provider, "model": result.model,
                           "attempts": len(result.attempts)}
        return obj

    def finish(self, result: RunResult) -> dict[str, Any]:
        """Write the run's end in the chosen format; returns the result object."""
        obj = self.result_object(result)
        self.finish_with(obj)
        return obj

    def finish_with(self, obj: dict[str, Any]) -> None:
        """Write ``obj`` (a result object) as the output's end."""
        if self.fmt == "text":
            self._write(str(obj.get("result") or ""))
        else:
            self._write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))

    def _write(self, text: str) -> None:
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()


def _new_session_id() -> str:
    """A session id for a result no attempt gave one (``uuid`` loads ``platform``: only then)."""
    import uuid

    return str(uuid.uuid4())


def error_object(message: str, duration_ms: int = 0) -> dict[str, Any]:
    """A Claude-shaped error result for a call that ran no attempt (no provider available)."""
    return {"type": "result", "subtype": "error_during_execution", "is_error": True, "result": message,
            "errors": [message], "session_id": _new_session_id(), "total_cost_usd": 0,
            "usage": claude_usage(Usage()), "duration_ms": duration_ms, "num_turns": 0}


def failure_text(result: RunResult) -> str:
    """Why a run failed, one line: each attempt and its error."""
    if not result.attempts:
        return f"tacroute: {result.error or 'no attempt was made'}"
    parts = "; ".join(_attempt_line(a) for a in result.attempts)
    return f"tacroute: every attempt failed: {parts}"


def _attempt_line(a: Any) -> str:
    why = a.error_class.value if a.error_class is not None else ("ok" if a.success else "failed")
    msg = " ".join((a.message or "").split())
    return f"attempt {a.attempt} {a.provider}/{a.model}: {why}" + (f": {msg}" if msg else "")
