"""The config checker: collects problems by key path while a document is walked.

Every part of tacroute that validates config (the loader's own tables, the
core's sections, a plugin's section) reports through one :class:`Checker`,
so every problem comes out the same way: ``file:line: key.path: message``,
all of them in one :class:`~tacroute.errors.ConfigError`, with "did you mean"
hints for misspelt keys.

::

    good = chk.table(value, ["myplugin"], {"url": (str,), "retries": (int,)})
    retries = chk.count(["myplugin", "retries"], good.get("retries", 3), low=0, high=10)
    wait = chk.seconds(["myplugin", "wait_s"], good.get("wait_s", 5), zero_ok=True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tacroute.config.bounds import MAX_COUNTS, seconds_problem
from tacroute.config.unknown import did_you_mean
from tacroute.errors import ConfigError, ConfigIssue

__all__ = ["Checker", "KeyPath", "describe", "format_key", "type_ok", "value_name"]

#: A key path: ``["routing", "rules", 2, "model"]``.
KeyPath = Sequence[str | int]

_TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer", float: "a number",
               list: "an array", dict: "a table"}


def format_key(path: KeyPath) -> str:
    """``("routing", "rules", 2, "model")`` -> ``routing.rules[2].model``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            needs_quote = not part.replace("-", "").replace("_", "").isalnum()
            text = f'"{part}"' if needs_quote else part
            out += f".{text}" if out else text
    return out


def type_ok(value: Any, types: tuple[type, ...]) -> bool:
    """``value`` is one of ``types`` (a TOML boolean is not an integer)."""
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def describe(types: tuple[type, ...]) -> str:
    """``(int, float)`` -> ``an integer or a number``."""
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


def value_name(value: Any) -> str:
    """What a TOML value is, for messages: ``a string ('yes')``, ``an array``."""
    for t, name in _TYPE_NAMES.items():
        if type(value) is t:
            return f"{name} ({value!r})" if t in (str, int, float, bool) else name
    return type(value).__name__


class Checker:
    """Collects issues and warnings with their key paths while walking the document.

    Nothing is raised while checking: :meth:`raise_issues` turns what was
    collected into one :class:`ConfigError`, with the line of each key.
    """

    def __init__(self) -> None:
        self.issues: list[tuple[tuple[str | int, ...], str]] = []
        #: Warnings already formatted (no line of their own).
        self.warnings: list[str] = []
        #: Warnings about a key path, given file and line when the config is loaded.
        self.located: list[tuple[tuple[str | int, ...], str]] = []

    def add(self, path: KeyPath, message: str) -> None:
        """An error at ``path``: the config does not load."""
        self.issues.append((tuple(path), message))

    def warn(self, path: KeyPath, message: str) -> None:
        """A warning at ``path``: the config still loads."""
        self.located.append((tuple(path), message))

    def table(self, value: Any, path: KeyPath, keys: Mapping[str, tuple[type, ...]],
              what: str | None = None) -> dict[str, Any]:
        """Check a table's keys and value types; return the valid part.

        ``keys`` maps each allowed key to the Python types its value may have
        (``(object,)``: anything). ``what`` names the table in the unknown-key
        message (default: ``[key.path]``).
        """
        if not isinstance(value, dict):
            self.add(path, f"must be a table, not {value_name(value)}")
            return {}
        what = what or f"[{format_key(path)}]"
        good: dict[str, Any] = {}
        for key, item in value.items():
            types = keys.get(key)
            if types is None:
                self.add([*path, key], f"unknown key in {what}{did_you_mean(key, keys)}; "
                         f"valid keys are: {', '.join(sorted(keys))}")
            elif type(item) in types or type_ok(item, types):  # the first test: the usual case, fast
                good[key] = item
            else:
                self.add([*path, key], f"must be {describe(types)}, not {value_name(item)}")
        return good

    def seconds(self, path: KeyPath, value: Any, *, zero_ok: bool) -> float | None:
        """``value`` as a duration in seconds (see :mod:`tacroute.config.bounds`), or None after
        reporting why it is not one."""
        problem = seconds_problem(value, zero_ok=zero_ok)
        if problem:
            self.add(path, problem)
            return None
        return float(value)

    def count(self, path: KeyPath, value: int, *, low: int = 1, high: int | None = None) -> int | None:
        """``value`` if ``low <= value <= high``, else None after reporting it.

        ``high`` defaults to the bound :data:`~tacroute.config.bounds.MAX_COUNTS`
        gives the path's last key, if any.
        """
        if high is None:
            high = MAX_COUNTS.get(str(path[-1])) if path else None
        if value < low:
            self.add(path, f"must be at least {low}, not {value}")
            return None
        if high is not None and value > high:
            shown = f"{value:,}" if value.bit_length() < 100 else "a huge integer"
            self.add(path, f"must be at most {high:,}, not {shown}")
            return None
        return value

    def raise_issues(self, text: str, path: Path | None) -> None:
        """Give the located warnings their lines (into :attr:`warnings`); raise the issues, if any,
        as one :class:`ConfigError` naming ``path``, the line of each key in ``text``, and the key."""
        if self.located:
            from tacroute.config.locate import locate_all  # only when there is something to say

            where = locate_all(text, [p for p, _ in self.located])
            self.warnings.extend(ConfigIssue(format_key(p), msg, line).format(path)
                                 for (p, msg), line in zip(self.located, where))
            self.located = []
        if self.issues:
            from tacroute.config.locate import locate_all

            lines = locate_all(text, [p for p, _ in self.issues]) if text else [None] * len(self.issues)
            raise ConfigError([ConfigIssue(format_key(p), msg, line)
                               for (p, msg), line in zip(self.issues, lines)], path)
