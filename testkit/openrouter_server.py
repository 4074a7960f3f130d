"""A real HTTP server on 127.0.0.1 that behaves like OpenRouter's API, scripted per test.

``POST /api/v1/chat/completions`` answers with the next scripted :class:`Reply`
(a streamed answer, an error status, a stall, a dropped connection, raw SSE
bytes); ``GET /api/v1/models`` and ``GET /api/v1/key`` answer the payloads set
on the server. Streams use chunked transfer encoding and are flushed chunk by
chunk, so a client sees them arrive as OpenRouter's would. Every request is
recorded (path, headers, JSON body) for assertions.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeOpenRouter", "Recorded", "Reply", "chunk", "drop_reply", "error_reply", "usage_obj",
           "echo_auth_reply", "midstream_error_reply", "raw_reply", "stall_reply", "stream_reply"]

COMMENT = b": OPENROUTER PROCESSING\n\n"


@dataclass
class Reply:
    """One scripted answer to a chat-completions request."""

    status: int = 200
    #: Raw body pieces, each sent (and flushed) as its own HTTP chunk.
    pieces: list[bytes] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/event-stream"
    #: Seconds to wait before the status line (a stall), cut short when the server stops.
    stall_before: float = 0.0
    #: Seconds to wait after sending the first ``stall_after_pieces`` pieces.
    stall_mid: float = 0.0
    stall_after_pieces: int = 0
    #: Close the connection after this many pieces, without ending the chunked body.
    drop_after: int | None = None
    #: Seconds to wait before each piece after the first (a slow, steady stream).
    gap: float = 0.0
    #: A hostile upstream: the (plain text) error body is this many characters
    #: of filler, then the request's ``Authorization`` header echoed back.
    echo_auth_after: int | None = None


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


def chunk(content: str | None = None, *, model: str = "openai/gpt-4o-mini", finish: str | None = None,
          usage: dict[str, Any] | None = None, error: dict[str, Any] | None = None,
          gen_id: str = "gen-test-1") -> bytes:
    """One ``data: {...}\\n\\n`` event shaped like OpenRouter's stream chunks."""
    delta: dict[str, Any] = {"role": "assistant", "content": content if content is not None else ""}
    obj: dict[str, Any] = {"id": gen_id, "provider": "OpenAI", "model": model,
                           "object": "chat.completion.chunk", "created": 1764031697,
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                                        "native_finish_reason": finish, "logprobs": None}]}
    if usage is not None:
        obj["usage"] = usage
    if error is not None:
        obj["error"] = error
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def usage_obj(prompt: int, completion: int, cost: float | None = None, cached: int = 0,
              cache_write: int = 0) -> dict[str, Any]:
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion,
                             "total_tokens": prompt + completion,
                             "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                             "completion_tokens_details": {"reasoning_tokens": 0}}
    if cache_write:
        usage["prompt_tokens_details"]["cache_write_tokens"] = cache_write
    if cost is not None:
        usage["cost"] = cost
        usage["is_byok"] = False
    return usage


def stream_reply(parts: Sequence[str], *, model: str = "openai/gpt-4o-mini", prompt_tokens: int = 12,
                 completion_tokens: int | None = None, cost: float | None = 0.0000123,
                 comments: int = 2, cached: int = 0, cache_write: int = 0, usage: bool = True,
                 done: bool = True) -> Reply:
    """A streamed answer: comment keep-alives, text deltas, a finish chunk, a usage chunk, ``[DONE]``.

    The usage chunk comes after the finish chunk with a non-empty ``choices``
    (as real OpenRouter streams do); ``cost=None`` leaves ``usage.cost`` out.
    """
    pieces = [COMMENT] * comments
    pieces += [chunk(p, model=model) for p in parts]
    pieces.append(chunk("", model=model, finish="stop"))
    if usage:
        n = completion_tokens if completion_tokens is not None else len(parts)
        pieces.append(chunk("", model=model, usage=usage_obj(prompt_tokens, n, cost, cached, cache_write)))
    if done:
        pieces.append(b"data: [DONE]\n\n")
    return Reply(pieces=pieces)


def error_reply(status: int, message: str = "error", retry_after: str | None = None,
                extra: dict[str, Any] | None = None) -> Reply:
    body = {"error": {"code": status, "message": message, **(extra or {})}}
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Reply(status=status, pieces=[json.dumps(body).encode()], headers=headers,
                 content_type="application/json")


def midstream_error_reply(parts: Sequence[str], code: int | str = "server_error",
                          message: str = "Provider disconnected unexpectedly",
                          error_type: str | None = None) -> Reply:
    """Some text, then OpenRouter's mid-stream error chunk (HTTP status stays 200)."""
    error: dict[str, Any] = {"code": code, "message": message}
    if error_type is not None:
        error["metadata"] = {"error_type": error_type}
    pieces = [COMMENT] + [chunk(p) for p in parts]
    pieces.append(chunk("", finish="error", error=error))
    return Reply(pieces=pieces)


def stall_reply(seconds: float, *, after_text: Sequence[str] = ()) -> Reply:
    """Say nothing for ``seconds`` (before the headers, or after some text)."""
    if after_text:
        pieces = [chunk(p) for p in after_text] + [b"data: [DONE]\n\n"]
        return Reply(pieces=pieces, stall_mid=seconds, stall_after_pieces=len(after_text))
    return Reply(pieces=stream_reply(["late"]).pieces, stall_before=seconds)


def drop_reply(parts: Sequence[str]) -> Reply:
    """Some text, then the connection closes in the middle of the body."""
    pieces = [COMMENT] + [chunk(p) for p in parts] + [b"data: [DONE]\n\n"]
    return Reply(pieces=pieces, drop_after=1 + len(parts))


def echo_auth_reply(status: int = 400, filler: int = 260) -> Reply:
    """A plain-text error body echoing ``Authorization: Bearer <key>`` after ``filler`` characters
    (260: a 300-character cut keeps the first 18 characters of the key)."""
    return Reply(status=status, content_type="text/plain", echo_auth_after=filler)


def raw_reply(pieces: Iterable[bytes], content_type: str = "text/event-stream") -> Reply:
    return Reply(pieces=list(pieces), content_type=content_type)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _record(self, body: Any) -> None:
        self.server.owner.requests.append(
            Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))

    def _authorised(self) -> bool:
        key = self.server.owner.valid_key
        return key is None or self.headers.get("Authorization") == f"Bearer {key}"

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        owner = self.server.owner
        self._record(None)
        path = self.path.split("?", 1)[0]
        if path == "/api/v1/models":
            self._json(200, owner.models_payload)
        elif path == "/api/v1/key":
            if not self._authorised():
                self._json(401, {"error": {"code": 401, "message": "Invalid credentials"}})
            else:
                self._json(200, owner.key_payload)
        else:
            self._json(404, {"error": {"code": 404, "message": f"no route {path}"}})

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self._record(body)
        if self.path.split("?", 1)[0] != "/api/v1/chat/completions":
            self._json(404, {"error": {"code": 404, "message": f"no route {self.path}"}})
            return
        if not self._authorised():
            self._json(401, {"error": {"code": 401, "message": "Missing Authentication header"}})
            return
        reply = owner.next_reply()
        if reply.echo_auth_after is not None:
            message = ("upstream rejected the request; " * 20)[:reply.echo_auth_after]
            message += f"Authorization: {self.headers.get('Authorization', '')}"
            reply = Reply(status=reply.status, content_type=reply.content_type, pieces=[message.encode()])
        if reply.stall_before and owner.stopping.wait(reply.stall_before):
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.end_headers()
        try:
            for i, piece in enumerate(reply.pieces):
                if reply.drop_after is not None and i >= reply.drop_after:
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                if reply.stall_mid and i == reply.stall_after_pieces and owner.stopping.wait(reply.stall_mid):
                    return
                if reply.gap and i and owner.stopping.wait(reply.gap):
                    return
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakeOpenRouter

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Record a handler's exception instead of printing it (clients hang up on purpose)."""
        import sys

        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError | TimeoutError):
            self.owner.errors.append(repr(exc))


class FakeOpenRouter:
    """Start with :meth:`start`, script with :meth:`script`, stop with :meth:`stop`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        #: Unexpected exceptions in request handlers (hang-ups by the client are not listed).
        self.errors: list[str] = []
        self.replies: list[Reply] = []
        self.valid_key: str | None = None
        self.models_payload: Any = {"data": []}
        self.key_payload: Any = {"data": {}}
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/v1"

    def start(self) -> FakeOpenRouter:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def script(self, *replies: Reply) -> None:
        """Answer the next chat requests with these replies, in order."""
        with self._lock:
            self.replies.extend(replies)

    def next_reply(self) -> Reply:
        with self._lock:
            if self.replies:
                return self.replies.pop(0)
        return error_reply(500, "fake server: no scripted reply left")

    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith("/api/v1/chat/completions")]

