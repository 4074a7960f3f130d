"""Shared helpers for the string-set conditions (priority, labels)."""

from __future__ import annotations

from typing import Any

from tacroute import ConditionValueError


def string_set(value: Any, what: str, example: str) -> frozenset[str]:
    """A string or a list of strings, lower-cased."""
    if isinstance(value, str):
        return frozenset((value.lower(),))
    if isinstance(value, list):
        lowered = [v.lower() for v in value if isinstance(v, str)]
        if len(lowered) == len(value):  # one pass: a big rule table has thousands of these
            return frozenset(lowered)
    raise ConditionValueError(f"must be a {what} string or a list of them, e.g. {example}; "
                              f"got {value!r}")
