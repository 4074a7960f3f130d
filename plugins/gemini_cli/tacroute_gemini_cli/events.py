"""The ``gemini-stream-json`` output parser: ``gemini --output-format stream-json``, read live.

- ``init`` gives the session id; assistant ``message`` events the text
  (``delta: true`` pieces joined; the text after the last tool call is the
  result); the final ``result`` event the verdict (``status``), the error and
  the ``stats``.
- Success is the ``result`` event's ``status`` being ``success``; without a
  ``result`` the run crashed (exit 41 without API-key settings is ``auth``).
- An API error arrives as ``error.message`` ``"[API Error: {json}]"``: its
  ``code`` and ``details[].reason`` decide the class (400 ``API_KEY_INVALID``,
  401 and 403 are ``auth``; 429 is ``rate_limit`` with ``RetryInfo``'s delay).
  The CLI prints nothing on stdout while it retries a request, so the plugin
  caps those retries in its settings (``general.maxAttempts``) instead.
- Tokens: ``input`` (uncached) and ``cached``; thinking tokens (``total_tokens``
  minus input and output) count as output, as they are billed, and as reasoning.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from tacroute import ErrorClass, Outcome, ParserSignal, Usage
from tacroute.jsonlines import JsonEventParser
from tacroute.providers.agentcli import classify_status

__all__ = ["GeminiStreamJsonParser", "classify_error"]

_API_PREFIX = "[API Error: "
_SUGGESTED = re.compile(r"retry after (\d+(?:\.\d+)?)s", re.I)
_AUTH_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED"})
_DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def classify_error(message: str) -> tuple[ErrorClass, int | None, float | None]:
    """Class, HTTP status and retry delay (seconds) of a ``result`` error message."""
    found = message.find(_API_PREFIX)
    body: Any = None
    if found >= 0:
        with contextlib.suppress(ValueError, RecursionError):
            body, _ = json.JSONDecoder().raw_decode(message, found + len(_API_PREFIX))
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return _classify_text(message, found >= 0)
    code = error.get("code")
    status = code if isinstance(code, int) and not isinstance(code, bool) else None
    reasons: set[str] = set()
    delay: float | None = None
    for detail in error.get("details") or []:
        if not isinstance(detail, dict):
            continue
        if isinstance(detail.get("reason"), str):
            reasons.add(detail["reason"])
        retry = _DELAY.match(str(detail.get("retryDelay", "")))
        if retry:
            delay = float(retry.group(1))
    if reasons & _AUTH_REASONS:
        return ErrorClass.AUTH, status, None
    cls = classify_status(status)
    return cls, status, delay if cls is ErrorClass.RATE_LIMIT else None


def _classify_text(message: str, api_error: bool) -> tuple[ErrorClass, int | None, float | None]:
    """The CLI's own wording of an error (it rewrites some API errors, e.g. a 429)."""
    lower = message.lower()
    if "resource has been exhausted" in lower or "quota" in lower or "rate limit" in lower:
        delay = _SUGGESTED.search(message)
        return ErrorClass.RATE_LIMIT, 429, float(delay.group(1)) if delay else None
    if "api key" in lower or "unauthenticated" in lower or "invalid auth" in lower:
        return ErrorClass.AUTH, None, None
    if api_error:  # "[API Error: terminated]": the connection was cut
        return ErrorClass.OVERLOADED, None, None
    return ErrorClass.CRASH, None, None


class GeminiStreamJsonParser(JsonEventParser):
    """One attempt's event reader (a fresh instance per attempt)."""

    def __init__(self) -> None:
        super().__init__()
        self._session: str | None = None
        self._text: list[str] = []
        self._result: dict[str, Any] | None = None
        self._tool_calls = 0

    def event(self, event: dict[str, Any]) -> ParserSignal | None:
        kind = event.get("type")
        if kind == "init" and isinstance(event.get("session_id"), str):
            self._session = event["session_id"]
        elif kind == "message" and event.get("role") == "assistant":
            content = event.get("content")
            if isinstance(content, str):
                if not event.get("delta"):
                    self._text.clear()
                self._text.append(content)
        elif kind == "tool_use":
            self._tool_calls += 1
            self._text.clear()  # the answer is what comes after the last tool call
        elif kind == "result":
            self._result = event
        return None

    def progress(self) -> Usage:
        return Usage()

    def finish(self, exit_code: int | None, stderr_tail: str) -> Outcome:
        res = self._result
        text = "".join(self._text) or None
        common: dict[str, Any] = {"diagnostics": tuple(self._diagnostics), "session_id": self._session}
        if res is None:
            return self._no_result(exit_code, stderr_tail, text, common)
        usage, models = _stats(res.get("stats"))
        if res.get("status") == "success":
            return Outcome(True, result=text, usage=usage, models=models, **common)
        error = res.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        message = str(message) if message else f"result reports status {res.get('status')!r}"
        cls, status, delay = classify_error(message)
        return Outcome(False, cls, message[:1000], text, usage, retry_after_s=delay,
                       api_error_status=status, models=models, **common)

    def _no_result(self, exit_code: int | None, stderr_tail: str, text: str | None,
                   common: dict[str, Any]) -> Outcome:
        tail = stderr_tail.strip()
        if exit_code == 41 or "auth method" in tail.lower():
            return Outcome(False, ErrorClass.AUTH, "the CLI has no usable API-key auth (exit 41); "
                           f"stderr: {tail[-500:]}", text, **common)
        how = "was killed" if exit_code is None else f"exited with code {exit_code}"
        seen = f" after {self._lines} output lines" if self._lines else " without any output"
        detail = f"; stderr: {tail[-1000:]}" if tail else "; stderr was empty"
        return Outcome(False, ErrorClass.CRASH, f"the program {how}{seen} and no result event{detail}",
                       text, **common)


def _stats(stats: Any) -> tuple[Usage, tuple[str, ...]]:
    if not isinstance(stats, dict):
        return Usage(), ()
    total_in = _int(stats.get("input_tokens"))
    cached = min(_int(stats.get("cached")), total_in)
    out = _int(stats.get("output_tokens"))
    thinking = max(0, _int(stats.get("total_tokens")) - total_in - out)
    models = stats.get("models")
    names = tuple(str(m) for m in models) if isinstance(models, dict) else ()
    return Usage(total_in - cached, out + thinking, cached, 0, thinking), names
