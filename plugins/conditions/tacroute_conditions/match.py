"""``match``: task attributes against glob patterns, case-insensitive.

``match = { command = ["/chore", "/docs"], requested_model = "sonnet*" }``:
every named attribute must match one of its patterns (``*``, ``?``, ``[...]``
as in :mod:`fnmatch`). A list attribute (``labels``) matches when any of its
items does; a number is matched as its decimal text; a missing attribute
never matches. Any attribute a caller sets can be matched, for example the
``command``, ``labels``, ``issue`` and ``requested_model`` that
``tacroute-claude`` derives from a coordinator's call.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from tacroute import CompileContext, ConditionType, ConditionValueError, RegisterCondition, hookimpl
from tacroute.types import Predicate, Task

_EXAMPLE = '{ command = ["/chore", "/docs"], requested_model = "sonnet" }'


def _patterns(name: str, value: Any) -> re.Pattern[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise ConditionValueError(f"{name}: must be a glob pattern or a non-empty list of them, e.g. "
                                  f"{_EXAMPLE}; got {value!r}")
    return re.compile("|".join(f"(?:{fnmatch.translate(v.lower())})" for v in items), re.DOTALL)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool) or value is None:
        return [str(value).lower()] if isinstance(value, bool) else []
    if isinstance(value, int | float):
        return [str(value)]
    if isinstance(value, list | tuple):  # one level: labels = ["bug", "docs"]
        return [t for item in value if not isinstance(item, list | tuple) for t in _texts(item)]
    return []


class MatchCondition(ConditionType):
    name = "match"
    description = f"attributes and glob patterns, case-insensitive, e.g. {_EXAMPLE}"

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        if not isinstance(value, dict) or not value:
            raise ConditionValueError(f"must be a table of attribute names and glob patterns, e.g. "
                                      f"{_EXAMPLE}; got {value!r}")
        wanted = tuple((str(name), _patterns(str(name), pats)) for name, pats in value.items())

        def match(task: Task) -> bool:
            for name, pattern in wanted:
                if not any(pattern.fullmatch(text.lower()) for text in _texts(task.get(name))):
                    return False
            return True

        return match


@hookimpl
def register_conditions(register: RegisterCondition) -> None:
    register(MatchCondition())
