"""A fake Anthropic Messages API server on 127.0.0.1, for running the real Claude CLI.

The CLI (``ANTHROPIC_BASE_URL=http://127.0.0.1:PORT``) sends ``HEAD /``, then
``POST /v1/messages?beta=true`` with ``"stream": true``; a prompt may also cause a
small side request (a session title) with another model and no ``tools``. This
server answers every model. Each test scripts what the *main* requests (the ones
with ``tools``) get, in order; the last scripted reply repeats. Side requests
get a short text answer unless :attr:`FakeAnthropicServer.side` is set.

Replies:

``Text(text)``            a streamed answer (``end_turn``)
``ToolUse(command)``      a streamed ``tool_use`` block for ``Bash`` (the CLI runs it
                          and comes back with a ``tool_result``: a two-turn run)
``HttpError(status)``     a JSON error envelope with that status (400, 401, 429 with
                          ``retry_after``, 529, ...); ``echo_auth_after=N``: the message
                          is N characters of filler, then the request's key echoed back
``Slow(text, delay_s)``   a streamed answer that starts after ``delay_s`` seconds
``Drop(after_deltas)``    a stream whose connection is cut after a few deltas

Every request is recorded (:attr:`FakeAnthropicServer.requests`) with the usage
the server reported, so tests can check token accounting exactly.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Drop", "FakeAnthropicServer", "HttpError", "Recorded", "Reply", "Slow", "Text", "ToolUse"]


@dataclass(frozen=True)
class Text:
    text: str = "OK"
    input_tokens: int = 120
    output_tokens: int = 7
    cache_read_tokens: int = 30
    cache_creation_tokens: int = 11


@dataclass(frozen=True)
class ToolUse:
    command: str
    input_tokens: int = 200
    output_tokens: int = 15
    description: str = "run a command"


@dataclass(frozen=True)
class HttpError:
    status: int
    error_type: str | None = None
    message: str = "scripted error"
    retry_after: float | None = None
    #: A hostile upstream: the message is this many characters of filler, then
    #: the request's credential header (``x-api-key`` or ``Authorization``) echoed back.
    echo_auth_after: int | None = None


@dataclass(frozen=True)
class Slow:
    text: str = "slow answer"
    delay_s: float = 30.0
    input_tokens: int = 50
    output_tokens: int = 5


@dataclass(frozen=True)
class Drop:
    after_deltas: int = 1
    text: str = "this answer is cut off"


Reply = Text | ToolUse | HttpError | Slow | Drop

_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
                500: "api_error", 529: "overloaded_error"}


@dataclass
class Recorded:
    """One request the server saw (the API key header is never kept)."""

    method: str
    path: str
    model: str | None = None
    main: bool = False
    has_tool_result: bool = False
    reply: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    #: The text of the request's first user message (what the CLI made of the prompt).
    prompt: str = ""


class FakeAnthropicServer:
    """A threaded HTTP server on 127.0.0.1 (port 0), scriptable per test."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: list[Reply] = [Text()]
        #: Reply for side requests (no ``tools``); None: a short title text.
        self.side: Reply | None = None
        self.requests: list[Recorded] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-anthropic",
                                        daemon=True)

    # ------------------------------------------------------------------ control
    def start(self) -> FakeAnthropicServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeAnthropicServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *replies: Reply) -> None:
        """What the next main requests get, in order; the last one repeats."""
        if not replies:
            raise ValueError("script() needs at least one reply")
        with self._lock:
            self._script = list(replies)

    def next_reply(self, main: bool) -> Reply:
        with self._lock:
            if not main:
                return self.side or Text("Session title", input_tokens=40, output_tokens=3,
                                         cache_read_tokens=0, cache_creation_tokens=0)
            return self._script.pop(0) if len(self._script) > 1 else self._script[0]

    def record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)

    # ---------------------------------------------------------------- queries
    def message_requests(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == "/v1/messages"]

    def reported_usage(self) -> dict[str, int]:
        """Sum of the usage this server reported over all answered messages."""
        total = {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
                 "cache_creation_tokens": 0, "reasoning_tokens": 0}
        for r in self.message_requests():
            for k, v in r.usage.items():
                total[k] += v
        return total


def _events(reply: Reply, model: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The Messages SSE events for a streamed reply."""
    msg_id = f"msg_fake_{uuid.uuid4().hex[:20]}"
    if isinstance(reply, ToolUse):
        usage_in = {"input_tokens": reply.input_tokens, "output_tokens": 1}
    else:
        usage_in = {"input_tokens": reply.input_tokens if not isinstance(reply, Drop) else 10,
                    "output_tokens": 1}
    if isinstance(reply, Text):
        usage_in["cache_read_input_tokens"] = reply.cache_read_tokens
        usage_in["cache_creation_input_tokens"] = reply.cache_creation_tokens
    yield "message_start", {"type": "message_start", "message": {
        "id": msg_id, "type": "message", "role": "assistant", "content": [], "model": model,
        "stop_reason": None, "stop_sequence": None, "usage": usage_in}}
    if isinstance(reply, ToolUse):
        block = {"type": "tool_use", "id": f"toolu_fake_{uuid.uuid4().hex[:16]}", "name": "Bash",
                 "input": {}}
        yield "content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}
        args = json.dumps({"command": reply.command, "description": reply.description})
        half = len(args) // 2
        for part in ("", args[:half], args[half:]):
            yield "content_block_delta", {"type": "content_block_delta", "index": 0,
                                          "delta": {"type": "input_json_delta", "partial_json": part}}
        yield "content_block_stop", {"type": "content_block_stop", "index": 0}
        yield "message_delta", {"type": "message_delta",
                                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                                "usage": {"output_tokens": reply.output_tokens}}
        yield "message_stop", {"type": "message_stop"}
        return
    text = reply.text
    yield "content_block_start", {"type": "content_block_start", "index": 0,
                                  "content_block": {"type": "text", "text": ""}}
    yield "ping", {"type": "ping"}
    words = text.split(" ")
    chunks = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
    for chunk in chunks:
        yield "content_block_delta", {"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "text_delta", "text": chunk}}
    yield "content_block_stop", {"type": "content_block_stop", "index": 0}
    out = reply.output_tokens if not isinstance(reply, Drop) else 1
    yield "message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                               "stop_sequence": None},
                            "usage": {"output_tokens": out}}
    yield "message_stop", {"type": "message_stop"}


def _message(reply: Reply, model: str) -> dict[str, Any]:
    """The same reply as one non-streaming Message (the CLI falls back to these)."""
    content: list[Any] = []
    stop = "end_turn"
    for name, data in _events(reply, model):
        if name == "content_block_start":
            content.append(dict(data["content_block"]))
        elif name == "content_block_delta" and data["delta"]["type"] == "text_delta":
            content[-1]["text"] += data["delta"]["text"]
        elif name == "message_delta":
            stop = data["delta"]["stop_reason"]
    if isinstance(reply, ToolUse):
        content[-1]["input"] = {"command": reply.command, "description": reply.description}
    usage = _usage_of(reply)
    return {"id": f"msg_fake_{uuid.uuid4().hex[:20]}", "type": "message", "role": "assistant",
            "model": model, "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": usage.get("input_tokens", 0),
                      "output_tokens": usage.get("output_tokens", 0),
                      "cache_read_input_tokens": usage.get("cache_read_tokens", 0),
                      "cache_creation_input_tokens": usage.get("cache_creation_tokens", 0)}}


def _usage_of(reply: Reply) -> dict[str, int]:
    if isinstance(reply, Text):
        return {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens,
                "cache_read_tokens": reply.cache_read_tokens,
                "cache_creation_tokens": reply.cache_creation_tokens}
    if isinstance(reply, (ToolUse, Slow)):
        return {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens}
    return {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeAnthropic/1.0"

    @property
    def fake(self) -> FakeAnthropicServer:
        fake: FakeAnthropicServer = self.server.fake  # type: ignore[attr-defined]
        return fake

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    def do_HEAD(self) -> None:
        self.fake.record(Recorded("HEAD", self._path()))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        path = self._path()
        self.fake.record(Recorded("GET", path))
        if path == "/v1/models":
            self._json(200, {"data": [], "has_more": False, "first_id": None, "last_id": None})
        else:
            self._json(404, _envelope(404, "not_found_error", f"no route {path}"))

    def do_POST(self) -> None:
        path = self._path()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._json(400, _envelope(400, "invalid_request_error", "body is not JSON"))
            return
        if path == "/v1/messages/count_tokens":
            self.fake.record(Recorded("POST", path, body.get("model")))
            self._json(200, {"input_tokens": 42})
            return
        if path != "/v1/messages":
            self.fake.record(Recorded("POST", path))
            self._json(404, _envelope(404, "not_found_error", f"no route {path}"))
            return
        model = str(body.get("model", "unknown"))
        main = bool(body.get("tools"))
        rec = Recorded("POST", path, model, main, _has_tool_result(body), prompt=_first_user_text(body))
        reply = self.fake.next_reply(main)
        rec.reply = type(reply).__name__
        if isinstance(reply, HttpError):
            rec.reply = f"HttpError({reply.status})"
            self.fake.record(rec)
            headers = {}
            if reply.retry_after is not None:
                headers["retry-after"] = f"{reply.retry_after:g}"
            etype = reply.error_type or _ERROR_TYPES.get(reply.status, "api_error")
            message = reply.message
            if reply.echo_auth_after is not None:
                message = ("upstream rejected the request; " * 20)[:reply.echo_auth_after]
                # Not "x-api-key": the CLI turns a message naming it into "Invalid API key".
                message += f"credential seen: {self.headers.get('x-api-key') or self.headers.get('Authorization')}"
            self._json(reply.status, _envelope(reply.status, etype, message), headers)
            return
        rec.usage = _usage_of(reply)
        self.fake.record(rec)
        if isinstance(reply, Slow):
            time.sleep(reply.delay_s)
        if body.get("stream"):
            self._stream(reply, model)
        else:
            self._json(200, _message(reply, model))

    def _stream(self, reply: Reply, model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("request-id", f"req_fake_{uuid.uuid4().hex[:16]}")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        deltas = 0
        try:
            for name, data in _events(reply, model):
                if isinstance(reply, Drop) and name == "content_block_delta":
                    if deltas >= reply.after_deltas:
                        self._cut()
                        return
                    deltas += 1
                payload = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _cut(self) -> None:
        """Drop the connection mid-stream (no terminating chunk)."""
        self.wfile.flush()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("request-id", f"req_fake_{uuid.uuid4().hex[:16]}")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()


def _envelope(status: int, etype: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": etype, "message": message},
            "request_id": f"req_fake_{status}"}


def _first_user_text(body: dict[str, Any]) -> str:
    for message in body.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
            return ""
    return ""


def _has_tool_result(body: dict[str, Any]) -> bool:
    messages = body.get("messages") or []
    if not messages:
        return False
    content = messages[-1].get("content")
    return isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content)
