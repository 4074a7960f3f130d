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
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tacroute.config.checker import Checker
    from tacroute.config.schema import SectionContext

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


def check_pricing(value: Any, chk: Checker,
                  ctx: SectionContext | None = None) -> Mapping[str, Mapping[str, float]]:
    """Check ``[pricing]``: the valid prices, model -> {key: USD per million tokens}."""
    out: dict[str, Mapping[str, float]] = {}
    if not isinstance(value, dict):
        chk.add(["pricing"], 'must hold one table per model, e.g. [pricing."claude-opus-4"] with '
                "input = 15.0 and output = 75.0 (USD per million tokens)")
        return out
    for model, table in value.items():
        path: list[str | int] = ["pricing", model]
        good = chk.table(table, path, _ANY_PRICE_KEY, f'[pricing."{model}"]')
        if not isinstance(table, dict):
            continue
        ok = len(good) == len(table)
        for key in ("input", "output"):
            if key not in table:
                ok = False
                chk.add(path, f"has no {key}: give input and output in USD per million tokens, "
                        "e.g. input = 3.0, output = 15.0")
        for key, price in good.items():
            if isinstance(price, bool) or not isinstance(price, int | float):
                ok = False
                chk.add([*path, key], "must be a number: [pricing] prices are USD per million tokens, "
                        f"e.g. {key} = 3.0; not {type(price).__name__} {price!r}")
            elif not 0 <= price < math.inf:
                ok = False
                chk.add([*path, key], f"must be a price >= 0 (USD per million tokens), not {price!r}")
        if ok:
            out[model] = MappingProxyType({k: float(v) for k, v in good.items()})
    return MappingProxyType(out)


def check_estimate(value: Any, chk: Checker, ctx: SectionContext | None = None) -> Mapping[str, int]:
    """Check ``[estimate]``: non-negative whole token counts (the valid ones are returned)."""
    good = chk.table(value, ["estimate"], ESTIMATE_KEYS, "[estimate]")
    out: dict[str, int] = {}
    for key, count in good.items():
        if count < 0:
            chk.add(["estimate", key], f"must be a token count >= 0, not {count!r}")
        else:
            out[key] = count
    return MappingProxyType(out)

