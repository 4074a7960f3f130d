"""A fake Gemini API on 127.0.0.1, for running the real Gemini CLI.

The CLI (``GOOGLE_GEMINI_BASE_URL`` = :attr:`base_url`) sends
``POST /v1beta/models/MODEL:streamGenerateContent?alt=sse`` and reads chunks with
``candidates[].content.parts[].text``, ``finishReason`` and ``usageMetadata``.
A request with ``tools`` is a main request (scripted, see :mod:`testkit.agent_api`);
side requests (``generateContent`` for checks, ``countTokens``) get short answers.
Errors use Google's envelope (``error.code``, ``status``, ``details[].reason``;
a 429 carries a ``RetryInfo`` delay and a ``retry-after`` header).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from testkit.agent_api import (
    Drop,
    FakeAgentServer,
    HttpError,
    Recorded,
    Reply,
    Slow,
    SSEHandler,
    Text,
    ToolCall,
    usage_of,
    words,
)

__all__ = ["FakeGeminiServer"]

_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
           429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


def _usage(reply: Reply) -> dict[str, int]:
    u = usage_of(reply)
    inp, out = u.get("input_tokens", 0), u.get("output_tokens", 0)
    return {"promptTokenCount": inp, "candidatesTokenCount": out,
            "cachedContentTokenCount": u.get("cached_tokens", 0),
            "thoughtsTokenCount": u.get("reasoning_tokens", 0),
            "totalTokenCount": inp + out + u.get("reasoning_tokens", 0)}


def _chunk(parts: list[dict[str, Any]], model: str, finish: str | None = None,
           usage: dict[str, int] | None = None) -> dict[str, Any]:
    cand: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        cand["finishReason"] = finish
    data: dict[str, Any] = {"candidates": [cand], "modelVersion": model, "responseId": "fake-resp"}
    if usage is not None:
        data["usageMetadata"] = usage
    return data


def _chunks(reply: Reply, model: str) -> Iterator[tuple[bool, dict[str, Any]]]:
    """(is a text delta, chunk) pairs of a streamed reply."""
    if isinstance(reply, ToolCall):
        call = {"functionCall": {"name": "run_shell_command",
                                 "args": {"command": reply.command, "description": "run a command"}}}
        yield False, _chunk([call], model, "STOP", _usage(reply))
        return
    text = reply.text if isinstance(reply, (Text, Slow, Drop)) else ""
    pieces = words(text)
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        yield True, _chunk([{"text": piece}], model, "STOP" if last else None,
                           _usage(reply) if last else None)


def _error(reply: HttpError) -> tuple[dict[str, Any], dict[str, str]]:
    status = _STATUS.get(reply.status, "UNKNOWN")
    details: list[dict[str, Any]] = []
    headers: dict[str, str] = {}
    if reply.reason:
        details.append({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reply.reason,
                        "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"}})
    if reply.retry_after is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo",
                        "retryDelay": f"{reply.retry_after:g}s"})
        headers["retry-after"] = f"{reply.retry_after:g}"
    return {"error": {"code": reply.status, "message": reply.message, "status": status,
                      "details": details}}, headers


class _Handler(SSEHandler):
    server_version = "FakeGemini/1.0"

    def do_GET(self) -> None:
        path = self._path()
        self.fake.record(Recorded("GET", path))
        self._json(404, {"error": {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}})

    def do_POST(self) -> None:
        path = self._path()
        body = self._body()
        model, _, method = path.rpartition("/")[2].partition(":")
        has_key = bool(self.headers.get("x-goog-api-key") or "key=" in self.path)
        if not isinstance(body, dict) or not path.startswith("/v1beta/models/"):
            self.fake.record(Recorded("POST", path, has_key=has_key))
            self._json(404, {"error": {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}})
            return
        if method == "countTokens":
            self.fake.record(Recorded("POST", path, model, has_key=has_key))
            self._json(200, {"totalTokens": 42})
            return
        main = method == "streamGenerateContent" and bool(body.get("tools"))
        rec = Recorded("POST", path, model, main, has_key, body=body)
        reply: Reply = self.fake.next_reply() if main else Text('{"reasoning": "ok", "next_speaker": "user"}',
                                                                 20, 2, 0, 0)
        rec.reply = type(reply).__name__
        if isinstance(reply, HttpError):
            rec.reply = f"HttpError({reply.status})"
            self.fake.record(rec)
            envelope, headers = _error(reply)
            self._json(reply.status, envelope, headers)
            return
        rec.usage = usage_of(reply)
        self.fake.record(rec)
        if isinstance(reply, Slow):
            time.sleep(reply.delay_s)
        if method != "streamGenerateContent":
            text = reply.text if isinstance(reply, Text) else ""
            self._json(200, _chunk([{"text": text}], model, "STOP", _usage(reply)))
            return
        self._sse_start()
        deltas = 0
        try:
            for is_delta, data in _chunks(reply, model):
                if isinstance(reply, Drop) and is_delta:
                    if deltas >= reply.after_deltas:
                        self._cut()
                        return
                    deltas += 1
                self._sse(data)
            self._sse_end()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class FakeGeminiServer(FakeAgentServer):
    """The Gemini API; :attr:`base_url` is the origin (what ``GOOGLE_GEMINI_BASE_URL`` takes)."""

    handler = _Handler
    thread_name = "fake-gemini"

    @property
    def base_url(self) -> str:
        return self.origin

    def __enter__(self) -> FakeGeminiServer:
        self.start()
        return self
