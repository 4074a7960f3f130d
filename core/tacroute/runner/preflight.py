"""Checks ``run_task`` makes before the first attempt: usage errors are found up front.

- The output file (or a later attempt's ``NAME.attempt-N.SUFFIX``) must not
  be the prompt file, under any name (a symlink, a hard link): writing it
  would destroy the prompt before the command reads it.
- The output file must not be a directory, and no existing folder on its
  path may be a file (``/etc/passwd/x``).
- When a candidate's command uses ``{prompt}``, the prompt file must be
  UTF-8 text (and, on the command line, hold no NUL byte).

Each problem raises :class:`~tacroute.errors.UsageError` (exit code 2).
What can only show while writing (a full disk, a read-only file system)
fails the attempt instead (:mod:`tacroute.runner.attempt`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from tacroute.config.loader import template_fields
from tacroute.errors import UsageError
from tacroute.providers import ProviderManager
from tacroute.providers.command import read_prompt

__all__ = ["check_output_files", "check_prompt_text"]


def check_output_files(prompt: Path, outputs: Iterable[Path]) -> None:
    """Raise UsageError when an output file cannot be written or is the prompt."""
    for out in outputs:
        try:
            same = out.exists() and os.path.samefile(out, prompt)
        except OSError:
            same = False
        if same:
            raise UsageError(f"output file {str(out)!r} is the prompt file {str(prompt)!r}: writing "
                             "the output would destroy the prompt; choose another output file")
        if out.is_dir():
            raise UsageError(f"output file {str(out)!r} is a directory")
        for parent in out.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise UsageError(f"cannot write output file {str(out)!r}: {str(parent)!r} is "
                                     "not a directory")
                break


def check_prompt_text(prompt: Path, providers: ProviderManager, names: Iterable[str]) -> None:
    """Raise UsageError when a provider in ``names`` substitutes ``{prompt}`` and the
    prompt file is not UTF-8 text (or holds a NUL byte, which no argument can carry)."""
    in_argv = in_stdin = False
    for name in set(names):
        pc = providers.get_provider(name)
        in_argv = in_argv or any("prompt" in _fields(item) for item in pc.command_template)
        in_stdin = in_stdin or (pc.stdin is not None and "prompt" in _fields(pc.stdin))
    if not (in_argv or in_stdin):
        return
    text = read_prompt(prompt)
    if in_argv and "\0" in text:
        raise UsageError(f"prompt file {str(prompt)!r} holds a NUL byte, which a command-line "
                         "argument ({prompt}) cannot carry")


def _fields(template: str) -> list[str]:
    try:
        return template_fields(template)
    except ValueError:
        return []
