"""The wrapper's failures against the loopback fake OpenRouter: retries, statuses, timeouts, drops."""

from __future__ import annotations

import socket

import pytest

from testkit.openrouter_fixtures import TEST_KEY
from testkit.openrouter_server import (
    FakeOpenRouter,
    drop_reply,
    error_reply,
    midstream_error_reply,
    stall_reply,
    stream_reply,
)


def test_midstream_error_chunk_with_string_code(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(midstream_error_reply(["partial ", "answer"]))
    run = run_wrapper()
    assert run.code == 1
    # The text that arrived before the error is kept in an assistant line.
    (assistant,) = run.of_type("assistant")
    assert assistant["message"]["content"][0]["text"] == "partial answer"
    result = run.result
    assert result["is_error"] is True
    assert result["api_error_status"] == 502
    assert "Provider disconnected unexpectedly" in result["result"]
    assert result["stop_reason"] == "error"
    assert len(openrouter_server.chat_requests()) == 1  # never retried after text arrived


def test_midstream_error_chunk_with_numeric_code(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(midstream_error_reply(["x"], code=429, message="Rate limit exceeded",
                                                   error_type="rate_limit_exceeded"))
    run = run_wrapper()
    assert run.code == 1
    assert run.result["api_error_status"] == 429


def test_midstream_error_type_maps_to_a_status(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(midstream_error_reply([], code="upstream", error_type="provider_overloaded"))
    assert run_wrapper().result["api_error_status"] == 503


def test_429_with_retry_after_then_success(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(error_reply(429, "Rate limit exceeded", retry_after="0"),
                             error_reply(503, "Service temporarily unavailable", retry_after="0"),
                             stream_reply(["after retry"]))
    run = run_wrapper()
    assert run.code == 0, run.stdout
    assert run.result["result"] == "after retry"
    retries = run.of_type("system", "api_retry")
    seen = [(r["attempt"], r["error_status"], r["retry_delay_ms"]) for r in retries]
    assert seen == [(1, 429, 0), (2, 503, 0)]
    assert len(openrouter_server.chat_requests()) == 3


def test_retries_are_bounded_in_count(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(*[error_reply(502, "Provider returned error", retry_after="0")] * 5)
    run = run_wrapper("--max-retries", "2")
    assert run.code == 1
    assert run.result["api_error_status"] == 502
    assert len(openrouter_server.chat_requests()) == 3


def test_retry_after_past_the_budget_is_not_waited(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(error_reply(429, "Rate limit exceeded", retry_after="3600"))
    run = run_wrapper("--retry-budget", "5")
    assert run.code == 1
    assert run.result["api_error_status"] == 429
    assert "retry budget" in run.result["result"]
    assert run.result["retry_after_ms"] == 3_600_000
    assert len(openrouter_server.chat_requests()) == 1


@pytest.mark.parametrize("header", ["inf", "1e12", "Infinity", "1" * 400])
def test_hostile_retry_after_is_bounded_not_a_crash(openrouter_server: FakeOpenRouter, run_wrapper,
                                                    header: str) -> None:
    # Retry-After: inf crashed the wrapper (int(inf * 1000)); 1e12 parked the model until 33715.
    openrouter_server.script(error_reply(429, "Rate limit exceeded", retry_after=header))
    run = run_wrapper("--retry-budget", "5")
    assert run.code == 1, run.stderr
    assert run.result["api_error_status"] == 429
    assert run.result["retry_after_ms"] == 86_400_000  # a day, the wrapper's bound
    assert "retry budget" in run.result["result"]
    assert len(openrouter_server.chat_requests()) == 1


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 500])
def test_non_retryable_statuses_are_reported_at_once(openrouter_server: FakeOpenRouter, run_wrapper,
                                                     status: int) -> None:
    openrouter_server.script(error_reply(status, f"failure {status}"), stream_reply(["never"]))
    run = run_wrapper()
    assert run.code == 1
    result = run.result
    assert result["is_error"] is True
    assert result["api_error_status"] == status
    assert f"failure {status}" in result["result"]
    assert not run.of_type("assistant")
    assert len(openrouter_server.chat_requests()) == 1


def test_401_from_a_wrong_key(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.valid_key = "sk-the-right-one-00000"
    run = run_wrapper()
    assert run.code == 1
    assert run.result["api_error_status"] == 401
    assert "Missing Authentication header" in run.result["result"]


def test_stall_past_the_timeout(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(stall_reply(60))
    run = run_wrapper("--timeout", "0.5")
    assert run.code == 124
    result = run.result
    assert result["is_error"] is True
    assert result["api_error_status"] is None
    assert result["terminal_reason"] == "timeout"
    assert "timed out" in result["result"]
    assert len(openrouter_server.chat_requests()) == 1  # timeouts are not retried


def test_stall_mid_stream_keeps_the_text(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(stall_reply(60, after_text=["so far"]))
    run = run_wrapper("--timeout", "1.5")
    assert run.code == 124
    assert run.of_type("assistant")[0]["message"]["content"][0]["text"] == "so far"
    assert "mid-stream" in run.result["result"]


def test_comment_keepalives_reset_the_timeout(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    # Twelve keep-alive comments 0.2 s apart before the text: the answer takes over 2 s in all,
    # but no gap comes near the 1.5 s timeout, which counts silence, not the whole answer.
    reply = stream_reply(["alive"], comments=12)
    reply.gap = 0.2
    openrouter_server.script(reply)
    run = run_wrapper("--timeout", "1.5")
    assert run.code == 0, run.stdout
    assert run.result["result"] == "alive"


def test_connection_dropped_mid_stream(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(drop_reply(["half an ", "answer"]))
    run = run_wrapper()
    assert run.code == 1
    assert run.of_type("assistant")[0]["message"]["content"][0]["text"] == "half an answer"
    result = run.result
    assert result["is_error"] is True and result["api_error_status"] is None
    assert "connection lost mid-stream" in result["result"]
    assert len(openrouter_server.chat_requests()) == 1


def test_connection_dropped_before_any_text_is_retried(openrouter_server: FakeOpenRouter,
                                                       run_wrapper) -> None:
    openrouter_server.script(drop_reply([]), stream_reply(["second try"]))
    run = run_wrapper()
    assert run.code == 0, run.stdout
    assert run.result["result"] == "second try"
    assert run.of_type("system", "api_retry")[0]["error_status"] is None


def test_connection_refused(run_wrapper) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = run_wrapper("--base-url", f"http://127.0.0.1:{port}/api/v1", "--max-retries", "1",
                      base_url=False)
    assert run.code == 1
    assert run.result["subtype"] == "error_during_execution"
    assert "connection failed" in run.result["result"]
    assert len(run.of_type("system", "api_retry")) == 1


def test_the_key_never_appears_in_output(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    # A hostile server echoing the Authorization header back in its error message.
    openrouter_server.script(error_reply(400, f"bad header: Bearer {TEST_KEY}"))
    run = run_wrapper()
    assert run.code == 1
    text = run.stdout + run.stderr + run.output_file.read_text(encoding="utf-8")
    assert TEST_KEY not in text
    assert "***" in run.result["result"]
    openrouter_server.script(error_reply(429, f"slow down {TEST_KEY}", retry_after="0"), stream_reply(["ok"]))
    run = run_wrapper()
    assert TEST_KEY not in run.stdout + run.output_file.read_text(encoding="utf-8")


def test_without_a_key_no_authorization_is_sent(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(stream_reply(["local"]))
    run = run_wrapper(key=None)
    assert run.code == 0
    assert "authorization" not in openrouter_server.chat_requests()[0].headers
