"""Shared helpers for the string-set conditions (priority, labels)."""

from __future__ import annotations

from typing import Any

from tacroute import ConditionValueError


def string_set(value: Any, what: str, example: str) -> frozenset[str]:
    """A string or a list of strings, lower-cased."""
    if isinstance(value, str):
        return frozenset((value.lower(),))
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(v.lower() for v in value)
    raise ConditionValueError(f"must be a {what} string or a list of them, e.g. {example}; "
                              f"got {value!r}")
