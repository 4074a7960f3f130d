"""One error hierarchy for tacroute.

Every error a user can cause is a :class:`TacrouteError`. The CLI turns
:class:`ConfigError` and :class:`UsageError` into exit code 2 and everything
else into exit code 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "ConditionValueError",
    "DuplicateNameError",
    "NoAvailableProviderError",
    "PluginError",
    "ProviderError",
    "TacrouteError",
]


class TacrouteError(Exception):
    """Base class of every error tacroute raises on purpose."""


class ConfigIssue:
    """One problem found in a config file: where it is and what would be valid."""

    __slots__ = ("key", "line", "message")

    def __init__(self, key: str, message: str, line: int | None = None) -> None:
        self.key = key
        self.message = message
        self.line = line

    def format(self, path: Path | str | None) -> str:
        where = str(path) if path is not None else "<config>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"

    def __repr__(self) -> str:
        return f"ConfigIssue(key={self.key!r}, line={self.line!r}, message={self.message!r})"


class ConfigError(TacrouteError):
    """A config file that cannot be used.

    ``issues`` lists every problem found (validation does not stop at the first
    one); ``str(error)`` names the file, the line where known, the key path and
    what would be valid, one problem per line.
    """

    def __init__(self, issues: Iterable[ConfigIssue] | str, path: Path | str | None = None) -> None:
        if isinstance(issues, str):
            issues = [ConfigIssue("", issues)]
        self.issues = list(issues)
        self.path = path
        super().__init__("\n".join(issue.format(path) for issue in self.issues))


class ConditionValueError(TacrouteError):
    """Raised by a condition type's ``compile`` when a value is not valid.

    The message says what would be valid; the config loader adds the file, line
    and key path.
    """


class PluginError(TacrouteError):
    """A plugin that could not be loaded or that registered something invalid."""


class DuplicateNameError(PluginError):
    """Two plugins registered the same name for the same kind of thing."""


class ProviderError(TacrouteError):
    """A provider that cannot be used or whose command cannot be built."""


class NoAvailableProviderError(ProviderError):
    """A decision has no available candidate, so the task cannot be run."""


class UsageError(TacrouteError):
    """Bad command-line or API usage (exit code 2)."""


class InvalidTaskError(UsageError, ValueError):
    """A task whose well-known attributes (priority, labels, retry_count, hour) are not valid.

    A :class:`UsageError` (exit code 2 from the CLI) and, for Python callers, a ValueError.
    """


__all__ += ["InvalidTaskError", "UsageError"]
