"""The provider seam: one :class:`Attempt` in, one :class:`~tacroute.types.Outcome` out.

A provider either runs a command (an argv template and an output parser; the
runner's :class:`~tacroute.runner.attempt.CommandProvider` does the work) or
executes in-process: its :class:`~tacroute.types.ProviderType` implements
``execute(attempt) -> Outcome``, the way llm's ``Model.execute`` or an httpx
transport's ``handle_request`` do. The runner treats both alike: it builds an
:class:`Attempt`, calls ``execute``, records the outcome and fails over.

Routing asks :func:`executes_in_process` (kept in :mod:`~tacroute.providers.availability`,
re-exported here), so it never loads this module.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tacroute.providers.availability import executes_in_process

if TYPE_CHECKING:
    from tacroute.config.model import ProviderConfig
    from tacroute.types import Outcome, ParserSignal, Usage

__all__ = ["Attempt", "ProgressSink", "Provider", "executes_in_process", "stopped_by"]

#: Receives live progress: a piece of streamed text, and/or the tokens counted so far.
ProgressSink = Callable[[str, "Usage | None"], None]


def _no_progress(text: str, usage: Usage | None) -> None:
    return None


def _keep(text: str | None) -> str | None:
    return text


class Attempt:
    """Everything one try of one provider/model needs, passed to ``execute``.

    ``config``
        the provider's ``[providers.NAME]`` table (:class:`ProviderConfig`;
        its ``options`` hold the type's own keys, already type-checked);
    ``model``
        the model the router chose;
    ``prompt_file`` / :attr:`prompt`
        the prompt, as a file and (read on first use) as text;
    ``env``
        the base environment with the table's ``env`` over it: read the API
        key from ``env[config.api_key_env]``, and never put it in a message;
    ``output_file``
        where to write this attempt's transcript (``--output-file``);
    ``timeout`` / :meth:`remaining`
        the attempt's time limit in seconds (None: none) and what is left of it;
    ``cancel``
        a :class:`threading.Event` the runner sets when the attempt must stop
        (the run was cancelled, or the time is up); wait on it instead of sleeping;
    :meth:`progress`
        report streamed text and token counts (the live status line);
    :meth:`redact`
        a string with every known secret masked;
    :meth:`line`
        report one line of the transcript as it is written to ``output_file``
        (an in-process provider calls it per line; the runner's live view).

    ``exit_code`` is for command providers to fill in (the process's exit code,
    kept in the attempt's record); an in-process provider leaves it None.
    """

    __slots__ = ("_line", "_progress", "_prompt", "_redact", "cancel", "config", "deadline", "env",
                 "exit_code", "model", "number", "output_file", "prompt_file", "run_id", "timeout")

    def __init__(self, config: ProviderConfig, model: str, prompt_file: str | Path, output_file: str | Path,
                 *, env: Mapping[str, str] | None = None, timeout: float | None = None,
                 cancel: threading.Event | None = None, progress: ProgressSink | None = None,
                 redact: Callable[[str | None], str | None] | None = None, prompt: str | None = None,
                 run_id: str = "", number: int = 1, on_line: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.model = model
        self.prompt_file = Path(prompt_file)
        self.output_file = Path(output_file)
        self.env: Mapping[str, str] = {} if env is None else env
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.cancel = cancel if cancel is not None else threading.Event()
        self.run_id = run_id
        self.number = number
        self.exit_code: int | None = None
        self._progress = progress or _no_progress
        self._redact = redact or _keep
        self._prompt = prompt
        self._line = on_line

    @property
    def prompt(self) -> str:
        """The prompt text (the file is read once, on first use; OSError if it cannot be)."""
        if self._prompt is None:
            self._prompt = self.prompt_file.read_text(encoding="utf-8")
        return self._prompt

    @property
    def api_key(self) -> str | None:
        """The API key from ``env[config.api_key_env]`` (surrounding whitespace stripped), or None
        when unset. Raises :class:`tacroute.redact.BadKeyError` for a control character inside."""
        from tacroute.redact import clean_key

        name = self.config.api_key_env
        return clean_key(name, self.env.get(name)) if name else None

    def remaining(self) -> float | None:
        """Seconds left before the timeout (never negative), or None without one."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    @property
    def stopped(self) -> bool:
        """Whether the attempt must stop now (cancelled, or out of time)."""
        return self.cancel.is_set() or (self.deadline is not None and time.monotonic() >= self.deadline)

    def progress(self, text: str = "", usage: Usage | None = None) -> None:
        """Report a piece of streamed text and/or the tokens so far (cheap; call freely)."""
        if not self.cancel.is_set():
            self._progress(text, usage)

    def line(self, text: str) -> None:
        """Report one transcript line (without its line ending) as it is written."""
        if self._line is not None:
            self._line(text)

    def redact(self, text: str | None) -> str | None:
        """``text`` with every known secret (API keys of the config's providers) masked."""
        return self._redact(text)


class Provider(Protocol):
    """Anything that can run one attempt: ``execute(attempt) -> Outcome``.

    Never raise for a failure of the provider itself (a refused key, a lost
    connection, a bad answer): return ``Outcome(False, ErrorClass.X, message)``
    so the runner can fail over. Return soon after ``attempt.cancel`` is set.
    """

    def execute(self, attempt: Attempt) -> Outcome:
        """Run the attempt to its end and say how it went."""
        ...


def stopped_by(signal: ParserSignal, outcome: Outcome) -> Outcome:
    """``outcome`` (from a parser's ``finish``) overridden by the signal that stopped the attempt."""
    return outcome._replace(success=False, error_class=signal.error_class, message=signal.message,
                            retry_after_s=signal.retry_after_s, api_error_status=signal.api_error_status)
