"""What the fake OpenAI and Gemini servers share: scripted replies, recording, SSE plumbing.

Each server (:mod:`testkit.openai_server`, :mod:`testkit.gemini_server`) is a
threaded HTTP server on 127.0.0.1 (port 0). A test scripts what the *main*
requests get, in order; the last scripted reply repeats. Replies:

``Text(text)``              a streamed answer with usage (input, output, cached, reasoning)
``ToolCall(command)``       a streamed shell tool call (the CLI runs it, then asks again:
                            a two-turn run)
``HttpError(status)``       an error envelope with that status (401, 400 invalid key,
                            429 with ``retry_after``, 500, ...)
``Slow(text, delay_s)``     an answer that starts after ``delay_s`` seconds
``Drop(after_deltas)``      a stream whose connection is cut after a few text deltas

The API key is never recorded: only whether one was sent.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

__all__ = ["Drop", "FakeAgentServer", "HttpError", "Recorded", "Reply", "SSEHandler", "Slow", "Text",
           "ToolCall"]


@dataclass(frozen=True)
class Text:
    text: str = "OK"
    input_tokens: int = 120
    output_tokens: int = 7
    cached_tokens: int = 30
    reasoning_tokens: int = 5


@dataclass(frozen=True)
class ToolCall:
    command: str
    input_tokens: int = 200
    output_tokens: int = 15


@dataclass(frozen=True)
class HttpError:
    status: int
    message: str = "scripted error"
    #: Gemini's ``error.details[].reason`` (``API_KEY_INVALID``) or OpenAI's ``error.code``.
    reason: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class Slow:
    text: str = "slow answer"
    delay_s: float = 30.0
    input_tokens: int = 50
    output_tokens: int = 5


@dataclass(frozen=True)
class Drop:
    after_deltas: int = 1
    text: str = "this answer is cut off before the end"


Reply = Text | ToolCall | HttpError | Slow | Drop


@dataclass
class Recorded:
    """One request the server saw (never its key)."""

    method: str
    path: str
    model: str | None = None
    main: bool = False
    has_key: bool = False
    reply: str = ""
    body: Any = None
    usage: dict[str, int] = field(default_factory=dict)
    #: When the request arrived (``time.time()``).
    at: float = field(default_factory=time.time)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client stopped mid-answer (a CLI killed on purpose) is not worth a traceback."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeAgentServer:
    """Start/stop, the script and the request log; subclasses set :attr:`handler`."""

    handler: ClassVar[type[BaseHTTPRequestHandler]]
    thread_name: ClassVar[str] = "fake-agent-api"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: list[Reply] = [Text()]
        self.requests: list[Recorded] = []
        self._httpd = _Server(("127.0.0.1", 0), self.handler)
        self._httpd.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=self.thread_name,
                                        daemon=True)

    def start(self) -> FakeAgentServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeAgentServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *replies: Reply) -> None:
        """What the next main requests get, in order; the last one repeats."""
        if not replies:
            raise ValueError("script() needs at least one reply")
        with self._lock:
            self._script = list(replies)

    def next_reply(self) -> Reply:
        with self._lock:
            return self._script.pop(0) if len(self._script) > 1 else self._script[0]

    def record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)

    def main_requests(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.main]


def usage_of(reply: Reply) -> dict[str, int]:
    """The token counts a reply reports (what the server's usage object carries)."""
    if isinstance(reply, Text):
        return {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens,
                "cached_tokens": reply.cached_tokens, "reasoning_tokens": reply.reasoning_tokens}
    if isinstance(reply, (ToolCall, Slow)):
        return {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens,
                "cached_tokens": 0, "reasoning_tokens": 0}
    if isinstance(reply, Drop):
        return {"input_tokens": 10, "output_tokens": 1, "cached_tokens": 0, "reasoning_tokens": 0}
    return {}


def words(text: str) -> list[str]:
    """The text in word-sized deltas (spaces kept)."""
    parts = text.split(" ")
    return [w + (" " if i < len(parts) - 1 else "") for i, w in enumerate(parts)]


class SSEHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with chunked SSE bodies, JSON answers and a mid-stream cut."""

    protocol_version = "HTTP/1.1"

    @property
    def fake(self) -> FakeAgentServer:
        fake: FakeAgentServer = self.server.fake  # type: ignore[attr-defined]
        return fake

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _sse_start(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _sse(self, data: Any, event: str | None = None) -> None:
        head = f"event: {event}\n" if event else ""
        payload = f"{head}data: {json.dumps(data)}\n\n".encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
        self.wfile.flush()

    def _sse_end(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _cut(self) -> None:
        """Drop the connection mid-stream (no terminating chunk)."""
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True
