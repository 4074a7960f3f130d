"""Typed events of a run, for ``run_task(on_event=...)``: what a coordinator watches live.

In order, for every run that starts an attempt:

- :class:`AttemptStarted` before each attempt's process starts;
- :class:`Progress` while it runs: a ``text`` or ``tool_use`` item of the
  Claude-compatible stream the worker prints (a Claude CLI, ``tacroute-claude``,
  any worker writing stream-json lines), parsed from each raw output line;
- :class:`AttemptFinished` when the attempt ended (its :class:`AttemptRecord`);
- :class:`RunFinished` last, with the :class:`RunResult`.

The events come from the thread that runs the task (an asyncio caller posts
them to its loop with ``loop.call_soon_threadsafe``). An exception raised by
the callback is reported once on stderr and otherwise ignored: a watcher
cannot break the run it watches. Progress text has the run's secrets masked,
as the result's texts do (:mod:`tacroute.redact`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from tacroute.tuples import NamedTuple
from tacroute.types.run import AttemptRecord, RunResult

__all__ = ["AttemptFinished", "AttemptStarted", "Event", "EventSink", "Progress", "RunFinished",
           "stream_items"]


class AttemptStarted(NamedTuple):
    """Attempt ``attempt`` (1-based) of run ``run_id`` is about to start."""

    run_id: str
    attempt: int
    provider: str
    model: str


class Progress(NamedTuple):
    """One item the running attempt's worker printed: ``kind`` is ``"text"`` (``text``
    is what the model wrote) or ``"tool_use"`` (``tool`` the tool's name, ``text``
    its input as compact JSON)."""

    run_id: str
    attempt: int
    kind: str
    text: str
    tool: str | None = None


class AttemptFinished(NamedTuple):
    """Attempt ``record.attempt`` ended (succeeded, failed or was cancelled)."""

    run_id: str
    record: AttemptRecord


class RunFinished(NamedTuple):
    """The run ended; ``result`` is what ``run_task`` returns."""

    run_id: str
    result: RunResult


Event = AttemptStarted | Progress | AttemptFinished | RunFinished

#: Longest text a :class:`Progress` event carries (the raw output file has all of it).
TEXT_LIMIT = 4000


def stream_items(line: str) -> list[tuple[str, str, str | None]]:
    """``(kind, text, tool)`` of each text and tool-use item of one Claude stream-json line."""
    text = line.strip()
    if not text.startswith("{") or '"assistant"' not in text:
        return []
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError):
        return []
    if not isinstance(msg, dict) or msg.get("type") != "assistant":
        return []
    message = msg.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    items: list[tuple[str, str, str | None]] = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            items.append(("text", block["text"][:TEXT_LIMIT], None))
        elif block.get("type") == "tool_use":
            name = block.get("name")
            try:
                args = json.dumps(block.get("input"), ensure_ascii=False, separators=(",", ":"))
            except (TypeError, ValueError, RecursionError):
                args = ""
            items.append(("tool_use", args[:TEXT_LIMIT], name if isinstance(name, str) else None))
    return items


class EventSink:
    """Delivers one run's events to ``on_event`` (None: nothing to do)."""

    def __init__(self, on_event: Callable[[Any], None] | None, run_id: str,
                 on_line: Callable[[int, str], None] | None) -> None:
        self.on_event = on_event
        self.run_id = run_id
        self._on_line = on_line
        self._failed = False
        #: Masks the run's secrets in progress text (set by the runner once it has the redactor).
        self.redact: Callable[[str], str] = str

    def emit(self, event: Event) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception as exc:  # noqa: BLE001 - a watcher's bug must not break the run
            if not self._failed:
                self._failed = True
                print(f"tacroute: warning: the on_event callback raised {type(exc).__name__}: "
                      f"{str(exc)[:200]}; its later errors are ignored", file=sys.stderr)

    def line_hook(self) -> Callable[[int, str], None] | None:
        """The ``on_line`` the attempts get: the caller's, plus :class:`Progress` events."""
        if self.on_event is None:
            return self._on_line
        caller = self._on_line

        def on_line(number: int, line: str) -> None:
            if caller is not None:
                caller(number, line)
            for kind, text, tool in stream_items(line):
                self.emit(Progress(self.run_id, number, kind, self.redact(text), tool))

        return on_line
