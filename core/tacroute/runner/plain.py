"""The fallback output parser for providers that name none: exit code 0 is success."""

from __future__ import annotations

from collections import deque

from tacroute.types import ErrorClass, Outcome, ParserSignal, Usage

__all__ = ["PlainOutputParser"]

_KEEP_LINES = 2000


class PlainOutputParser:
    """Keeps the last lines of stdout as the result; knows no tokens or cost."""

    def __init__(self) -> None:
        self._lines: deque[str] = deque(maxlen=_KEEP_LINES)

    def feed(self, line: str) -> ParserSignal | None:
        self._lines.append(line)
        return None

    def progress(self) -> Usage:
        return Usage()

    def finish(self, exit_code: int | None, stderr_tail: str) -> Outcome:
        text = "\n".join(self._lines)
        if exit_code == 0:
            return Outcome(True, result=text)
        how = "was killed" if exit_code is None else f"exited with code {exit_code}"
        tail = stderr_tail.strip()[-1000:]
        return Outcome(False, ErrorClass.CRASH,
                       f"the program {how}" + (f"; stderr: {tail}" if tail else ""), result=text or None)
