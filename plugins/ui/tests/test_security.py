"""The UI's guard: token, origin, CSRF, Host header, escaping, binding; against a real server."""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from tacroute.history import HistoryStore
from tacroute.types import Usage
from tacroute_ui.security import derive
from testkit.history import make_attempt, make_run
from testkit.ui import TOKEN, UI, start_ui, stop

GETS = ["/rules", "/try", "/whatif", "/providers", "/history", "/api/rules", "/api/providers", "/api/stats",
        "/api/budgets", "/api/history", "/static/app.js"]
WRITES = [("POST", "/api/rules"), ("PATCH", "/api/rules/docs-haiku"), ("DELETE", "/api/rules/docs-haiku"),
          ("POST", "/api/rules/docs-haiku/disable"), ("POST", "/api/route"), ("POST", "/api/whatif"),
          ("POST", "/ui/route"), ("POST", "/ui/whatif")]
XSS = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"


@contextlib.contextmanager
def login(ui: UI) -> Iterator[httpx.Client]:
    """A browser-like client: the cookie from the tokenized URL, no Authorization header."""
    with httpx.Client(base_url=ui.base, timeout=60) as c:
        r = c.get(f"/?token={ui.token}")
        assert r.status_code == 303 and "token" not in r.headers["location"]
        assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]
        yield c


def test_every_request_needs_the_token(ui: UI) -> None:
    with httpx.Client(base_url=ui.base, timeout=60) as c:
        for path in GETS:
            assert c.get(path).status_code == 401, path
            assert c.get(path, headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
        for method, path in WRITES:
            assert c.request(method, path, json={}).status_code == 401, path
        assert c.get("/?token=wrong").status_code == 401
        cookie = f"tacroute_ui_{ui.base.rsplit(':', 1)[1]}=forged"
        assert c.get("/rules", headers={"Cookie": cookie}).status_code == 401
    with login(ui) as c:
        for path in GETS:
            assert c.get(path).status_code == 200, path


def test_a_foreign_host_header_is_refused(ui: UI) -> None:
    """DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends Host: evil.example."""
    with ui.client() as c:
        for host in ("evil.example", f"evil.example:{ui.base.rsplit(':', 1)[1]}", "localhost:1"):
            r = c.get("/api/rules", headers={"Host": host})
            assert r.status_code == 403 and "Host" in r.json()["error"]
        assert c.get("/api/rules").status_code == 200


def test_state_changes_need_same_origin_and_the_csrf_token(ui: UI) -> None:
    before = ui.config.read_bytes()
    csrf = derive(TOKEN, "csrf")
    with login(ui) as c:
        assert f'content="{csrf}"' in c.get("/rules").text  # the pages carry it
        url = "/api/rules/docs-haiku/disable"
        assert c.post(url, headers={"Origin": "http://evil.example", "X-CSRF-Token": csrf}).status_code == 403
        assert c.post(url, headers={"X-CSRF-Token": csrf}).status_code == 403  # no Origin nor Referer
        assert c.post(url, headers={"Origin": ui.base}).status_code == 403  # no CSRF token
        assert c.post(url, headers={"Origin": ui.base, "X-CSRF-Token": "0" * 64}).status_code == 403
        assert ui.config.read_bytes() == before
        ok = c.post(url, headers={"Referer": f"{ui.base}/rules", "X-CSRF-Token": csrf})
        assert ok.status_code == 200, ok.text
    with ui.client() as c:  # the bearer token needs no CSRF token, but a foreign Origin is still refused
        assert c.post("/api/rules/docs-haiku/enable", headers={"Origin": "http://evil.example"}).status_code == 403
        assert c.post("/api/rules/docs-haiku/enable").status_code == 200
        r = c.get("/api/rules")
    for name, value in (("content-security-policy", "script-src 'self'"), ("x-frame-options", "DENY")):
        assert value in r.headers[name]


def test_every_value_is_escaped(ui: UI) -> None:
    now = time.time()
    with HistoryStore(ui.history) as store:
        a = make_attempt("xss-run", provider=XSS, model=IMG, success=False, error_class="crash",
                         message=XSS, started_at=now - 60, usage=Usage(10, 10), cost_usd=0.01,
                         task={"priority": XSS, "labels": [IMG]}, rule=XSS)
        store.record_attempt(a)
        store.record_run(make_run([a], rule=XSS))
    with ui.client() as c:
        r = c.post("/api/rules", json={"name": XSS, "priority": 99, "model": IMG, "provider": "claude-cli",
                                       "conditions": {"labels": [XSS, IMG]}})
        assert r.status_code == 201, r.text
        c.post("/api/rules", json={"name": "bad", "priority": 1, "model": IMG, "provider": XSS})
    with login(ui) as c:
        csrf = derive(TOKEN, "csrf")
        pages = [c.get(p).text for p in ("/rules", "/try", "/whatif", "/providers", "/history")]
        head = {"Origin": ui.base, "X-CSRF-Token": csrf}
        pages.append(c.post("/ui/route", json={"task": {"labels": [XSS], "user": IMG, "project": XSS}},
                            headers=head).text)
        pages.append(c.post("/ui/route", json={"task": {"hour": XSS}}, headers=head).text)  # an error
        pages.append(c.post("/ui/whatif", json={"edit": {"op": "update", "name": XSS, "model": IMG},
                                                "source": "tasks", "tasks": json.dumps({"labels": [XSS]})},
                            headers=head).text)
        pages.append(c.post("/ui/whatif", json={"edit": {"op": "add", "name": IMG, "model": XSS,
                                                         "priority": XSS}}, headers=head).text)
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
    joined = "".join(pages)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in joined and "&lt;img src=x" in joined
    assert len(re.findall(r"<script\b", pages[0])) == 1  # only the page's own script tag


def test_the_token_is_not_logged(ui: UI) -> None:
    with login(ui) as c:
        c.get("/rules")
    assert TOKEN not in stop(ui.proc)


def test_a_non_loopback_host_needs_an_explicit_token(ui_config: object, tmp_path: object) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TACROUTE_UI_TOKEN"}
    proc = start_ui(ui_config, "--host", "0.0.0.0", env=env)  # type: ignore[arg-type]
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and out == ""
    assert "not a loopback address" in err and "--token-file" in err and "Traceback" not in err


@pytest.mark.parametrize("token", ["short", "has space in the token 0123456789"])
def test_a_weak_token_file_is_refused(ui_config: object, tmp_path: os.PathLike[str], token: str) -> None:
    path = os.path.join(tmp_path, "token")
    with open(path, "w") as fh:
        fh.write(token)
    proc = start_ui(ui_config, "--token-file", path)  # type: ignore[arg-type]
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and out == "" and "at least 16" in err
