"""The codex-json parser over event lines recorded from the real Codex CLI 0.169.0."""

from __future__ import annotations

import json

from tacroute import ErrorClass, Usage
from tacroute_codex_cli.events import CodexJsonParser, classify_message

THREAD = '{"type":"thread.started","thread_id":"01a21d60-c57c-7380-89cd-308f61746ebc"}'
META = ('{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for '
        '`gpt-5-codex` not found. Defaulting to fallback metadata; this can degrade performance and cause issues."}}')
TURN = '{"type":"turn.started"}'
DONE = ('{"type":"turn.completed","usage":{"input_tokens":120,"cached_input_tokens":30,'
        '"cache_write_input_tokens":0,"output_tokens":7,"reasoning_output_tokens":5}}')


def msg(text: str) -> str:
    return json.dumps({"type": "item.completed", "item": {"id": "item_1", "type": "agent_message", "text": text}})


def retry(n: int, cause: str) -> str:
    return json.dumps({"type": "error", "message": f"Reconnecting... {n}/5 ({cause})"})


def test_success_text_session_and_usage_split_into_uncached_and_cached() -> None:
    p = CodexJsonParser()
    for line in (THREAD, META, TURN, msg("first"), msg("Hello there friend"), DONE):
        assert p.feed(line) is None
    out = p.finish(0, "WARNING: proceeding")
    assert out.success and out.result == "Hello there friend"
    assert out.session_id == "01a21d60-c57c-7380-89cd-308f61746ebc"
    assert out.usage == Usage(90, 7, 30, 0, 5)
    assert out.diagnostics and "Model metadata" in out.diagnostics[0]  # a warning, not a failure


def test_the_first_401_reconnect_stops_the_run_as_auth() -> None:
    p = CodexJsonParser()
    for line in (THREAD, META, TURN):
        p.feed(line)
    sig = p.feed(retry(1, "unexpected status 401 Unauthorized: Incorrect API key provided, url: "
                          "http://127.0.0.1:1/v1/responses"))
    assert sig is not None and sig.error_class is ErrorClass.AUTH and sig.api_error_status == 401
    assert "first retry" in sig.message


def test_transient_reconnects_are_left_to_the_cli_a_few_times() -> None:
    p = CodexJsonParser()
    cause = "stream disconnected before completion: Transport error: network error"
    assert p.feed(retry(1, cause)) is None
    assert p.feed(retry(2, cause)) is None
    sig = p.feed(retry(3, cause))
    assert sig is not None and sig.error_class is ErrorClass.OVERLOADED
    sig429 = CodexJsonParser()
    for n in (1, 2):
        assert sig429.feed(retry(n, "exceeded retry limit, last status: 429 Too Many Requests")) is None
    last = sig429.feed(retry(3, "exceeded retry limit, last status: 429 Too Many Requests"))
    assert last is not None and last.error_class is ErrorClass.RATE_LIMIT and last.api_error_status == 429


def test_turn_failed_is_a_failure_even_with_exit_code_zero() -> None:
    p = CodexJsonParser()
    for line in (THREAD, TURN, json.dumps({"type": "turn.failed", "error": {
            "message": "unexpected status 400 Bad Request: The model `nope` does not exist"}})):
        p.feed(line)
    out = p.finish(0, "")
    assert not out.success and out.error_class is ErrorClass.MODEL_NOT_FOUND
    assert out.api_error_status == 400 and out.session_id is not None


def test_no_turn_result_is_a_crash_with_stderr() -> None:
    p = CodexJsonParser()
    p.feed("not json")
    out = p.finish(101, "thread 'main' panicked")
    assert not out.success and out.error_class is ErrorClass.CRASH
    assert "code 101" in out.message and "panicked" in out.message and out.diagnostics == ("not json",)


def test_classify_message() -> None:
    assert classify_message("We\u2019re currently experiencing high demand")[0] is ErrorClass.OVERLOADED
    assert classify_message("unexpected status 403 Forbidden")[0] is ErrorClass.AUTH
    assert classify_message("You've hit your usage limit")[0] is ErrorClass.RATE_LIMIT
    assert classify_message("unexpected status 500 Internal Server Error") == (ErrorClass.OVERLOADED, 500)


def test_hostile_lines_are_diagnostics_not_crashes() -> None:
    p = CodexJsonParser()
    for line in ("[1, 2]", "[" * 100_000, '{"type":"turn.completed","usage":{"input_tokens":-5,'
                 '"output_tokens":true,"cached_input_tokens":"x"}}'):
        assert p.feed(line) is None
    out = p.finish(0, "")
    assert out.success and out.usage == Usage()
