"""Write a chat completion as the Claude CLI's ``--output-format`` output.

``stream-json``: a ``system/init`` line, ``system/api_retry`` lines while
retrying, optional ``stream_event`` text deltas (``--include-partial-messages``),
one ``assistant`` line with the text, and always a final ``result`` line.
``json``: only the result object; ``text``: only the final text. Every line
is written and flushed as soon as it is known, to stdout and to the output
file alike, so a reader (the runner's ``claude-stream-json`` parser) sees it live.
Lines are pure ASCII JSON (non-ASCII escaped): a U+2028 in the model's text
cannot split a line for a reader using ``str.splitlines()``, and a C-locale
stdout cannot fail to encode it.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["FORMATS", "ChatUsage", "StreamJsonWriter"]

FORMATS = ("stream-json", "json", "text")

_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
                 "content_filter": "refusal", "error": "error"}


@dataclass
class ChatUsage:
    """Token counts in the Claude CLI's terms (input excludes cache reads and writes)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    cost: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_openai(cls, usage: Mapping[str, Any]) -> ChatUsage:
        """From an OpenAI/OpenRouter ``usage`` object (prompt tokens include cached ones)."""
        prompt = _int(usage.get("prompt_tokens"))
        details = usage.get("prompt_tokens_details")
        details = details if isinstance(details, Mapping) else {}
        cached = _int(details.get("cached_tokens"))
        written = _int(details.get("cache_write_tokens"))
        cost = usage.get("cost")
        return cls(input_tokens=max(prompt - cached - written, 0),
                   output_tokens=_int(usage.get("completion_tokens")),
                   cache_read_tokens=cached, cache_creation_tokens=written,
                   cost=float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None)

    def as_claude(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "cache_creation_input_tokens": self.cache_creation_tokens,
                "cache_read_input_tokens": self.cache_read_tokens, "output_tokens": self.output_tokens}


def _error_name(status: int | None) -> str:
    """The Claude CLI's name for a retryable failure (``SDKAssistantMessageError``)."""
    if status == 429:
        return "rate_limit"
    if status is not None and status >= 500:
        return "server_error"
    return "unknown"  # 408, or no answer at all (connection failed)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


class StreamJsonWriter:
    """Emits the lines of one run to stdout and an optional output file."""

    def __init__(self, out: TextIO | None, output_file: str | None, fmt: str = "stream-json",
                 partial: bool = False) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format {fmt!r}; valid: {', '.join(FORMATS)}")
        self.fmt = fmt
        self.partial = partial and fmt == "stream-json"
        self.session_id = str(uuid.uuid4())
        self._targets: list[TextIO] = [out] if out is not None else []
        self._file: TextIO | None = None
        if output_file:
            self._file = open(output_file, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
            self._targets.append(self._file)
        self.result_written = False

    # --------------------------------------------------------------- plumbing
    def _write(self, text: str) -> None:
        for target in self._targets:
            target.write(text)
            target.flush()

    def _line(self, obj: dict[str, Any]) -> None:
        if self.fmt == "stream-json":
            obj["session_id"] = self.session_id
            obj["uuid"] = str(uuid.uuid4())
            self._write(json.dumps(obj) + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # ------------------------------------------------------------------ lines
    def init(self, model: str) -> None:
        self._line({"type": "system", "subtype": "init", "cwd": os.getcwd(), "tools": [],
                    "mcp_servers": [], "model": model, "permissionMode": "default",
                    "apiKeySource": "none", "output_style": "default", "provider": "openrouter"})

    def api_retry(self, attempt: int, max_retries: int, delay_s: float, status: int | None,
                  message: str) -> None:
        """A retry is about to wait ``delay_s``; ``error`` uses the Claude CLI's error names."""
        self._line({"type": "system", "subtype": "api_retry", "attempt": attempt,
                    "max_retries": max_retries, "retry_delay_ms": int(delay_s * 1000),
                    "error_status": status, "error": _error_name(status), "message": message})

    def delta(self, text: str, index: int = 0) -> None:
        if self.partial:
            self._line({"type": "stream_event", "parent_tool_use_id": None,
                        "event": {"type": "content_block_delta", "index": index,
                                  "delta": {"type": "text_delta", "text": text}}})

    def assistant(self, message_id: str | None, model: str, text: str, finish_reason: str | None,
                  usage: ChatUsage) -> None:
        self._line({"type": "assistant", "parent_tool_use_id": None, "message": {
            "id": message_id, "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": _STOP_REASONS.get(finish_reason or "", finish_reason),
            "stop_sequence": None, "usage": usage.as_claude()}})

    def result(self, *, is_error: bool, text: str, model: str, usage: ChatUsage, cost: float | None,
               duration_ms: int, duration_api_ms: int, api_error_status: int | None = None,
               finish_reason: str | None = None, errors: list[str] | None = None,
               terminal_reason: str = "completed", num_turns: int = 1,
               retry_after_s: float | None = None) -> dict[str, Any]:
        """The final line (written exactly once); returns the object written."""
        model_usage = {model: {
            "inputTokens": usage.input_tokens, "outputTokens": usage.output_tokens,
            "cacheReadInputTokens": usage.cache_read_tokens,
            "cacheCreationInputTokens": usage.cache_creation_tokens, "webSearchRequests": 0,
            "costUSD": cost or 0.0, "contextWindow": 0, "maxOutputTokens": 0,
        }} if usage.input_tokens or usage.output_tokens or cost else {}
        obj: dict[str, Any] = {
            "type": "result",
            # Like the Claude CLI: an API error answer is subtype "success" with is_error true;
            # a transport failure (timeout, lost connection) is "error_during_execution".
            "subtype": "error_during_execution" if is_error and api_error_status is None else "success",
            "is_error": is_error, "api_error_status": api_error_status,
            "duration_ms": duration_ms, "duration_api_ms": duration_api_ms, "num_turns": num_turns,
            "result": text, "stop_reason": _STOP_REASONS.get(finish_reason or "", finish_reason),
            "total_cost_usd": cost, "usage": usage.as_claude(), "modelUsage": model_usage,
            "permission_denials": [], "terminal_reason": terminal_reason,
        }
        if errors:
            obj["errors"] = errors
        if retry_after_s is not None:  # the server's Retry-After, for the runner's cooldown
            obj["retry_after_ms"] = int(retry_after_s * 1000)
        self.result_written = True
        if self.fmt == "stream-json":
            self._line(obj)
        elif self.fmt == "json":
            obj["session_id"] = self.session_id
            self._write(json.dumps(obj) + "\n")
        else:
            self._write(text + "\n")
        return obj
