"""A fake OpenAI Responses API on 127.0.0.1, for running the real Codex CLI.

The CLI (a ``model_providers`` entry whose ``base_url`` is :attr:`base_url`)
sends ``POST /v1/responses`` with ``"stream": true`` and reads SSE events:
``response.created``, ``response.output_item.added``, ``response.output_text.delta``,
``response.output_item.done`` and ``response.completed`` (with ``usage``). A
request with ``tools`` is a main request (scripted, see :mod:`testkit.agent_api`);
any other (a title, a compaction) gets a short text.
"""

from __future__ import annotations

import json
import time
import uuid
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

__all__ = ["FakeOpenAIServer"]

_CODES = {400: "invalid_request_error", 401: "invalid_api_key", 403: "forbidden",
          404: "model_not_found", 429: "rate_limit_exceeded", 500: "server_error"}


def _usage(reply: Reply) -> dict[str, Any]:
    u = usage_of(reply)
    return {"input_tokens": u.get("input_tokens", 0),
            "input_tokens_details": {"cached_tokens": u.get("cached_tokens", 0)},
            "output_tokens": u.get("output_tokens", 0),
            "output_tokens_details": {"reasoning_tokens": u.get("reasoning_tokens", 0)},
            "total_tokens": u.get("input_tokens", 0) + u.get("output_tokens", 0)}


def _events(reply: Reply, model: str) -> Iterator[tuple[str, dict[str, Any]]]:
    rid = f"resp_fake_{uuid.uuid4().hex[:16]}"
    base: dict[str, Any] = {"id": rid, "object": "response", "created_at": int(time.time()), "model": model,
            "status": "in_progress", "output": []}
    yield "response.created", {"type": "response.created", "response": base}
    if isinstance(reply, ToolCall):
        args = json.dumps({"cmd": reply.command})
        item: dict[str, Any] = {"type": "function_call", "id": f"fc_{uuid.uuid4().hex[:12]}", "call_id":
                f"call_{uuid.uuid4().hex[:12]}", "name": "exec_command", "arguments": args, "status": "completed"}
        yield "response.output_item.added", {"type": "response.output_item.added", "output_index": 0,
                                             "item": {**item, "arguments": "", "status": "in_progress"}}
        yield "response.output_item.done", {"type": "response.output_item.done", "output_index": 0,
                                            "item": item}
        output = [item]
    else:
        text = reply.text if isinstance(reply, (Text, Slow, Drop)) else ""
        mid = f"msg_{uuid.uuid4().hex[:12]}"
        yield "response.output_item.added", {"type": "response.output_item.added", "output_index": 0,
                                             "item": {"type": "message", "id": mid, "role": "assistant",
                                                      "status": "in_progress", "content": []}}
        for delta in words(text):
            yield "response.output_text.delta", {"type": "response.output_text.delta", "item_id": mid,
                                                 "output_index": 0, "content_index": 0, "delta": delta}
        item = {"type": "message", "id": mid, "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}]}
        yield "response.output_item.done", {"type": "response.output_item.done", "output_index": 0,
                                            "item": item}
        output = [item]
    yield "response.completed", {"type": "response.completed", "response": {
        **base, "status": "completed", "output": output, "usage": _usage(reply)}}


class _Handler(SSEHandler):
    server_version = "FakeOpenAI/1.0"

    def do_GET(self) -> None:
        path = self._path()
        self.fake.record(Recorded("GET", path))
        if path.endswith("/models"):
            self._json(200, {"object": "list", "data": []})
        else:
            self._json(404, {"error": {"message": f"no route {path}", "type": "not_found"}})

    def do_POST(self) -> None:
        path = self._path()
        body = self._body()
        if not isinstance(body, dict) or not path.endswith("/responses"):
            self.fake.record(Recorded("POST", path))
            self._json(404, {"error": {"message": f"no route {path}", "type": "not_found"}})
            return
        model = str(body.get("model", "unknown"))
        main = bool(body.get("tools"))
        rec = Recorded("POST", path, model, main, bool(self.headers.get("Authorization")), body=body)
        reply: Reply = self.fake.next_reply() if main else Text("Title", 20, 2, 0, 0)
        rec.reply = type(reply).__name__
        if isinstance(reply, HttpError):
            rec.reply = f"HttpError({reply.status})"
            self.fake.record(rec)
            headers = {"retry-after": f"{reply.retry_after:g}"} if reply.retry_after is not None else {}
            code = reply.reason or _CODES.get(reply.status, "server_error")
            self._json(reply.status, {"error": {"message": reply.message, "type": code, "param": None,
                                                "code": code}}, headers)
            return
        rec.usage = usage_of(reply)
        self.fake.record(rec)
        if isinstance(reply, Slow):
            time.sleep(reply.delay_s)
            reply = Text(reply.text, reply.input_tokens, reply.output_tokens, 0, 0)
        self._sse_start()
        deltas = 0
        try:
            for name, data in _events(reply, model):
                if isinstance(reply, Drop) and name == "response.output_text.delta":
                    if deltas >= reply.after_deltas:
                        self._cut()
                        return
                    deltas += 1
                self._sse(data, name)
            self._sse_end()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class FakeOpenAIServer(FakeAgentServer):
    """The Responses API; :attr:`base_url` ends in ``/v1`` (what ``base_url`` options take)."""

    handler = _Handler
    thread_name = "fake-openai"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self.start()
        return self
