"""A live status line on a terminal: provider/model, elapsed time, tokens so far
and, for a provider that streams text to it (:meth:`StatusLine.progress`), the latest words."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tacroute.types import Usage

__all__ = ["StatusLine"]

#: Streamed text shown: this many characters at most, and redrawn this often at most.
_TAIL = 40
_REDRAW_S = 0.1


class StatusLine:
    """Rewrites one line of ``stream`` (stderr) in place; silent when not a terminal."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self._width = 0
        self._label = ""
        self._t0 = time.monotonic()
        self._usage = Usage()
        self._tail = ""
        self._shown = False
        self._drawn = 0.0

    def start(self, attempt: int, provider: str, model: str) -> None:
        self._label = f"[{attempt}] {provider}/{model}"
        self._t0 = time.monotonic()
        self._tail = ""
        self._shown = False
        self._drawn = 0.0
        self.update(Usage())

    def progress(self, text: str, usage: Usage | None = None) -> None:
        """A piece of streamed text and/or the tokens so far (an in-process provider's
        progress); redrawn at most every :data:`_REDRAW_S` seconds."""
        if not self.enabled:
            return
        if text:
            clean = "".join(ch if ch.isprintable() else " " for ch in text)  # no \r or \n: one line
            self._tail = (self._tail + clean)[-_TAIL:]
        now = time.monotonic()
        if usage is not None or not self._shown or now - self._drawn >= _REDRAW_S:
            self.update(usage if usage is not None else self._usage)

    def update(self, usage: Usage) -> None:
        if not self.enabled:
            return
        self._usage = usage
        self._drawn = time.monotonic()
        elapsed = self._drawn - self._t0
        text = (f"{self._label}  {elapsed:5.1f}s  tokens in {usage.input_tokens} "
                f"out {usage.output_tokens}")
        if self._tail:
            text += f"  | {self._tail}"
            self._shown = True
        pad = " " * max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write(f"\r{text}{pad}")
        self.stream.flush()

    def done(self, message: str) -> None:
        """Replace the live line with a final one (kept on screen)."""
        if not self.enabled:
            return
        pad = " " * max(0, self._width - len(message))
        self._width = 0
        self.stream.write(f"\r{message}{pad}\n")
        self.stream.flush()
