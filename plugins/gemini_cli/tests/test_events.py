"""The gemini-stream-json parser over event lines recorded from the real Gemini CLI 0.61.0."""

from __future__ import annotations

import json

from tacroute import ErrorClass, Usage
from tacroute_gemini_cli.events import GeminiStreamJsonParser, classify_error

INIT = ('{"type":"init","timestamp":"2026-11-27T14:20:46.008Z","session_id":'
        '"da4375a5-9f95-4284-8adf-8caa7cb365df","model":"gemini-2.5-pro"}')
USER = '{"type":"message","timestamp":"2026-11-27T14:20:46.009Z","role":"user","content":"Say hello"}'
OK = ('{"type":"result","timestamp":"2026-11-27T14:20:46.074Z","status":"success","stats":{"total_tokens":132,'
      '"input_tokens":120,"output_tokens":7,"cached":30,"input":90,"duration_ms":66,"tool_calls":0,'
      '"models":{"gemini-2.5-pro":{"total_tokens":132,"input_tokens":120,"output_tokens":7,"cached":30,"input":90}}}}')


def delta(text: str) -> str:
    return json.dumps({"type": "message", "role": "assistant", "content": text, "delta": True})


def error_result(message: str) -> str:
    return json.dumps({"type": "result", "status": "error", "error": {"type": "unknown", "message": message},
                       "stats": {"total_tokens": 0, "input_tokens": 0, "output_tokens": 0, "cached": 0}})


def api_error(code: int, status: str, details: list[dict[str, object]]) -> str:
    body = {"error": {"code": code, "message": "scripted", "status": status, "details": details}}
    return f"[API Error: {json.dumps(body)}]"


def test_success_joins_deltas_and_counts_thinking_as_output() -> None:
    p = GeminiStreamJsonParser()
    for line in (INIT, USER, delta("Hello "), delta("there "), delta("friend"), OK):
        assert p.feed(line) is None
    out = p.finish(0, "YOLO mode is enabled.")
    assert out.success and out.result == "Hello there friend"
    assert out.session_id == "da4375a5-9f95-4284-8adf-8caa7cb365df"
    assert out.usage == Usage(90, 12, 30, 0, 5) and out.models == ("gemini-2.5-pro",)


def test_the_answer_is_the_text_after_the_last_tool_call() -> None:
    p = GeminiStreamJsonParser()
    tool = json.dumps({"type": "tool_use", "tool_name": "run_shell_command", "tool_id": "t1",
                       "parameters": {"command": "echo hi"}})
    for line in (INIT, delta("Let me run it."), tool, '{"type":"tool_result","tool_id":"t1","status":"success"}',
                 delta("done"), OK):
        p.feed(line)
    assert p.finish(0, "").result == "done"


def test_invalid_key_is_auth_though_its_status_is_400() -> None:
    p = GeminiStreamJsonParser()
    msg = api_error(400, "INVALID_ARGUMENT", [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                               "reason": "API_KEY_INVALID", "domain": "googleapis.com"}])
    for line in (INIT, USER, error_result(msg)):
        p.feed(line)
    out = p.finish(144, "Error when talking to Gemini API")
    assert not out.success and out.error_class is ErrorClass.AUTH and out.api_error_status == 400


def test_rate_limit_carries_the_retry_delay() -> None:
    msg = api_error(429, "RESOURCE_EXHAUSTED", [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                                 "retryDelay": "7s"}])
    assert classify_error(msg) == (ErrorClass.RATE_LIMIT, 429, 7.0)
    assert classify_error(api_error(500, "INTERNAL", []))[:2] == (ErrorClass.OVERLOADED, 500)
    assert classify_error(api_error(404, "NOT_FOUND", []))[0] is ErrorClass.MODEL_NOT_FOUND
    assert classify_error("[API Error: terminated]")[0] is ErrorClass.OVERLOADED


def test_success_needs_the_result_not_the_exit_code() -> None:
    p = GeminiStreamJsonParser()
    for line in (INIT, delta("partial")):
        p.feed(line)
    out = p.finish(0, "")
    assert not out.success and out.error_class is ErrorClass.CRASH and out.result == "partial"


def test_exit_41_without_api_key_settings_is_auth() -> None:
    out = GeminiStreamJsonParser().finish(41, "Invalid auth method selected.")
    assert out.error_class is ErrorClass.AUTH


def test_the_clis_own_429_wording_is_a_rate_limit_with_its_delay() -> None:
    # What the real CLI 0.61.0 prints for a 429 with a RetryInfo of 3 s.
    msg = ("[API Error: Resource has been exhausted\nSuggested retry after 3s.]\nPlease wait and try again "
           "later. To increase your limits, request a quota increase through AI Studio, or switch to "
           "another /auth method")
    assert classify_error(msg) == (ErrorClass.RATE_LIMIT, 429, 3.0)
