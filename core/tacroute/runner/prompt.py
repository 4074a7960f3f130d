"""The prompt of a run: a file the caller names, or text written to a private file.

``run_task(prompt=TEXT)`` writes the text (UTF-8) to ``prompt.txt`` in the run's
own folder (:func:`tacroute.runner.outputs.run_folder`), readable by the owner
only, for the commands that read a file or their stdin; it is removed when the run ends.
"""

from __future__ import annotations

import os
from pathlib import Path

from tacroute.errors import UsageError
from tacroute.runner.outputs import run_folder
from tacroute.runner.settings import RunnerSettings

__all__ = ["PromptFile"]


class PromptFile:
    """Where the run's prompt is; :meth:`close` removes a file written for text."""

    def __init__(self, prompt_file: str | Path | None, prompt: str | None) -> None:
        if (prompt_file is None) == (prompt is None):
            raise UsageError("give the prompt as exactly one of prompt= (text) or prompt_file= (a path)")
        if prompt is not None and not isinstance(prompt, str):
            raise UsageError(f"prompt must be text (str), not {type(prompt).__name__}")
        self.text = prompt
        self.path = Path(prompt_file) if prompt_file is not None else Path()
        self.written: Path | None = None
        if prompt_file is not None and not self.path.is_file():
            raise UsageError(f"prompt file {str(self.path)!r} does not exist or is not a file")

    def write(self, settings: RunnerSettings, run_id: str) -> Path:
        """The prompt file, writing the text to the run's folder first when there is one."""
        if self.text is None:
            return self.path
        try:
            data = self.text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise UsageError(f"the prompt is not valid text: {exc.reason}") from None
        path = run_folder(settings, run_id) / "prompt.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:  # a bare descriptor, no file object: nothing for the fast exit to flush
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        self.written = self.path = path
        return path

    def close(self) -> None:
        """Remove the file written for the text, and its folder when nothing else is in it."""
        if self.written is None:
            return
        try:
            self.written.unlink()
            self.written.parent.rmdir()
        except OSError:
            pass  # the folder holds the attempts' outputs: it stays
