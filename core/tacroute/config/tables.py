"""Validate the ``[pricing."MODEL"]`` and ``[estimate]`` tables.

``[pricing."claude-opus-4"]`` gives US dollars per million tokens: ``input``
and ``output`` (required), ``cache_read`` and ``cache_write`` (optional; they
default to the input price). Config prices win over the built-ins and the
``tacroute pricing refresh`` cache.

``[estimate]`` gives a typical task's token counts: ``input_tokens``,
``output_tokens`` and optionally ``cache_read_tokens``,
``cache_creation_tokens``. ``tacroute simulate`` uses them for tasks that carry
no counts of their own, and strategy ``cheapest`` compares targets by what this
reference task would cost on each.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tacroute.config.loader import _Checker

__all__ = ["ESTIMATE_KEYS", "PRICE_KEYS", "check_estimate", "check_pricing"]

PRICE_KEYS: dict[str, tuple[type, ...]] = {
    "input": (int, float),
    "output": (int, float),
    "cache_read": (int, float),
    "cache_write": (int, float),
}
_ANY_PRICE_KEY: dict[str, tuple[type, ...]] = {key: (object,) for key in PRICE_KEYS}
ESTIMATE_KEYS: dict[str, tuple[type, ...]] = {
    "input_tokens": (int,),
    "output_tokens": (int,),
    "cache_read_tokens": (int,),
    "cache_creation_tokens": (int,),
}


def check_pricing(doc: Mapping[str, Any], chk: _Checker) -> bool:
    """Check ``[pricing]``; True when it is valid (so it is safe to build a PricingTable)."""
    if "pricing" not in doc:
        return True
    before = len(chk.issues)
    tables = doc["pricing"]
    if not isinstance(tables, dict):
        chk.add(["pricing"], 'must hold one table per model, e.g. [pricing."claude-opus-4"] with '
                "input = 15.0 and output = 75.0 (USD per million tokens)")
        return False
    for model, table in tables.items():
        path: list[str | int] = ["pricing", model]
        good = chk.table(table, path, _ANY_PRICE_KEY, f'[pricing."{model}"]')
        if not isinstance(table, dict):
            continue
        for key in ("input", "output"):
            if key not in table:
                chk.add(path, f"has no {key}: give input and output in USD per million tokens, "
                        "e.g. input = 3.0, output = 15.0")
        for key, value in good.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                chk.add([*path, key], "must be a number: [pricing] prices are USD per million tokens, "
                        f"e.g. {key} = 3.0; not {type(value).__name__} {value!r}")
            elif not 0 <= value < math.inf:
                chk.add([*path, key], f"must be a price >= 0 (USD per million tokens), not {value!r}")
    return len(chk.issues) == before


def check_estimate(doc: Mapping[str, Any], chk: _Checker) -> None:
    """Check ``[estimate]``: non-negative whole token counts."""
    if "estimate" not in doc:
        return
    good = chk.table(doc["estimate"], ["estimate"], ESTIMATE_KEYS, "[estimate]")
    for key, value in good.items():
        if value < 0:
            chk.add(["estimate", key], f"must be a token count >= 0, not {value!r}")
