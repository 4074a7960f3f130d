"""Contain a failing output parser: the one place the runner calls a parser.

Any plugin's parser may raise on hostile output (a line of 200,000 nested
brackets makes ``json`` raise RecursionError). An exception from ``feed`` is
a diagnostic of the attempt, which goes on (the parser decides from the
remaining lines; when the attempt fails, its message names the first
parser failure); one from ``progress`` shows no figures; one from ``finish``
fails the attempt as ``crash`` with a message naming the parser. Nothing a
parser raises ends the run or reaches the user as a traceback.
"""

from __future__ import annotations

from tacroute.types import ErrorClass, Outcome, OutputParser, ParserSignal, Usage

__all__ = ["GuardedParser"]

#: Parser failures kept per attempt (the rest are counted).
_MAX_NOTES = 5


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


class GuardedParser:
    """Wraps ``parser`` (registered as ``name``) so that none of its exceptions escape."""

    __slots__ = ("_failures", "_lines", "_notes", "name", "parser")

    def __init__(self, parser: OutputParser, name: str) -> None:
        self.parser = parser
        self.name = name
        self._notes: list[str] = []
        self._failures = 0
        self._lines = 0

    def feed(self, line: str) -> ParserSignal | None:
        self._lines += 1
        try:
            return self.parser.feed(line)
        except Exception as exc:  # noqa: BLE001 - a parser bug or hostile output is a diagnostic
            self._note(f"output parser {self.name!r} failed on output line {self._lines} "
                       f"({len(line)} characters): {_describe(exc)}")
            return None

    def progress(self) -> Usage:
        try:
            return self.parser.progress()
        except Exception:  # noqa: BLE001 - only a live status figure
            return Usage()

    def finish(self, exit_code: int | None, stderr_tail: str) -> Outcome:
        try:
            outcome = self.parser.finish(exit_code, stderr_tail)
        except Exception as exc:  # noqa: BLE001 - the attempt fails, the run goes on
            outcome = Outcome(False, ErrorClass.CRASH, f"output parser {self.name!r} failed to "
                              f"conclude the attempt: {_describe(exc)}")
        if self._failures:
            notes = list(self._notes)
            if self._failures > len(notes):
                notes.append(f"output parser {self.name!r} failed on {self._failures} lines in all")
            outcome = outcome._replace(diagnostics=(*outcome.diagnostics, *notes))
            if not outcome.success:  # the failure may come from the line the parser could not read
                outcome = outcome._replace(message=f"{outcome.message or 'failed'}; {notes[0]}")
        return outcome

    def _note(self, text: str) -> None:
        self._failures += 1
        if len(self._notes) < _MAX_NOTES:
            self._notes.append(text)
