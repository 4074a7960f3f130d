"""A live status line on a terminal: provider/model, elapsed time, tokens so far."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tacroute.types import Usage

__all__ = ["StatusLine"]


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

    def start(self, attempt: int, provider: str, model: str) -> None:
        self._label = f"[{attempt}] {provider}/{model}"
        self._t0 = time.monotonic()
        self.update(Usage())

    def update(self, usage: Usage) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self._t0
        text = (f"{self._label}  {elapsed:5.1f}s  tokens in {usage.input_tokens} "
                f"out {usage.output_tokens}")
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
