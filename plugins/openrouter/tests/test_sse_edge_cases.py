"""SSE edge cases that matter to the wrapper, byte chunk by byte chunk.

Chunk boundaries are exact here, so these run through an httpx MockTransport
(a unit-level stand-in for the network); the OpenRouter-shaped cases also run
through the real loopback server. The decoding itself is httpx-sse's; these
tests pin what the wrapper makes of it: comments never reach JSON decoding,
``[DONE]`` ends the stream, empty and unknown events are skipped, and text
survives split CRLFs, split UTF-8 sequences and U+2028.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from testkit.openrouter_server import FakeOpenRouter, raw_reply


def _data(content: str, finish: str | None = None) -> str:
    return json.dumps({"id": "gen-1", "model": "m/x", "object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]})


def _transport(chunks: list[bytes]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        def body() -> Iterator[bytes]:
            yield from chunks
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())
    return httpx.MockTransport(handler)


STOP = ("data: " + _data("", "stop") + "\n\n").encode()
DONE = b"data: [DONE]\n\n"

CASES: dict[str, tuple[list[bytes], str]] = {
    "comment_then_data_then_done": (
        [b": OPENROUTER PROCESSING\n\n", ("data: " + _data("hi") + "\n\n").encode(), STOP, DONE], "hi"),
    "comment_without_blank_line_between_events": (
        [b": OPENROUTER PROCESSING\n", ("data: " + _data("a") + "\n\n").encode(), STOP, DONE], "a"),
    "crlf_split_across_chunks": (
        [("data: " + _data("line1") + "\r").encode(), b"\n\r\n", STOP, DONE], "line1"),
    "cr_only_line_endings": (
        [("data: " + _data("cr") + "\r\r").encode(), STOP, DONE], "cr"),
    "mixed_line_endings": (
        [("data: " + _data("1") + "\r\n\r\n").encode(), ("data: " + _data("2") + "\n\n").encode(),
         ("data: " + _data("3") + "\r\r").encode(), STOP, DONE], "123"),
    "multibyte_utf8_split_inside_code_points": (
        [*(bytes([b]) for b in ("data: " + _data("известни") + "\n\n").encode("utf-8")), STOP, DONE],
        "известни"),
    "u2028_is_not_a_newline": (
        [("data: " + json.dumps({"choices": [{"delta": {"content": "Hello\u2028World"}}]},
                                ensure_ascii=False) + "\n\n").encode(), STOP, DONE], "Hello\u2028World"),
    "json_escaped_double_newline_is_not_an_event_break": (
        [("data: " + _data("my long\n\ncontent") + "\n\n").encode(), STOP, DONE], "my long\n\ncontent"),
    "single_byte_chunks": (
        [bytes([b]) for b in (("data: " + _data("tiny") + "\n\n").encode() + STOP + DONE)], "tiny"),
    "event_without_data_and_unknown_fields_are_skipped": (
        [b"event: ping\n\n", b"retry: 1000\n\n", b"something: ignore\n\n", b"id: 7\n\n",
         ("data: " + _data("ok") + "\n\n").encode(), STOP, DONE], "ok"),
    "json_split_over_several_data_lines": (
        [b'data: {"choices": [{"delta":\ndata: {"content": "joined"}}]}\n\n', STOP, DONE], "joined"),
    "no_space_after_colon": (
        [("data:" + _data("tight") + "\n\n").encode(), STOP, DONE], "tight"),
    "final_done_without_blank_line_after_a_finish": (
        [("data: " + _data("end") + "\n\n").encode(), STOP, b"data: [DONE]"], "end"),
    "non_json_data_is_skipped": (
        [b"data: not json at all\n\n", ("data: " + _data("fine") + "\n\n").encode(), STOP, DONE], "fine"),
    "usage_after_finish_with_non_empty_choices": (
        [("data: " + _data("u") + "\n\n").encode(), STOP,
         ("data: " + json.dumps({"choices": [{"delta": {"content": ""}, "finish_reason": None}],
                                 "usage": {"prompt_tokens": 4, "completion_tokens": 9}}) + "\n\n").encode(),
         DONE], "u"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_edge_case_through_exact_chunks(run_wrapper, name: str) -> None:
    chunks, text = CASES[name]
    run = run_wrapper(model="m/x", transport=_transport(chunks))
    assert run.code == 0, run.stdout
    assert run.result["result"] == text
    if name == "usage_after_finish_with_non_empty_choices":
        assert run.result["usage"]["output_tokens"] == 9


@pytest.mark.parametrize("name", ["comment_then_data_then_done", "crlf_split_across_chunks",
                                  "multibyte_utf8_split_inside_code_points", "u2028_is_not_a_newline",
                                  "event_without_data_and_unknown_fields_are_skipped"])
def test_edge_case_through_the_loopback_server(openrouter_server: FakeOpenRouter, run_wrapper,
                                               name: str) -> None:
    chunks, text = CASES[name]
    openrouter_server.script(raw_reply(chunks))
    run = run_wrapper(model="m/x")
    assert run.code == 0, run.stdout
    assert run.result["result"] == text


def test_stream_ending_without_done_or_finish_is_an_error(run_wrapper) -> None:
    chunks = [("data: " + _data("cut") + "\n\n").encode()]
    run = run_wrapper(model="m/x", transport=_transport(chunks))
    assert run.code == 1
    assert "without [DONE]" in run.result["result"]
