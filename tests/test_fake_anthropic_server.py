"""The fake Anthropic API server itself, over real HTTP on 127.0.0.1 (urllib, no CLI)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from testkit.anthropic_server import FakeAnthropicServer, HttpError, Text, ToolUse


def post(server: FakeAnthropicServer, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(server.base_url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", "x-api-key": "k"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def sse_events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in raw.decode().strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_head_count_tokens_and_query_string_ignored(anthropic_server: FakeAnthropicServer) -> None:
    req = urllib.request.Request(anthropic_server.base_url + "/", method="HEAD")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
    status, _, body = post(anthropic_server, "/v1/messages/count_tokens?beta=true", {"model": "m"})
    assert status == 200 and json.loads(body) == {"input_tokens": 42}


def test_streamed_text_events_in_order(anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(Text("two words", input_tokens=9, output_tokens=4))
    status, headers, raw = post(anthropic_server, "/v1/messages?beta=true",
                                {"model": "any-model-at-all", "stream": True, "tools": [{"name": "Bash"}]})
    assert status == 200 and headers["Content-Type"] == "text/event-stream"
    events = sse_events(raw)
    assert [e for e, _ in events] == ["message_start", "content_block_start", "ping", "content_block_delta",
                                      "content_block_delta", "content_block_stop", "message_delta",
                                      "message_stop"]
    assert events[0][1]["message"]["model"] == "any-model-at-all"
    assert "".join(d["delta"]["text"] for e, d in events if e == "content_block_delta") == "two words"
    assert events[-2][1]["usage"] == {"output_tokens": 4}
    assert anthropic_server.reported_usage()["input_tokens"] == 9


def test_tool_use_stream_and_non_streaming_form(anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(ToolUse("ls -l"))
    _, _, raw = post(anthropic_server, "/v1/messages", {"model": "m", "stream": True, "tools": [{}]})
    events = sse_events(raw)
    partial = "".join(d["delta"]["partial_json"] for e, d in events if e == "content_block_delta")
    assert json.loads(partial)["command"] == "ls -l"
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    _, _, body = post(anthropic_server, "/v1/messages", {"model": "m", "tools": [{}]})
    message = json.loads(body)
    assert message["content"][0]["input"]["command"] == "ls -l" and message["stop_reason"] == "tool_use"


@pytest.mark.parametrize(("status", "etype"), [(400, "invalid_request_error"), (401, "authentication_error"),
                                                (529, "overloaded_error")])
def test_scripted_http_errors(anthropic_server: FakeAnthropicServer, status: int, etype: str) -> None:
    anthropic_server.script(HttpError(status))
    code, _, body = post(anthropic_server, "/v1/messages", {"model": "m", "stream": True, "tools": [{}]})
    assert code == status and json.loads(body)["error"]["type"] == etype


def test_retry_after_header_side_requests_and_last_reply_repeats(anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(HttpError(429, retry_after=3), Text("then fine"))
    code, headers, _ = post(anthropic_server, "/v1/messages", {"model": "m", "stream": True, "tools": [{}]})
    assert code == 429 and headers["retry-after"] == "3"
    # A side request (no tools) does not consume the script.
    code, _, raw = post(anthropic_server, "/v1/messages", {"model": "haiku", "stream": True})
    assert code == 200 and sse_events(raw)[3][1]["delta"]["text"] == "Session "
    for _ in range(2):
        code, _, _ = post(anthropic_server, "/v1/messages", {"model": "m", "stream": True, "tools": [{}]})
        assert code == 200
    assert [r.reply for r in anthropic_server.message_requests()] == ["HttpError(429)", "Text", "Text", "Text"]
