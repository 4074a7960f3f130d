"""OpenRouter's account and catalogue endpoints: ``/key`` and ``/models``.

Used by ``tacroute providers --check`` and ``tacroute pricing refresh``;
httpx is imported only here, when one of them runs.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tacroute_openrouter.errors import ERROR_TEXT_LIMIT, error_message

__all__ = ["ApiError", "key_info", "models_to_prices", "fetch_prices", "write_cache"]


class ApiError(Exception):
    """An endpoint that could not be read; the message never holds the key."""


def _get(url: str, api_key: str | None, timeout: float, transport: Any = None) -> Any:
    import httpx

    from tacroute.redact import Redactor

    redact = Redactor([api_key]).cut
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with httpx.Client(timeout=timeout, transport=transport) as client:
            response = client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise ApiError(redact(f"cannot reach {url}: {type(exc).__name__}: {exc}", None)) from None
    if response.status_code != 200:
        raise ApiError(redact(error_message(response.content, response.status_code), ERROR_TEXT_LIMIT))
    try:
        return response.json()
    except ValueError as exc:
        raise ApiError(f"{url} did not answer JSON: {exc}") from None


def key_info(base_url: str, api_key: str, timeout: float = 15.0, transport: Any = None) -> dict[str, Any]:
    """Credits and limits of a key (``GET /key``), without its label (a masked key)."""
    data = _get(base_url.rstrip("/") + "/key", api_key, timeout, transport)
    info = data.get("data") if isinstance(data, dict) else None
    if not isinstance(info, dict):
        raise ApiError("GET /key answered without a data object")
    keep = ("limit", "limit_remaining", "limit_reset", "usage", "usage_daily", "usage_monthly",
            "is_free_tier", "rate_limit", "expires_at")
    return {k: info[k] for k in keep if k in info}


def models_to_prices(data: Any) -> dict[str, dict[str, float | None]]:
    """``/models`` answer -> ``{id: {input, output, cache_read, cache_write}}`` in USD per million.

    OpenRouter gives decimal strings per token; negative prices (the
    ``openrouter/auto`` router's "-1": price depends on the model chosen) and
    unreadable entries are left out.
    """
    models = data.get("data") if isinstance(data, dict) else None
    if not isinstance(models, list):
        raise ApiError("GET /models answered without a data list")
    out: dict[str, dict[str, float | None]] = {}
    for model in models:
        if not isinstance(model, dict) or not isinstance(model.get("id"), str):
            continue
        pricing = model.get("pricing")
        if not isinstance(pricing, dict):
            continue
        try:
            prompt = _per_million(pricing.get("prompt"))
            completion = _per_million(pricing.get("completion"))
        except ValueError:
            continue
        if prompt is None or completion is None or prompt < 0 or completion < 0:
            continue
        try:
            read = _per_million(pricing.get("input_cache_read"))
            write = _per_million(pricing.get("input_cache_write"))
        except ValueError:
            read = write = None
        out[model["id"]] = {"input": prompt, "output": completion, "cache_read": read, "cache_write": write}
    return out


def _per_million(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"not a price: {value!r}")
    return round(float(value) * 1_000_000, 10)


def fetch_prices(base_url: str, timeout: float = 30.0,
                 transport: Any = None) -> dict[str, dict[str, float | None]]:
    """Every model's price from ``GET /models`` (no key needed)."""
    return models_to_prices(_get(base_url.rstrip("/") + "/models", None, timeout, transport))


def write_cache(path: Path, prices: Mapping[str, Mapping[str, float | None]]) -> None:
    """Write the cache file atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "source": "openrouter",
           "models": dict(prices)}
    fd, tmp = tempfile.mkstemp(prefix=".pricing-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
