"""The UI's guard, an ASGI middleware in front of every request.

- The ``Host`` header must be the address the server is bound to (a DNS
  rebinding page reaches the socket with its own host name: refused).
- Every request needs the token: ``Authorization: Bearer TOKEN``, or the
  session cookie that opening ``/?token=TOKEN`` sets (HttpOnly,
  SameSite=Strict; the token leaves the address bar by a redirect).
- A request carrying an ``Origin`` header from another origin is refused.
  A state-changing request (anything but GET/HEAD) made with the cookie also
  needs a same-origin ``Origin`` or ``Referer`` and the CSRF token (header
  ``X-CSRF-Token``, given to the pages in a meta tag). With the bearer token
  no CSRF token is needed: a page of another site cannot attach that header.
- Request bodies need a ``Content-Length`` of at most :data:`MAX_BODY` bytes.
- Responses forbid scripts, styles and frames from anywhere but the UI itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlencode

__all__ = ["MAX_BODY", "Guard", "derive"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 8 << 20
_SAFE = frozenset({"GET", "HEAD"})
_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                                 b"data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                                 b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


def derive(token: str, purpose: str) -> str:
    """A value derived from the token (session cookie, CSRF token), not the token itself."""
    return hmac.new(token.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Guard:
    def __init__(self, app: ASGIApp, *, token: str, host: str, port: int) -> None:
        self.app = app
        self.token = token
        self.authority = host_port(host, port)
        self.origin = f"http://{self.authority}"
        self.cookie = f"tacroute_ui_{port}"
        self.session = derive(token, "session")
        self.csrf = derive(token, "csrf")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:
            headers.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
        method = scope["method"]
        problem, status = self._check(scope, headers, method)
        if problem == "login":
            await self._login(scope, send)
            return
        if problem:
            await _plain(send, status, problem, scope["path"].startswith("/api/"))
            return
        scope.setdefault("state", {})["csrf"] = self.csrf

        async def secured(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, secured)

    def _check(self, scope: Scope, headers: dict[str, str], method: str) -> tuple[str, int]:
        if headers.get("host", "").lower() != self.authority.lower():
            return "unexpected Host header: this server only answers to its own address", 403
        origin = headers.get("origin")
        if origin is not None and origin != self.origin:
            return f"cross-origin request refused (Origin {origin[:100]!r})", 403
        if method in _SAFE and _query_token(scope) is not None:
            return ("login", 0) if hmac.compare_digest(_query_token(scope) or "", self.token) else (
                "wrong token: open the URL tacroute ui printed", 401)
        bearer = headers.get("authorization", "")
        by_header = bearer[:7].lower() == "bearer " and hmac.compare_digest(bearer[7:].strip(), self.token)
        by_cookie = hmac.compare_digest(_cookie(headers.get("cookie", ""), self.cookie) or "", self.session)
        if not (by_header or by_cookie):
            return ("authentication required: open the URL tacroute ui printed, or send "
                    "Authorization: Bearer TOKEN"), 401
        if method not in _SAFE:
            if not by_header:
                referer = headers.get("referer", "")
                if origin is None and not referer.startswith(self.origin + "/"):
                    return "a state-changing request needs a same-origin Origin or Referer header", 403
                if not hmac.compare_digest(headers.get("x-csrf-token", ""), self.csrf):
                    return "missing or wrong CSRF token (reload the page)", 403
            length = headers.get("content-length")
            if length is None and headers.get("transfer-encoding"):
                return "a request body needs a Content-Length", 411
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
                return f"request body too large (at most {MAX_BODY >> 20} MiB)", 413
        return "", 0

    async def _login(self, scope: Scope, send: Send) -> None:
        """``?token=...`` right: set the session cookie and redirect to the same page without it."""
        query = {k: v for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()
                 if k != "token"}
        location = scope["path"] + (f"?{urlencode(query, doseq=True)}" if query else "")
        cookie = f"{self.cookie}={self.session}; Path=/; HttpOnly; SameSite=Strict"
        await send({"type": "http.response.start", "status": 303, "headers": [
            (b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode()),
            (b"content-length", b"0"), *_HEADERS]})
        await send({"type": "http.response.body", "body": b""})


def _query_token(scope: Scope) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0] if values else None


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        k, _, v = part.strip().partition("=")
        if k == name:
            return v
    return None


async def _plain(send: Send, status: int, message: str, as_json: bool) -> None:
    body = (json.dumps({"error": message}) if as_json else message + "\n").encode()
    ctype = b"application/json" if as_json else b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", ctype), (b"content-length", str(len(body)).encode()), *_HEADERS]})
    await send({"type": "http.response.body", "body": body})
