"""The wrapper against the loopback fake OpenRouter: successful streams and what it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testkit.openrouter_fixtures import TEST_KEY
from testkit.openrouter_server import FakeOpenRouter, raw_reply, stream_reply


def test_streamed_answer_becomes_claude_stream_json(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(stream_reply(["Hel", "lo", " world"], prompt_tokens=20, completion_tokens=3,
                                          cost=0.00042, comments=3))
    run = run_wrapper()
    assert run.code == 0, run.stdout + run.stderr
    kinds = [(x["type"], x.get("subtype")) for x in run.lines]
    assert kinds == [("system", "init"), ("assistant", None), ("result", "success")]
    assistant = run.lines[1]["message"]
    assert assistant["content"] == [{"type": "text", "text": "Hello world"}]
    assert assistant["model"] == "openai/gpt-4o-mini"
    assert assistant["stop_reason"] == "end_turn"
    result = run.result
    assert result["is_error"] is False
    assert result["api_error_status"] is None
    assert result["result"] == "Hello world"
    assert result["total_cost_usd"] == pytest.approx(0.00042)
    assert result["usage"] == {"input_tokens": 20, "cache_creation_input_tokens": 0,
                               "cache_read_input_tokens": 0, "output_tokens": 3}
    mu = result["modelUsage"]["openai/gpt-4o-mini"]
    assert (mu["inputTokens"], mu["outputTokens"], mu["costUSD"]) == (20, 3, pytest.approx(0.00042))
    assert isinstance(result["duration_ms"], int)
    assert len({x["session_id"] for x in run.lines}) == 1


def test_output_file_holds_the_same_lines(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(stream_reply(["a", "b"]))
    run = run_wrapper()
    assert run.output_file.read_text(encoding="utf-8") == run.stdout


def test_request_body_and_headers(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(stream_reply(["ok"]))
    options = {"http_referer": "https://example.org/app", "x_title": "tacroute tests",
               "provider": {"order": ["anthropic", "openai"], "allow_fallbacks": False, "sort": "price"},
               "models": ["openai/gpt-4o-mini", "anthropic/claude-3.5-haiku"],
               "extra_body": {"top_p": 0.5}}
    run = run_wrapper("--system", "Be brief.", "--max-tokens", "50", "--temperature", "0.2",
                      prompt="What is 2+2?", env={"TACROUTE_OPENROUTER_OPTIONS": json.dumps(options)})
    assert run.code == 0, run.stderr
    (req,) = openrouter_server.chat_requests()
    assert req.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert req.headers["http-referer"] == "https://example.org/app"
    assert req.headers["x-title"] == "tacroute tests"
    assert req.headers["accept"] == "text/event-stream"
    body = req.body
    assert body["model"] == "openai/gpt-4o-mini"
    assert body["stream"] is True
    assert body["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "What is 2+2?"}]
    assert body["max_tokens"] == 50
    assert body["temperature"] == 0.2
    assert body["provider"] == options["provider"]
    assert body["models"] == options["models"]
    assert body["top_p"] == 0.5


def test_flags_win_over_options_and_key_env_is_configurable(openrouter_server: FakeOpenRouter,
                                                            run_wrapper) -> None:
    openrouter_server.valid_key = "sk-other-key-987654321"
    openrouter_server.script(stream_reply(["ok"]))
    env = {"TACROUTE_OPENROUTER_OPTIONS": json.dumps({"max_tokens": 10, "base_url": "http://127.0.0.1:9"}),
           "TACROUTE_OPENROUTER_KEY_ENV": "MY_SECOND_KEY", "MY_SECOND_KEY": "sk-other-key-987654321"}
    run = run_wrapper("--max-tokens", "77", env=env)
    assert run.code == 0, run.stdout
    assert openrouter_server.chat_requests()[0].body["max_tokens"] == 77


def test_base_url_from_environment(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(stream_reply(["env"]))
    run = run_wrapper(base_url=False, env={"OPENROUTER_BASE_URL": openrouter_server.base_url})
    assert run.code == 0 and run.result["result"] == "env"


def test_usage_without_cost_is_priced_from_the_table(openrouter_server: FakeOpenRouter, run_wrapper,
                                                     pricing_cache: Path) -> None:
    pricing_cache.write_text(json.dumps({"fetched_at": "x", "models": {
        "acme/model-1": {"input": 2.0, "output": 10.0, "cache_read": 0.5, "cache_write": None}}}))
    openrouter_server.script(stream_reply(["x"], model="acme/model-1", prompt_tokens=1_000_100,
                                          completion_tokens=1000, cached=100, cost=None))
    run = run_wrapper(model="acme/model-1")
    result = run.result
    assert result["usage"]["input_tokens"] == 1_000_000
    assert result["usage"]["cache_read_input_tokens"] == 100
    assert result["total_cost_usd"] == pytest.approx(2.0 + 0.01 + 0.00005)


def test_unknown_price_and_no_cost_gives_null_cost(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(stream_reply(["x"], model="acme/unpriced", cost=None))
    run = run_wrapper(model="acme/unpriced")
    assert run.code == 0
    assert run.result["total_cost_usd"] is None
    assert run.result["usage"]["output_tokens"] == 1


def test_usage_in_a_chunk_with_empty_choices(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7, "cost": 0.5}
    pieces = [b'data: {"id":"g","model":"m/x","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n',
              b'data: {"id":"g","model":"m/x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
              b'data: {"id":"g","model":"m/x","choices":[],"usage":' + json.dumps(usage).encode() + b"}\n\n",
              b"data: [DONE]\n\n"]
    openrouter_server.script(raw_reply(pieces))
    run = run_wrapper(model="m/x")
    assert run.result["usage"]["output_tokens"] == 2
    assert run.result["total_cost_usd"] == 0.5


def test_the_model_actually_used_is_reported(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(stream_reply(["fallback"], model="anthropic/claude-3.5-haiku"))
    run = run_wrapper(model="openai/unavailable")
    assert run.lines[1]["message"]["model"] == "anthropic/claude-3.5-haiku"
    assert list(run.result["modelUsage"]) == ["anthropic/claude-3.5-haiku"]


def test_partial_messages_stream_each_delta(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(stream_reply(["one ", "two ", "three"]))
    run = run_wrapper("--include-partial-messages")
    deltas = [x["event"]["delta"]["text"] for x in run.of_type("stream_event")]
    assert deltas == ["one ", "two ", "three"]
    assert run.result["result"] == "one two three"


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_json_and_text_formats(openrouter_server: FakeOpenRouter, run_wrapper, fmt: str) -> None:
    openrouter_server.script(stream_reply(["The answer", " is 4."]))
    run = run_wrapper("--output-format", fmt)
    assert run.code == 0
    if fmt == "json":
        (obj,) = run.lines
        assert obj["type"] == "result" and obj["result"] == "The answer is 4."
    else:
        assert run.stdout == "The answer is 4.\n"
    assert run.output_file.read_text(encoding="utf-8") == run.stdout


def test_non_streaming_json_answer_is_accepted(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    body = {"id": "gen-1", "model": "local/llama", "object": "chat.completion",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "hey"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
    openrouter_server.script(raw_reply([json.dumps(body).encode()], content_type="application/json"))
    run = run_wrapper(model="local/llama")
    assert run.code == 0 and run.result["result"] == "hey"


def test_unicode_text_survives(openrouter_server: FakeOpenRouter, run_wrapper) -> None:
    openrouter_server.script(stream_reply(["известни ", "line\u2028sep ", "😀"]))
    run = run_wrapper()
    assert run.result["result"] == "известни line\u2028sep 😀"


def test_usage_errors_exit_2(run_wrapper, tmp_path: Path) -> None:
    import io

    from tacroute_openrouter.wrapper import run as run_main
    err = io.StringIO()
    assert run_main(["-p", str(tmp_path / "missing.txt"), "--model", "m"], env={}, stdout=io.StringIO(),
                    stderr=err) == 2
    assert "cannot read the prompt file" in err.getvalue()
    bad = run_wrapper(env={"TACROUTE_OPENROUTER_OPTIONS": '{"provider": {"bogus": 1}}'})
    assert bad.code == 2 and "bogus" in bad.stderr and bad.stdout == ""
    assert run_main(["--model", "m"], env={}, stdout=io.StringIO(), stderr=io.StringIO()) == 2
