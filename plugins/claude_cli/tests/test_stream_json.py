"""Unit tests of the claude-stream-json parser on lines built here (shapes as the CLI prints them)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tacroute import ErrorClass, Usage
from tacroute_claude_cli.stream_json import ClaudeStreamJsonParser, classify_status


def line(**fields: Any) -> str:
    return json.dumps(fields)


def init() -> str:
    return line(type="system", subtype="init", session_id="s1", model="claude-sonnet-4-5", cwd="/w",
                tools=["Bash"], some_future_field={"x": 1})


def assistant(msg_id: str, text: str | None = None, usage: dict[str, int] | None = None,
              model: str = "claude-sonnet-4-5") -> str:
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text is not None else [
        {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}]
    return line(type="assistant", session_id="s1", parent_tool_use_id=None,
                message={"id": msg_id, "model": model, "role": "assistant", "content": content,
                         "usage": usage or {"input_tokens": 10, "output_tokens": 2}})


def result(is_error: bool = False, subtype: str = "success", status: int | None = None,
           text: str | None = "done", cost: float = 0.25, model_usage: dict[str, Any] | None = None,
           **extra: Any) -> str:
    fields: dict[str, Any] = {
        "type": "result", "subtype": subtype, "is_error": is_error, "api_error_status": status,
        "duration_ms": 1200, "duration_api_ms": 900, "num_turns": 2, "session_id": "s1",
        "total_cost_usd": cost,
        "usage": {"input_tokens": 100, "output_tokens": 20, "cache_read_input_tokens": 5,
                  "cache_creation_input_tokens": 1},
        "modelUsage": model_usage if model_usage is not None else {
            "claude-sonnet-4-5": {"inputTokens": 100, "outputTokens": 20, "cacheReadInputTokens": 5,
                                  "cacheCreationInputTokens": 1, "costUSD": 0.2},
            "claude-haiku-4-5": {"inputTokens": 40, "outputTokens": 3, "cacheReadInputTokens": 0,
                                 "cacheCreationInputTokens": 0, "costUSD": 0.05},
        },
        **extra,
    }
    if text is not None:
        fields["result"] = text
    return json.dumps(fields)


def api_retry(status: int | None, error: str, attempt: int = 1, delay_ms: float = 600.0) -> str:
    return line(type="system", subtype="api_retry", attempt=attempt, max_retries=10,
                retry_delay_ms=delay_ms, error_status=status, error=error, session_id="s1")


def feed_all(parser: ClaudeStreamJsonParser, lines: list[str]) -> list[Any]:
    return [parser.feed(x) for x in lines]


def test_success_reads_text_cost_and_model_usage_summed_over_models() -> None:
    p = ClaudeStreamJsonParser()
    signals = feed_all(p, [init(), assistant("m1", "hel"), assistant("m1", "hello"), result()])
    assert signals == [None] * 4
    out = p.finish(0, "")
    assert out.success and out.error_class is None
    assert out.result == "done"
    assert out.cost_usd == 0.25
    # modelUsage summed (side request included), not the result's usage, not assistant lines.
    assert out.usage == Usage(140, 23, 5, 1)
    assert set(out.models) == {"claude-sonnet-4-5", "claude-haiku-4-5"}


def test_progress_counts_each_message_id_once() -> None:
    p = ClaudeStreamJsonParser()
    p.feed(assistant("m1", "a", {"input_tokens": 10, "output_tokens": 1}))
    p.feed(assistant("m1", None, {"input_tokens": 10, "output_tokens": 5}))
    p.feed(assistant("m2", "b", {"input_tokens": 30, "output_tokens": 2, "cache_read_input_tokens": 7}))
    assert p.progress() == Usage(40, 7, 7, 0)


def test_is_error_true_with_subtype_success_is_a_failure() -> None:
    p = ClaudeStreamJsonParser()
    feed_all(p, [init(), assistant("x", "API Error: 400 bad", model="<synthetic>"),
                 result(is_error=True, status=400, text="API Error: 400 bad", cost=0, model_usage={})])
    out = p.finish(1, "")
    assert not out.success
    assert out.error_class is ErrorClass.BAD_REQUEST
    assert out.api_error_status == 400
    assert out.message == "API Error: 400 bad"


@pytest.mark.parametrize(("status", "cls"), [
    (400, ErrorClass.BAD_REQUEST), (404, ErrorClass.MODEL_NOT_FOUND), (429, ErrorClass.RATE_LIMIT),
    (529, ErrorClass.OVERLOADED), (500, ErrorClass.OVERLOADED), (503, ErrorClass.OVERLOADED),
    (401, ErrorClass.AUTH), (403, ErrorClass.AUTH), (413, ErrorClass.BAD_REQUEST),
])
def test_api_error_status_classes(status: int, cls: ErrorClass) -> None:
    p = ClaudeStreamJsonParser()
    p.feed(result(is_error=True, status=status, text=f"API Error: {status}", cost=0, model_usage={}))
    out = p.finish(1, "")
    assert (out.success, out.error_class, out.api_error_status) == (False, cls, status)
    assert classify_status(status) is cls


def test_error_subtype_is_a_failure_even_when_is_error_is_false() -> None:
    p = ClaudeStreamJsonParser()
    p.feed(result(is_error=False, subtype="error_during_execution", text=None,
                  errors=["tool crashed"]))
    out = p.finish(0, "")
    assert not out.success
    assert out.error_class is ErrorClass.CRASH
    assert out.message == "tool crashed"


def test_max_turns_result_without_text_uses_errors_and_result_usage_when_model_usage_empty() -> None:
    p = ClaudeStreamJsonParser()
    p.feed(assistant("m1", "partial answer"))
    p.feed(result(is_error=True, subtype="error_max_turns", text=None, model_usage={}, cost=0.1,
                  errors=["Reached maximum number of turns (1)"]))
    out = p.finish(1, "")
    assert not out.success and out.error_class is ErrorClass.CRASH
    assert out.result == "partial answer"
    assert out.usage == Usage(100, 20, 5, 1)
    assert out.cost_usd == 0.1


@pytest.mark.parametrize(("status", "error", "cls"), [
    (401, "authentication_failed", ErrorClass.AUTH),
    (403, "permission_error", ErrorClass.AUTH),
])
def test_non_retryable_api_retry_signals_at_once(status: int, error: str, cls: ErrorClass) -> None:
    p = ClaudeStreamJsonParser()
    assert p.feed(init()) is None
    sig = p.feed(api_retry(status, error))
    assert sig is not None
    assert sig.error_class is cls and sig.api_error_status == status


def test_transient_api_retry_is_left_to_the_program_then_signalled() -> None:
    p = ClaudeStreamJsonParser()
    limit = ClaudeStreamJsonParser.transient_retries
    for n in range(1, limit + 1):
        assert p.feed(api_retry(429, "rate_limit", attempt=n, delay_ms=1000)) is None
    sig = p.feed(api_retry(429, "rate_limit", attempt=limit + 1, delay_ms=2500))
    assert sig is not None and sig.error_class is ErrorClass.RATE_LIMIT
    assert sig.retry_after_s == 2.5


def test_overloaded_and_network_retries_classify_as_overloaded() -> None:
    p = ClaudeStreamJsonParser()
    sigs = feed_all(p, [api_retry(None, "unknown", attempt=n) for n in range(1, 5)])
    last = next(s for s in sigs if s is not None)
    assert last.error_class is ErrorClass.OVERLOADED and last.api_error_status is None


def test_unknown_types_skipped_and_non_json_kept_as_diagnostics() -> None:
    p = ClaudeStreamJsonParser()
    lines = ["", "Warning: something odd", line(type="brand_new_kind", data=[1, 2]),
             line(type="system", subtype="status", status="requesting"), "[1, 2]", result()]
    assert feed_all(p, lines) == [None] * len(lines)
    out = p.finish(0, "")
    assert out.success
    assert out.diagnostics == ("Warning: something odd", "[1, 2]")


def test_no_result_line_is_a_crash_with_the_stderr_tail() -> None:
    p = ClaudeStreamJsonParser()
    p.feed(init())
    out = p.finish(3, "boom: segmentation fault\n")
    assert not out.success and out.error_class is ErrorClass.CRASH
    assert "exited with code 3" in (out.message or "")
    assert "boom: segmentation fault" in (out.message or "")


def test_killed_without_result_says_so() -> None:
    out = ClaudeStreamJsonParser().finish(None, "")
    assert out.error_class is ErrorClass.CRASH
    assert "was killed" in (out.message or "") and "without any output" in (out.message or "")


def test_root_refusal_on_stderr_is_permission() -> None:
    stderr = ("--dangerously-skip-permissions cannot be used with root/sudo privileges for "
              "security reasons\n")
    out = ClaudeStreamJsonParser().finish(1, stderr)
    assert out.error_class is ErrorClass.PERMISSION
    assert "IS_SANDBOX" in (out.message or "")


def test_not_logged_in_result_is_auth() -> None:
    p = ClaudeStreamJsonParser()
    p.feed(result(is_error=True, text="Not logged in · Please run /login", cost=0, model_usage={}))
    assert p.finish(1, "").error_class is ErrorClass.AUTH


def test_rate_limited_result_carries_the_last_retry_delay() -> None:
    p = ClaudeStreamJsonParser()
    p.feed(api_retry(429, "rate_limit", delay_ms=1500))
    p.feed(result(is_error=True, status=429, text="API Error: 429", cost=0, model_usage={}))
    out = p.finish(1, "")
    assert out.error_class is ErrorClass.RATE_LIMIT and out.retry_after_s == 1.5


def test_registered_by_the_plugin_and_named_by_the_provider_type() -> None:
    import tacroute_claude_cli
    from tacroute.plugins import Registry

    reg = Registry.from_plugins([tacroute_claude_cli])
    assert isinstance(reg.output_parsers["claude-stream-json"].create(), ClaudeStreamJsonParser)
    assert reg.providers["claude-cli"].output_parser == "claude-stream-json"


def test_lint_warns_about_skip_permissions_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    import tacroute_claude_cli
    from tacroute.config.model import ProviderConfig

    argv = ("claude", "-p", "--model", "{model}", "--dangerously-skip-permissions")
    bare = ProviderConfig("c", "claude-cli", command_template=argv)
    sandboxed = ProviderConfig("c", "claude-cli", command_template=argv, env={"IS_SANDBOX": "1"})
    provider = tacroute_claude_cli.ClaudeCLIProvider()
    monkeypatch.setattr(tacroute_claude_cli, "_is_root", lambda: True)
    assert any("IS_SANDBOX" in w for w in provider.lint(bare))
    assert provider.lint(sandboxed) == []
    monkeypatch.setattr(tacroute_claude_cli, "_is_root", lambda: False)
    assert provider.lint(bare) == []
