"""``KEY=VALUE`` arguments whose value is read as TOML when it is one.

``--attr`` (``route``, ``run``) and ``rules add --when`` both take them. A
value that is not one TOML value (a bare word, a 5,000-digit number,
thousands of open brackets) is the text itself, never a crash.
"""

from __future__ import annotations

import tomllib
from typing import Any

from tacroute.errors import UsageError

__all__ = ["parse_attr", "parse_condition", "split_pair", "toml_value"]

_NOT_TOML = object()


def split_pair(text: str, usage: str) -> tuple[str, str]:
    """``(key, raw value)`` of ``key=value``; ``usage`` is the error when there is no key."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"{usage}, got {text!r}")
    return key, raw


def toml_value(raw: str) -> Any:
    """``raw`` as one TOML value, or :data:`_NOT_TOML` when it is not one."""
    try:
        doc = tomllib.loads(f"v = {raw}")
    except (ValueError, RecursionError):  # not TOML (a huge integer, deep nesting)
        return _NOT_TOML
    return doc["v"] if len(doc) == 1 else _NOT_TOML


def parse_attr(text: str) -> tuple[str, Any]:
    """A task attribute (``--attr key=value``); text when the value is not TOML.

    ``priority`` stays text: ``--attr priority=5`` is ``--priority 5``, the text "5".
    """
    key, raw = split_pair(text, "--attr needs key=value")
    value = toml_value(raw)
    if value is _NOT_TOML:
        return key, raw
    if key == "priority" and isinstance(value, int | float) and not isinstance(value, bool):
        return key, raw.strip()
    return key, value


def parse_condition(text: str) -> tuple[str, Any]:
    """A rule condition (``rules add --when``): ``retry_count={ gte = 1 }`` ->
    ``("retry_count", {"gte": 1})``; bare words are strings."""
    key, raw = split_pair(text, "a condition is NAME=VALUE (VALUE in TOML)")
    value = toml_value(raw.strip())
    return key, raw.strip() if value is _NOT_TOML else value
