"""The ``openrouter`` provider in-process: the wrapper's request, without the wrapper's process.

:func:`execute` makes the same streamed request as ``tacroute-openrouter``
(:func:`tacroute_openrouter.chat.run_chat`, same settings, retries and error
classes), writes the same Claude-compatible stream-json transcript to the
attempt's output file (:class:`~tacroute_openrouter.claude_stream_writer.StreamJsonWriter`),
and reads each line it writes with the same ``openrouter-stream-json`` parser
the runner uses on the wrapper's output. So the :class:`Outcome` (result text,
usage, cost, error class, retry-after) is the one the subprocess path gives,
by construction; a parser signal stops the request as it would stop the
process. Text deltas go to the attempt's progress sink as they arrive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tacroute.providers.execute import stopped_by
from tacroute.redact import BadKeyError, Redactor, clean_key
from tacroute.types import ErrorClass, Outcome, ParserSignal
from tacroute_openrouter.claude_stream_writer import StreamJsonWriter
from tacroute_openrouter.options import DEFAULT_KEY_ENV, OptionsError
from tacroute_openrouter.settings import settings_for

if TYPE_CHECKING:
    from tacroute.providers.execute import Attempt
    from tacroute_openrouter.parser import OpenRouterStreamJsonParser

__all__ = ["execute"]


class _AttemptWriter(StreamJsonWriter):
    """Writes the transcript to the output file and feeds each line to the parser."""

    def __init__(self, attempt: Attempt, parser: OpenRouterStreamJsonParser) -> None:
        super().__init__(None, str(attempt.output_file))
        self.attempt = attempt
        self.parser = parser
        self.signal: ParserSignal | None = None

    def _write(self, text: str) -> None:
        super()._write(text)
        for line in text.splitlines():
            self.attempt.line(line)
            found = self.parser.feed(line)
            if found is not None and self.signal is None:
                self.signal = found

    def delta(self, text: str, index: int = 0) -> None:
        super().delta(text, index)
        self.attempt.progress(text)


def execute(attempt: Attempt, transport: Any = None) -> Outcome:
    """Run one OpenRouter attempt in this process (``transport``: an httpx transport, for tests)."""
    from tacroute_openrouter.chat import run_chat
    from tacroute_openrouter.parser import OpenRouterStreamJsonParser

    pc = attempt.config
    try:
        settings = settings_for(attempt.model, pc.options, attempt.env, pc.api_key_env or DEFAULT_KEY_ENV)
        prompt = attempt.prompt
    except OptionsError as exc:
        return Outcome(False, ErrorClass.CRASH, f"unusable options: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        return Outcome(False, ErrorClass.CRASH, f"cannot read the prompt file {str(attempt.prompt_file)!r}: "
                                                f"{exc}")
    left = attempt.remaining()
    if left is not None:  # no request or retry outlives the attempt
        settings.timeout = max(min(settings.timeout, left), 0.001)
        settings.retry_budget = min(settings.retry_budget, left)
    parser = OpenRouterStreamJsonParser()
    try:
        out = _AttemptWriter(attempt, parser)
    except OSError as exc:
        return Outcome(False, ErrorClass.CRASH, f"cannot write the output file "
                                                f"{str(attempt.output_file)!r}: {exc}")
    try:
        api_key = clean_key(settings.api_key_env, attempt.env.get(settings.api_key_env))
    except BadKeyError as exc:  # run_task refuses such a key before any attempt; a direct caller may not
        out.close()
        return Outcome(False, ErrorClass.AUTH, str(exc))
    redact = Redactor.from_env(attempt.env, [settings.api_key_env])
    try:
        code = run_chat(settings, prompt, api_key, out, transport=transport, sleep=attempt.cancel.wait,
                        redact=redact, stop=lambda: out.signal is not None or attempt.cancel.is_set())
    finally:
        out.close()
    outcome = parser.finish(code, "")
    return stopped_by(out.signal, outcome) if out.signal is not None else outcome
