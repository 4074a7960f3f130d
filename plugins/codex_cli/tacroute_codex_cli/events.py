"""The ``codex-json`` output parser: ``codex exec --json`` events, read live.

- ``thread.started`` gives the session id (``thread_id``); ``item.completed``
  items of type ``agent_message`` the text (the last one is the result);
  ``turn.completed`` the usage (summed over turns); ``turn.failed`` the error.
- Success is the stream's own verdict: a ``turn.completed`` and no
  ``turn.failed`` after it, whatever the exit code.
- Top-level ``error`` events ``Reconnecting... n/5 (...)`` are the CLI's own
  retries. A status no retry can fix (401, 403: a refused key; 400, 404) stops
  the run at the first one (a :class:`ParserSignal`), instead of about 7 s of
  retries; transient ones (429, 5xx, a cut stream) are left to the CLI for
  :attr:`CodexJsonParser.transient_retries` lines.
- ``error`` items ("Model metadata ... not found") are warnings: kept as
  diagnostics, never a failure. Lines that are not JSON are diagnostics too.
- Input tokens are reported with the cached ones included; here they are split
  (``input_tokens`` uncached, ``cache_read_tokens`` cached), as tacroute counts them.
"""

from __future__ import annotations

import re
from typing import Any

from tacroute import ErrorClass, Outcome, ParserSignal, Usage
from tacroute.jsonlines import JsonEventParser
from tacroute.providers.agentcli import classify_status

__all__ = ["CodexJsonParser", "classify_message"]

_RECONNECT = re.compile(r"^Reconnecting\.\.\. (\d+)/(\d+) \((.*)\)$", re.S)
_STATUS = re.compile(r"(?:unexpected status|last status:?|status code:?) (\d{3})\b")
_FATAL = frozenset({ErrorClass.AUTH, ErrorClass.BAD_REQUEST, ErrorClass.MODEL_NOT_FOUND})


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def classify_message(message: str) -> tuple[ErrorClass, int | None]:
    """The error class (and HTTP status, if named) of one of the CLI's error messages."""
    found = _STATUS.search(message)
    status = int(found.group(1)) if found else None
    lower = message.lower()
    if status is not None:
        cls = classify_status(status)
        if cls is ErrorClass.BAD_REQUEST and "model" in lower and ("not found" in lower
                                                                   or "does not exist" in lower):
            cls = ErrorClass.MODEL_NOT_FOUND
        return cls, status
    if "usage limit" in lower or "quota" in lower or "rate limit" in lower:
        return ErrorClass.RATE_LIMIT, None
    if "api key" in lower or "unauthorized" in lower or "not logged in" in lower:
        return ErrorClass.AUTH, None
    # "stream disconnected", "high demand", a network error: the service, not the request.
    return ErrorClass.OVERLOADED, None


class CodexJsonParser(JsonEventParser):
    """One attempt's event reader (a fresh instance per attempt)."""

    #: Reconnect lines with a transient cause the CLI may print before the run is stopped.
    transient_retries: int = 2

    def __init__(self) -> None:
        super().__init__()
        self._session: str | None = None
        self._texts: list[str] = []
        self._usage = Usage()
        self._completed = False
        self._failed: str | None = None
        self._last_error: str | None = None
        self._transient = 0

    def event(self, event: dict[str, Any]) -> ParserSignal | None:
        kind = event.get("type")
        if kind == "thread.started" and isinstance(event.get("thread_id"), str):
            self._session = event["thread_id"]
        elif kind == "item.completed":
            self._item(event.get("item"))
        elif kind == "turn.completed":
            self._turn_usage(event.get("usage"))
            self._completed, self._failed = True, None
        elif kind == "turn.failed":
            error = event.get("error")
            message = error.get("message") if isinstance(error, dict) else None
            self._failed = str(message) if message else (self._last_error or "the turn failed")
        elif kind == "error" and isinstance(event.get("message"), str):
            return self._error(event["message"])
        return None

    def _item(self, item: Any) -> None:
        if not isinstance(item, dict):
            return
        if item.get("type") == "agent_message" and isinstance(item.get("text"), str):
            self._texts.append(item["text"])
        elif item.get("type") == "error" and isinstance(item.get("message"), str):
            self._diagnose(item["message"])

    def _turn_usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        total_in = _int(usage.get("input_tokens"))
        cached = min(_int(usage.get("cached_input_tokens")), total_in)
        self._usage = self._usage + Usage(total_in - cached, _int(usage.get("output_tokens")), cached,
                                          _int(usage.get("cache_write_input_tokens")),
                                          _int(usage.get("reasoning_output_tokens")))

    def _error(self, message: str) -> ParserSignal | None:
        retry = _RECONNECT.match(message)
        if retry is None:
            self._last_error = message
            return None
        cause = retry.group(3)
        self._last_error = cause
        cls, status = classify_message(cause)
        what = f"API error {status}" if status is not None else "API request failed"
        detail = f" ({cause[:300]})"
        if cls in _FATAL:
            return ParserSignal(cls, f"{what}{detail}: not retryable, stopped at the program's "
                                "first retry", None, status)
        self._transient += 1
        if self._transient > self.transient_retries:
            return ParserSignal(cls, f"{what}{detail}: still failing after {self._transient} "
                                "retries by the program", None, status)
        return None

    def progress(self) -> Usage:
        return self._usage

    def finish(self, exit_code: int | None, stderr_tail: str) -> Outcome:
        diagnostics = tuple(self._diagnostics)
        text = self._texts[-1] if self._texts else None
        common: dict[str, Any] = {"usage": self._usage, "diagnostics": diagnostics,
                                  "session_id": self._session}
        if self._completed and self._failed is None:
            return Outcome(True, result=text, **common)
        message = self._failed or self._last_error
        if message is not None:
            cls, status = classify_message(message)
            return Outcome(False, cls, message[:1000], text, api_error_status=status, **common)
        tail = stderr_tail.strip()
        how = "was killed" if exit_code is None else f"exited with code {exit_code}"
        seen = f" after {self._lines} output lines" if self._lines else " without any output"
        detail = f"; stderr: {tail[-1000:]}" if tail else "; stderr was empty"
        return Outcome(False, ErrorClass.CRASH, f"the program {how}{seen} and no turn result{detail}",
                       text, **common)
