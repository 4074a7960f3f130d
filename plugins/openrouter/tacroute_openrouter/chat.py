"""One streamed chat completion with retries, written as Claude stream-json.

The request is made with httpx and the stream decoded with httpx-sse. Comment
lines (``: OPENROUTER PROCESSING``) never reach JSON decoding (the SSE decoder
drops them); usage is read from whichever chunk carries it (the last one wins);
``data: [DONE]`` ends the stream; a chunk with an ``error`` or
``finish_reason: "error"`` ends it with an error result.

Retries: 408, 429, 502, 503 and connection failures before any text arrived
are retried up to ``max_retries`` times within ``retry_budget`` seconds,
waiting ``Retry-After`` when given (else exponential backoff with jitter). A
wait that would overrun the budget is not started. Timeouts are not retried:
the runner's own timeout and failover handle slow providers better.

Every message written (retry lines, the result line, the text) has the
secrets masked first (:class:`tacroute.redact.Redactor`), and only then is
it cut: an upstream that echoes the key never gets a piece of it printed.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tacroute.redact import MESSAGE_LIMIT, Redactor
from tacroute_openrouter.claude_stream_writer import ChatUsage, StreamJsonWriter
from tacroute_openrouter.errors import (
    ERROR_TEXT_LIMIT,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_TIMEOUT,
    RETRY_STATUSES,
    error_message,
    midstream_status,
    retry_after_seconds,
)

if TYPE_CHECKING:
    import httpx

    from tacroute_openrouter.settings import Settings

__all__ = ["ChatState", "run_chat"]


@dataclass
class ChatState:
    """What one attempt has seen so far."""

    text: list[str] = field(default_factory=list)
    message_id: str | None = None
    model: str | None = None
    usage: ChatUsage | None = None
    finish_reason: str | None = None
    error: str | None = None
    error_status: int | None = None
    diagnostics: list[str] = field(default_factory=list)

    @property
    def started(self) -> bool:
        return bool(self.text)


class _Stopped(Exception):
    """The caller's ``stop`` callback asked to end the request now."""


class _Failure(Exception):
    """An attempt that failed; ``retryable`` says whether another may help."""

    def __init__(self, message: str, status: int | None = None, *, retryable: bool = False,
                 retry_after: float | None = None, timeout: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.timeout = timeout


def _handle_chunk(chunk: dict[str, Any], state: ChatState, out: StreamJsonWriter,
                  redact: Redactor) -> None:
    if state.message_id is None and isinstance(chunk.get("id"), str):
        state.message_id = chunk["id"]
    if isinstance(chunk.get("model"), str) and chunk["model"]:
        state.model = chunk["model"]
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        state.usage = ChatUsage.from_openai(usage)
    choices = chunk.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    delta: Any = choice.get("delta")
    if not isinstance(delta, dict):  # a non-streaming answer has "message" instead
        delta = choice.get("message")
        delta = delta if isinstance(delta, dict) else {}
    content = delta.get("content")
    if isinstance(content, str) and content:
        state.text.append(content)
        if out.partial:
            out.delta(redact(content))
    finish = choice.get("finish_reason")
    if isinstance(finish, str) and finish:
        state.finish_reason = finish
    error = chunk.get("error") or choice.get("error")
    if error or finish == "error":
        err = error if isinstance(error, dict) else {"message": str(error or "error")}
        state.error_status = midstream_status(err)
        message = err.get("message") if isinstance(err.get("message"), str) else "provider error"
        state.error = f"mid-stream error from the provider: {message}"
        state.finish_reason = "error"


def _attempt(client: httpx.Client, settings: Settings, body: dict[str, Any], headers: dict[str, str],
             state: ChatState, out: StreamJsonWriter, redact: Redactor,
             stop: Callable[[], bool] | None) -> None:
    """One HTTP request; raises :class:`_Failure` unless the stream completed (or errored mid-stream)."""
    import httpx
    from httpx_sse import EventSource

    try:
        with client.stream("POST", settings.chat_url, json=body, headers=headers) as response:
            if response.status_code != 200:
                raw = response.read()
                status = response.status_code
                raise _Failure(redact.cut(error_message(raw, status), ERROR_TEXT_LIMIT), status,
                               retryable=status in RETRY_STATUSES,
                               retry_after=retry_after_seconds(response.headers.get("retry-after")))
            ctype = response.headers.get("content-type", "")
            if "text/event-stream" not in ctype:
                data = json.loads(response.read())  # a server that ignored "stream": true
                if isinstance(data, dict):
                    _handle_chunk(data, state, out, redact)
                return
            done = False
            for sse in EventSource(response).iter_sse():
                data_text = sse.data.strip()
                if not data_text:
                    continue  # keep-alive or an event we do not use
                if data_text == "[DONE]":
                    done = True
                    break
                try:
                    chunk = json.loads(data_text)
                except ValueError:
                    state.diagnostics.append(f"not JSON: {redact.cut(data_text, 200)}")
                    continue
                if isinstance(chunk, dict):
                    _handle_chunk(chunk, state, out, redact)
                    if state.error is not None:
                        return
                if stop is not None and stop():
                    raise _Stopped
            if not done and state.finish_reason is None:
                where = "mid-stream" if state.started else "before any text"
                raise _Failure(f"connection lost {where}: the stream ended without [DONE]",
                               retryable=not state.started)
    except httpx.TimeoutException as exc:
        phase = "mid-stream" if state.started else "waiting for the answer"
        raise _Failure(f"timed out {phase}: no data for {settings.timeout:g} s ({type(exc).__name__})",
                       timeout=True) from None
    except httpx.TransportError as exc:
        if state.started:
            raise _Failure(f"connection lost mid-stream: {type(exc).__name__}: {exc}") from None
        raise _Failure(f"connection failed: {type(exc).__name__}: {exc}", retryable=True) from None
    except ValueError as exc:
        raise _Failure(f"unreadable answer from {settings.chat_url}: {exc}") from None


def _backoff(attempt: int) -> float:
    return float(min(0.5 * 2 ** (attempt - 1), 8.0) * (0.5 + random.random() / 2))


def run_chat(settings: Settings, prompt: str, api_key: str | None, out: StreamJsonWriter, *,
             transport: httpx.BaseTransport | None = None,
             sleep: Callable[[float], object] = time.sleep, redact: Redactor | None = None,
             stop: Callable[[], bool] | None = None) -> int | None:
    """Make the request, write every line, and return the exit code.

    ``redact`` masks what is written (default: ``api_key`` alone). ``stop``
    (checked after every chunk and around retry waits) ends the request
    early: then nothing more is written and None is returned.
    """
    import httpx

    redact = redact if redact is not None else Redactor([api_key])
    start = time.monotonic()
    deadline = start + settings.retry_budget
    out.init(settings.model)
    body = settings.body(prompt)
    headers = settings.headers(api_key)
    timeout = httpx.Timeout(settings.timeout)
    state = ChatState()
    failure: _Failure | None = None
    api_ms = 0
    with httpx.Client(timeout=timeout, transport=transport) as client:
        attempt = 0
        while True:
            state = ChatState()
            t0 = time.monotonic()
            try:
                _attempt(client, settings, body, headers, state, out, redact, stop)
                failure = None
            except _Failure as exc:
                failure = exc
            except _Stopped:
                return None
            api_ms += int((time.monotonic() - t0) * 1000)
            if failure is None or not failure.retryable or attempt >= settings.max_retries:
                break
            attempt += 1
            wait = failure.retry_after if failure.retry_after is not None else _backoff(attempt)
            if time.monotonic() + wait > deadline:
                failure.message += (f" (not retried: waiting {wait:g} s would pass the "
                                    f"{settings.retry_budget:g} s retry budget)")
                break
            out.api_retry(attempt, settings.max_retries, wait, failure.status,
                          redact.cut(failure.message, MESSAGE_LIMIT))
            if stop is not None and stop():
                return None
            sleep(wait)
            if stop is not None and stop():
                return None
    return _finish(settings, state, failure, redact, out, start, api_ms)


def _finish(settings: Settings, state: ChatState, failure: _Failure | None, redact: Redactor,
            out: StreamJsonWriter, start: float, api_ms: int) -> int:
    model = state.model or settings.model
    usage = state.usage or ChatUsage()
    text = redact("".join(state.text))
    if text or (failure is None and state.error is None):
        out.assistant(state.message_id, model, text, state.finish_reason, usage)
    cost = usage.cost
    if cost is None and state.usage is not None:
        cost = _table_cost(model, usage)
    duration = int((time.monotonic() - start) * 1000)
    common: dict[str, Any] = {"model": model, "usage": usage, "cost": cost, "duration_ms": duration,
                              "duration_api_ms": api_ms, "finish_reason": state.finish_reason}
    if failure is not None:
        message = redact.cut(failure.message, MESSAGE_LIMIT)
        out.result(is_error=True, text=message, api_error_status=failure.status, errors=[message],
                   terminal_reason="timeout" if failure.timeout else "api_error",
                   retry_after_s=failure.retry_after, **common)
        return EXIT_TIMEOUT if failure.timeout else EXIT_ERROR
    if state.error is not None:
        message = redact.cut(state.error, MESSAGE_LIMIT)
        out.result(is_error=True, text=message, api_error_status=state.error_status, errors=[message],
                   terminal_reason="api_error", **common)
        return EXIT_ERROR
    out.result(is_error=False, text=text, **common)
    return EXIT_OK


def _table_cost(model: str, usage: ChatUsage) -> float | None:
    """Cost from tacroute's price table (built-ins, refreshed cache) when the API sent none."""
    from tacroute.pricing import PricingTable
    from tacroute.types import Usage

    return PricingTable.load().cost(model, Usage(usage.input_tokens, usage.output_tokens,
                                                 usage.cache_read_tokens, usage.cache_creation_tokens))
