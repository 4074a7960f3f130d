"""Unit tests of the small pure pieces: error helpers, option checks, usage mapping, the parser."""

from __future__ import annotations

import json

import pytest

from tacroute import ErrorClass
from tacroute_openrouter.claude_stream_writer import ChatUsage
from tacroute_openrouter.errors import (
    MAX_RETRY_AFTER_S,
    error_message,
    midstream_status,
    retry_after_seconds,
)
from tacroute_openrouter.options import check_options
from tacroute_openrouter.parser import OpenRouterStreamJsonParser
from tacroute_openrouter.settings import Settings


def test_retry_after_forms() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("1.5") == 1.5
    assert retry_after_seconds("-3") == 0.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == pytest.approx(10.0)


def test_retry_after_hostile_values_are_bounded() -> None:
    assert retry_after_seconds("inf") == MAX_RETRY_AFTER_S
    assert retry_after_seconds("1e12") == MAX_RETRY_AFTER_S
    assert retry_after_seconds("-inf") == 0.0
    assert retry_after_seconds("nan") is None
    assert retry_after_seconds("Fri, 31 Dec 9999 23:59:59 GMT", now=0.0) == MAX_RETRY_AFTER_S


def test_error_message_shapes() -> None:
    assert error_message(b'{"error":{"code":402,"message":"Insufficient credits"}}', 402) == \
        "HTTP 402: Insufficient credits"
    availability = {"error": {"message": "acme/fake-1.0 is not a valid model ID", "http_status": 400}}
    assert error_message(json.dumps(availability).encode(), 400) == \
        "HTTP 400: acme/fake-1.0 is not a valid model ID"
    assert error_message(b"<html>Bad gateway</html>", 502) == "HTTP 502: <html>Bad gateway</html>"
    assert error_message(b"", 503) == "HTTP 503"


def test_midstream_status_accepts_numbers_strings_and_types() -> None:
    assert midstream_status({"code": 429}) == 429
    assert midstream_status({"code": "server_error"}) == 502
    assert midstream_status({"code": "x", "metadata": {"error_type": "authentication"}}) == 401
    assert midstream_status({"http_status": 404}) == 404
    assert midstream_status({"code": True}) == 502


def test_error_message_is_not_cut_before_the_caller_masks_it() -> None:
    body = b"x" * 290 + b" Bearer sk-abcdef0123456789"
    assert error_message(body, 400).endswith("sk-abcdef0123456789")


def test_check_options() -> None:
    assert check_options({"models": ["a/b"], "provider": {"order": ["x"]}, "max_retries": 0}) == []
    problems = check_options({"models": ["a", 3], "provider": {"nope": 1}, "max_retries": -1,
                              "retry_budget": 0, "max_tokens": True, "colour": "red"})
    text = " | ".join(problems)
    for word in ("models", "nope", "max_retries", "retry_budget", "max_tokens", "colour"):
        assert word in text


def test_chat_usage_splits_cached_tokens() -> None:
    usage = ChatUsage.from_openai({"prompt_tokens": 100, "completion_tokens": 7, "cost": 0.25,
                                   "prompt_tokens_details": {"cached_tokens": 30, "cache_write_tokens": 20}})
    assert (usage.input_tokens, usage.cache_read_tokens, usage.cache_creation_tokens) == (50, 30, 20)
    assert usage.output_tokens == 7 and usage.cost == 0.25
    assert ChatUsage.from_openai({"prompt_tokens": "x", "cost": "1"}).cost is None


def test_settings_body_leaves_out_unset_fields() -> None:
    body = Settings(model="m").body("p")
    assert set(body) == {"model", "messages", "stream", "stream_options"}
    assert Settings(model="m").headers(None) == {"Accept": "text/event-stream", "Cache-Control": "no-store"}


def _result(**fields: object) -> str:
    base = {"type": "result", "subtype": "success", "is_error": True, "api_error_status": None,
            "result": "boom", "total_cost_usd": None, "usage": {}, "modelUsage": {}}
    base.update(fields)
    return json.dumps(base)


def test_parser_classes_for_the_wrappers_exit_codes() -> None:
    p = OpenRouterStreamJsonParser()
    p.feed(_result(subtype="error_during_execution", terminal_reason="timeout"))
    assert p.finish(124, "").error_class is ErrorClass.TIMEOUT
    p = OpenRouterStreamJsonParser()
    p.feed(_result(subtype="error_during_execution"))
    assert p.finish(1, "").error_class is ErrorClass.OVERLOADED
    p = OpenRouterStreamJsonParser()
    p.feed(_result(api_error_status=408))
    assert p.finish(1, "").error_class is ErrorClass.TIMEOUT
    p = OpenRouterStreamJsonParser()
    p.feed(_result(api_error_status=429, retry_after_ms=30000))
    outcome = p.finish(1, "")
    assert outcome.error_class is ErrorClass.RATE_LIMIT and outcome.retry_after_s == 30.0
    p = OpenRouterStreamJsonParser()
    assert p.finish(1, "Traceback ...").error_class is ErrorClass.CRASH  # no result line at all


def test_parser_lets_the_wrapper_retry_a_408() -> None:
    p = OpenRouterStreamJsonParser()
    line = json.dumps({"type": "system", "subtype": "api_retry", "attempt": 1, "max_retries": 3,
                       "retry_delay_ms": 500, "error_status": 408, "error": "unknown"})
    assert p.feed(line) is None
    stop = json.dumps({"type": "system", "subtype": "api_retry", "attempt": 1, "max_retries": 3,
                       "retry_delay_ms": 0, "error_status": 401, "error": "authentication_failed"})
    signal = p.feed(stop)
    assert signal is not None and signal.error_class is ErrorClass.AUTH
