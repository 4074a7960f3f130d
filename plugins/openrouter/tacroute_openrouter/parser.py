"""The ``openrouter-stream-json`` output parser: ``claude-stream-json`` plus the wrapper's exit codes.

The wrapper prints the Claude CLI's stream-json, so the Claude plugin's parser
reads it; this subclass only adds what that parser cannot know about the
wrapper (see :mod:`tacroute_openrouter.errors`):

- exit code 124, or a final 408, is a **timeout** (the Claude parser would call
  it a crash, or a bad request);
- an ``api_retry`` line with status 408 is a retry the wrapper makes itself,
  not a reason to stop it;
- a result line with ``is_error`` and no status (connection failed or dropped
  mid-stream) is **overloaded**: the API side failed, so fail over;
- a final 429's ``Retry-After`` (the result line's ``retry_after_ms``) becomes
  the outcome's ``retry_after_s``, for the runner's requeue and cooldowns.
"""

from __future__ import annotations

from tacroute import ErrorClass, Outcome, ParserSignal
from tacroute_claude_cli.stream_json import ClaudeStreamJsonParser
from tacroute_openrouter.errors import EXIT_ERROR, EXIT_TIMEOUT

__all__ = ["OpenRouterStreamJsonParser"]


class OpenRouterStreamJsonParser(ClaudeStreamJsonParser):
    """Reads ``tacroute-openrouter`` output (a fresh instance per attempt)."""

    def feed(self, line: str) -> ParserSignal | None:
        signal = super().feed(line)
        if signal is not None and signal.api_error_status == 408:
            return None  # the wrapper's own, bounded retry of a timed-out request
        return signal

    def finish(self, exit_code: int | None, stderr_tail: str) -> Outcome:
        outcome = super().finish(exit_code, stderr_tail)
        if outcome.success:
            return outcome
        wait = self._result.get("retry_after_ms") if self._result is not None else None
        if (outcome.error_class is ErrorClass.RATE_LIMIT and isinstance(wait, int | float)
                and not isinstance(wait, bool) and wait > 0):
            outcome = outcome._replace(retry_after_s=wait / 1000)
        if exit_code == EXIT_TIMEOUT or outcome.api_error_status == 408:
            return outcome._replace(error_class=ErrorClass.TIMEOUT)
        saw_result = self._result is not None  # the base class keeps the result line here
        if (exit_code == EXIT_ERROR and saw_result and outcome.api_error_status is None
                and outcome.error_class is ErrorClass.CRASH):
            return outcome._replace(error_class=ErrorClass.OVERLOADED)
        return outcome
