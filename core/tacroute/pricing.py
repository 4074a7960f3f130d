"""One pricing table for every estimate: US dollars per million tokens.

Merged from, lowest precedence first: built-in defaults for common models,
the cache file that ``tacroute pricing refresh`` writes (OpenRouter's
``/api/v1/models``), and ``[pricing."MODEL"]`` tables in the config. Model
names are matched exactly, then without a ``vendor/`` prefix, a date suffix
(``-20250514``) or dots (``3.5`` -> ``3-5``).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tacroute.paths import cache_dir
from tacroute.tuples import NamedTuple
from tacroute.types import Usage

__all__ = ["BUILTIN_PRICES", "DEFAULT_ESTIMATE", "ModelPrice", "PricingTable", "cache_path",
           "estimate_usage", "run_cost"]

#: A typical task's tokens when nothing better is known (``[estimate]`` overrides):
#: simulate's per-task default and the reference task ``cheapest`` compares prices with.
DEFAULT_ESTIMATE = Usage(input_tokens=50_000, output_tokens=5_000)


class ModelPrice(NamedTuple):
    """Dollars per million tokens."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    source: str = "builtin"

    def cost(self, usage: Usage) -> float:
        cr = self.cache_read if self.cache_read is not None else self.input
        cw = self.cache_write if self.cache_write is not None else self.input
        return (usage.input_tokens * self.input + usage.output_tokens * self.output
                + usage.cache_read_tokens * cr + usage.cache_creation_tokens * cw) / 1_000_000

    def as_dict(self) -> dict[str, Any]:
        return {"input": self.input, "output": self.output, "cache_read": self.cache_read,
                "cache_write": self.cache_write, "source": self.source}


def _p(i: float, o: float, cr: float, cw: float) -> ModelPrice:
    return ModelPrice(i, o, cr, cw)


#: Anthropic list prices (per million tokens; cache write = 5-minute write).
#: ``claude-haiku-4`` and ``claude-sonnet-4-5`` are the seed's names.
BUILTIN_PRICES: Mapping[str, ModelPrice] = {
    "claude-opus-4": _p(15.0, 75.0, 1.5, 18.75),
    "claude-opus-4-1": _p(15.0, 75.0, 1.5, 18.75),
    "claude-opus-4-5": _p(5.0, 25.0, 0.5, 6.25),
    "claude-sonnet-4": _p(3.0, 15.0, 0.3, 3.75),
    "claude-sonnet-4-5": _p(3.0, 15.0, 0.3, 3.75),
    "claude-haiku-4": _p(1.0, 5.0, 0.1, 1.25),
    "claude-haiku-4-5": _p(1.0, 5.0, 0.1, 1.25),
    "claude-3-7-sonnet": _p(3.0, 15.0, 0.3, 3.75),
    "claude-3-5-sonnet": _p(3.0, 15.0, 0.3, 3.75),
    "claude-3-5-haiku": _p(0.8, 4.0, 0.08, 1.0),
    "claude-3-opus": _p(15.0, 75.0, 1.5, 18.75),
    "claude-3-haiku": _p(0.25, 1.25, 0.03, 0.3),
    "gpt-4o": _p(2.5, 10.0, 1.25, 2.5),
    "gpt-4o-mini": _p(0.15, 0.6, 0.075, 0.15),
    # OpenAI list prices of the Codex CLI's models (cache write: no surcharge).
    "gpt-5": _p(1.25, 10.0, 0.125, 1.25),
    "gpt-5-codex": _p(1.25, 10.0, 0.125, 1.25),
    "gpt-5-mini": _p(0.25, 2.0, 0.025, 0.25),
    "gpt-5-1": _p(1.25, 10.0, 0.125, 1.25),
    "gpt-5-1-codex": _p(1.25, 10.0, 0.125, 1.25),
    "gpt-5-1-codex-mini": _p(0.25, 2.0, 0.025, 0.25),
    "gpt-5-1-codex-max": _p(1.25, 10.0, 0.125, 1.25),
    "codex-mini-latest": _p(1.5, 6.0, 0.375, 1.5),
    # Google list prices of the Gemini CLI's models (prompts up to 200k tokens).
    "gemini-2-5-pro": _p(1.25, 10.0, 0.125, 1.25),
    "gemini-2-5-flash": _p(0.3, 2.5, 0.03, 0.3),
    "gemini-2-5-flash-lite": _p(0.1, 0.4, 0.01, 0.1),
    "gemini-3-pro-preview": _p(2.0, 12.0, 0.2, 2.0),
}

_DATE = re.compile(r"-\d{8}$")


def cache_path() -> Path:
    """Where ``tacroute pricing refresh`` keeps prices (``TACROUTE_PRICING_CACHE`` overrides)."""
    env = os.environ.get("TACROUTE_PRICING_CACHE")
    if env:
        return Path(env)
    return Path(cache_dir()) / "pricing.json"


def _normalise(model: str) -> list[str]:
    names = [model]
    bare = model.split("/", 1)[1] if "/" in model else model
    for name in (bare, _DATE.sub("", bare)):
        for variant in (name, name.replace(".", "-")):
            if variant not in names:
                names.append(variant)
    return names


class PricingTable:
    """Look up a model's price; merge of built-ins, cache and config overrides."""

    def __init__(self, prices: Mapping[str, ModelPrice] | None = None) -> None:
        self.prices: dict[str, ModelPrice] = dict(BUILTIN_PRICES if prices is None else prices)

    @classmethod
    def load(cls, config_raw: Mapping[str, Any] | None = None, cache: Path | None = None) -> PricingTable:
        """Built-ins, then the cache file (if any), then ``[pricing]`` from the config."""
        table = cls()
        table.merge(read_cache(cache or cache_path()))
        if config_raw is not None:
            table.merge(from_config(config_raw.get("pricing", {})))
        return table

    def merge(self, prices: Mapping[str, ModelPrice]) -> None:
        self.prices.update(prices)

    def get(self, model: str) -> ModelPrice | None:
        for name in _normalise(model):
            price = self.prices.get(name)
            if price is not None:
                return price
        # Longest known prefix: "claude-sonnet-4-5-latest" -> "claude-sonnet-4-5".
        bare = _normalise(model)[-1]
        best = max((k for k in self.prices if bare.startswith(k + "-")), key=len, default=None)
        return self.prices[best] if best is not None else None

    def cost(self, model: str, usage: Usage) -> float | None:
        price = self.get(model)
        return None if price is None else price.cost(usage)


def from_config(tables: Any) -> dict[str, ModelPrice]:
    """``[pricing."MODEL"]`` tables (already validated by the config loader)."""
    out: dict[str, ModelPrice] = {}
    if not isinstance(tables, dict):
        return out
    for model, t in tables.items():
        if isinstance(t, dict) and "input" in t and "output" in t:
            out[model] = ModelPrice(float(t["input"]), float(t["output"]),
                                    _opt(t.get("cache_read")), _opt(t.get("cache_write")), "config")
    return out


def read_cache(path: Path) -> dict[str, ModelPrice]:
    """The refresh cache: ``{"fetched_at": ..., "models": {id: {input, output, ...}}}``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    models = data.get("models") if isinstance(data, dict) else None
    out: dict[str, ModelPrice] = {}
    if isinstance(models, dict):
        for model, t in models.items():
            try:
                out[model] = ModelPrice(float(t["input"]), float(t["output"]),
                                        _opt(t.get("cache_read")), _opt(t.get("cache_write")), "cache")
            except (KeyError, TypeError, ValueError):
                continue
    return out


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


def estimate_usage(config_raw: Mapping[str, Any] | None) -> Usage:
    """The ``[estimate]`` token counts (validated by the loader) over :data:`DEFAULT_ESTIMATE`."""
    table = (config_raw or {}).get("estimate")
    if not isinstance(table, dict):
        return DEFAULT_ESTIMATE
    d = DEFAULT_ESTIMATE
    return Usage(int(table.get("input_tokens", d.input_tokens)),
                 int(table.get("output_tokens", d.output_tokens)),
                 int(table.get("cache_read_tokens", d.cache_read_tokens)),
                 int(table.get("cache_creation_tokens", d.cache_creation_tokens)))


def run_cost(cost_usd: float | None, model: str, tokens: tuple[int, int, int, int],
             pricing: PricingTable) -> float:
    """A run's reported cost, else its tokens priced at ``model`` (unknown price: 0)."""
    if cost_usd is not None:
        return float(cost_usd) if math.isfinite(cost_usd) and cost_usd > 0 else 0.0
    if not any(tokens):
        return 0.0
    return pricing.cost(model, Usage(*tokens)) or 0.0
