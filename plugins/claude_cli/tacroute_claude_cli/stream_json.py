"""The ``claude-stream-json`` output parser.

Reads the NDJSON that ``claude -p --output-format stream-json --verbose``
prints, one line at a time, as it arrives. It only relies on the ``system``,
``assistant`` and ``result`` lines, so any program that writes the same shape
(the OpenRouter plugin does) can use it too.

- Success is the ``result`` line's ``is_error`` being false (and its subtype,
  when present, being ``success``); the subtype alone never means success.
- Cost is ``total_cost_usd``; tokens are ``modelUsage`` summed over models
  (the result's ``usage`` misses side requests, and ``assistant`` lines repeat
  usage per message id, so they are only used for the live progress figure).
- ``system/api_retry`` with a non-retryable status (401, 403) stops the run at
  once; transient statuses (429, 529, 5xx, network) are left to the program's
  own retries for :attr:`ClaudeStreamJsonParser.transient_retries` lines.
- Unknown line types and fields are skipped; lines that are not JSON (or
  nested too deep to parse) are kept as diagnostics; numbers that are not
  finite (or too big for a float) count as absent; a process that ends without a ``result`` line is a crash
  (or ``permission`` for the root/``--dangerously-skip-permissions`` refusal).
"""

from __future__ import annotations

import math
from typing import Any

from tacroute import ErrorClass, Outcome, ParserSignal, Usage
from tacroute.jsonlines import JsonEventParser

__all__ = ["ClaudeStreamJsonParser", "classify_status"]

#: Statuses no retry can fix: the run is stopped at the first such api_retry line.
NON_RETRYABLE = frozenset({401, 403})
_ROOT_REFUSAL = "cannot be used with root/sudo privileges"
#: Result texts of the CLI when it has no usable credentials at all.
_AUTH_MARKERS = ("Not logged in", "Invalid API key")

_ERROR_NAMES = {
    "authentication_failed": ErrorClass.AUTH,
    "oauth_org_not_allowed": ErrorClass.AUTH,
    "billing_error": ErrorClass.AUTH,
    "rate_limit": ErrorClass.RATE_LIMIT,
    "overloaded": ErrorClass.OVERLOADED,
    "server_error": ErrorClass.OVERLOADED,
    "invalid_request": ErrorClass.BAD_REQUEST,
    "model_not_found": ErrorClass.MODEL_NOT_FOUND,
}


def classify_status(status: int | None, error: str | None = None) -> ErrorClass:
    """The error class of an API status (or, without one, of the CLI's error name)."""
    if status is not None:
        if status in (401, 402, 403):
            return ErrorClass.AUTH
        if status == 404:
            return ErrorClass.MODEL_NOT_FOUND
        if status == 429:
            return ErrorClass.RATE_LIMIT
        if status == 529 or status >= 500:
            return ErrorClass.OVERLOADED
        if 400 <= status < 500:
            return ErrorClass.BAD_REQUEST
    if error is not None and error in _ERROR_NAMES:
        return _ERROR_NAMES[error]
    # No status: a network failure, a cut stream or an unknown server error.
    return ErrorClass.OVERLOADED


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _number(value: Any) -> float | None:
    """A finite float from a JSON number (None for anything else: a bool, inf, a huge integer)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _delay_s(value: Any) -> float | None:
    """``retry_delay_ms`` in seconds, when it is a positive finite number."""
    ms = _number(value)
    return ms / 1000 if ms is not None and ms > 0 else None


class ClaudeStreamJsonParser(JsonEventParser):
    """One attempt's stream-json reader (a fresh instance per attempt)."""

    #: How many ``api_retry`` lines with a transient status the program may
    #: print before the run is stopped and the runner fails over.
    transient_retries: int = 2

    def __init__(self) -> None:
        super().__init__()
        self._result: dict[str, Any] | None = None
        self._progress: dict[str, Usage] = {}
        self._last_text: str | None = None
        self._transient = 0
        self._last_retry: dict[str, Any] | None = None
        self._session: str | None = None

    # ------------------------------------------------------------------ feed
    def event(self, msg: dict[str, Any]) -> ParserSignal | None:
        """Take one stdout line's object; a signal means: stop the process now."""
        kind = msg.get("type")
        if isinstance(msg.get("session_id"), str):  # on init, assistant and result lines
            self._session = msg["session_id"][:200]
        if kind == "result":
            self._result = msg
        elif kind == "assistant":
            self._assistant(msg)
        elif kind == "system" and msg.get("subtype") == "api_retry":
            return self._api_retry(msg)
        return None

    def _assistant(self, msg: dict[str, Any]) -> None:
        message = msg.get("message")
        if not isinstance(message, dict):
            return
        content = message.get("content")
        if isinstance(content, list):
            texts = [str(b["text"]) for b in content
                     if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)]
            if texts:
                self._last_text = "".join(texts)
        usage = message.get("usage")
        if isinstance(usage, dict):
            # Lines of one API message repeat its usage: keep the latest per id.
            key = str(message.get("id") or len(self._progress))
            self._progress[key] = Usage(_int(usage.get("input_tokens")), _int(usage.get("output_tokens")),
                                        _int(usage.get("cache_read_input_tokens")),
                                        _int(usage.get("cache_creation_input_tokens")))

    def _api_retry(self, msg: dict[str, Any]) -> ParserSignal | None:
        self._last_retry = msg
        status = msg.get("error_status")
        status = status if isinstance(status, int) and not isinstance(status, bool) else None
        error = msg.get("error") if isinstance(msg.get("error"), str) else None
        retry_after = _delay_s(msg.get("retry_delay_ms"))
        cls = classify_status(status, error)
        what = f"API error {status}" if status is not None else "API request failed"
        detail = f" ({error})" if error else ""
        if status in NON_RETRYABLE or cls is ErrorClass.AUTH:
            return ParserSignal(cls, f"{what}{detail}: not retryable, stopped at the program's "
                                f"first retry", None, status)
        if cls in (ErrorClass.BAD_REQUEST, ErrorClass.MODEL_NOT_FOUND):
            return ParserSignal(cls, f"{what}{detail}", None, status)
        self._transient += 1
        if self._transient > self.transient_retries:
            return ParserSignal(cls, f"{what}{detail}: still failing after "
                                f"{self._transient} retries by the program", retry_after, status)
        return None

    # -------------------------------------------------------------- progress
    def progress(self) -> Usage:
        """Tokens seen so far (latest usage per message id), for a status line."""
        total = Usage()
        for usage in self._progress.values():
            total = total + usage
        return total

    # ---------------------------------------------------------------- finish
    def finish(self, exit_code: int | None, stderr_tail: str) -> Outcome:
        """Conclude from the ``result`` line, or explain why there was none."""
        diagnostics = tuple(self._diagnostics)
        res = self._result
        if res is None:
            return self._no_result(exit_code, stderr_tail, diagnostics)
        usage, models = _model_usage(res.get("modelUsage"))
        if not models:
            usage = _plain_usage(res.get("usage"))
        cost_usd = _number(res.get("total_cost_usd"))
        text = res.get("result") if isinstance(res.get("result"), str) else self._last_text
        subtype = res.get("subtype")
        is_error = res.get("is_error")
        status = res.get("api_error_status")
        status = status if isinstance(status, int) and not isinstance(status, bool) else None
        ok = is_error is False and subtype in (None, "success")
        if ok:
            return Outcome(True, result=text, usage=usage, cost_usd=cost_usd, api_error_status=status,
                           models=models, diagnostics=diagnostics, session_id=self._session)
        errors = res.get("errors")
        message = text or ("; ".join(str(e) for e in errors) if isinstance(errors, list) and errors
                           else None) or f"result line reports an error (subtype {subtype!r})"
        if status is not None or (text or "").startswith("API Error"):
            cls = classify_status(status)
        elif any(marker in (text or "") for marker in _AUTH_MARKERS):
            cls = ErrorClass.AUTH
        elif self._last_retry is not None:
            cls = classify_status(None, self._last_retry.get("error"))
        else:
            cls = ErrorClass.CRASH
        retry_after = None
        if cls is ErrorClass.RATE_LIMIT and self._last_retry is not None:
            retry_after = _delay_s(self._last_retry.get("retry_delay_ms"))
        return Outcome(False, cls, message, text, usage, cost_usd, retry_after, status, models,
                       diagnostics, self._session)

    def _no_result(self, exit_code: int | None, stderr_tail: str,
                   diagnostics: tuple[str, ...]) -> Outcome:
        tail = stderr_tail.strip()
        if _ROOT_REFUSAL in tail:
            return Outcome(False, ErrorClass.PERMISSION,
                           "the CLI refuses --dangerously-skip-permissions as root; set "
                           'IS_SANDBOX = "1" in the provider\'s env table (only in a sandbox) '
                           f"or drop the flag. stderr: {tail[-500:]}", diagnostics=diagnostics,
                           usage=self.progress(), session_id=self._session)
        how = "was killed" if exit_code is None else f"exited with code {exit_code}"
        detail = f"; stderr: {tail[-1000:]}" if tail else "; stderr was empty"
        seen = f" after {self._lines} output lines" if self._lines else " without any output"
        return Outcome(False, ErrorClass.CRASH, f"the program {how}{seen} and no result line{detail}",
                       usage=self.progress(), diagnostics=diagnostics, session_id=self._session)


def _model_usage(value: Any) -> tuple[Usage, tuple[str, ...]]:
    if not isinstance(value, dict):
        return Usage(), ()
    total = Usage()
    models: list[str] = []
    for model, mu in value.items():
        if not isinstance(mu, dict):
            continue
        models.append(str(model))
        total = total + Usage(_int(mu.get("inputTokens")), _int(mu.get("outputTokens")),
                              _int(mu.get("cacheReadInputTokens")), _int(mu.get("cacheCreationInputTokens")))
    return total, tuple(models)


def _plain_usage(value: Any) -> Usage:
    if not isinstance(value, dict):
        return Usage()
    return Usage(_int(value.get("input_tokens")), _int(value.get("output_tokens")),
                 _int(value.get("cache_read_input_tokens")), _int(value.get("cache_creation_input_tokens")))
