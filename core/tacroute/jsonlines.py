"""The reading half of an output parser for programs that print one JSON object a line.

The Claude CLI's stream-json, Codex's ``exec --json`` and Gemini's
stream-json all do; their parsers subclass :class:`JsonEventParser` and only
say what each event means.
"""

from __future__ import annotations

import json
from typing import Any

from tacroute.types.run import ParserSignal

__all__ = ["JsonEventParser"]


class JsonEventParser:
    """The reading half of an agent CLI's output parser: one JSON object a line.

    :meth:`feed` skips blank lines, counts the others, keeps a bounded list of
    lines that are not a JSON object as diagnostics, and hands every object
    to :meth:`event`, which a subclass implements (returning a
    :class:`ParserSignal` stops the program at once).
    """

    #: Lines kept as diagnostics (each cut to 500 characters).
    max_diagnostics = 20

    def __init__(self) -> None:
        self._diagnostics: list[str] = []
        self._lines = 0

    def feed(self, line: str) -> ParserSignal | None:
        text = line.strip()
        if not text:
            return None
        self._lines += 1
        try:
            event = json.loads(text)
        except (ValueError, RecursionError):
            event = None
        if not isinstance(event, dict):
            self._diagnose(text)
            return None
        return self.event(event)

    def _diagnose(self, text: str) -> None:
        """Keep ``text`` (cut) among the attempt's diagnostics, up to :attr:`max_diagnostics`."""
        if len(self._diagnostics) < self.max_diagnostics:
            self._diagnostics.append(text[:500])

    def event(self, event: dict[str, Any]) -> ParserSignal | None:
        raise NotImplementedError
