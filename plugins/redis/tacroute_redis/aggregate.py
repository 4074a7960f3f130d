"""Fleet aggregates on Redis: one hash per provider/model, added to with HINCRBY.

Fields: ``attempts``, ``successes``, ``cancelled``, ``f:CLASS`` (failures by
error class), ``in``/``out``/``cr``/``cc`` (tokens), ``cost`` and ``costed``
(attempts that reported a cost), ``d:B`` (every attempt's duration bucket) and
``s:B`` (successful attempts' duration buckets, for the ``cheapest`` p95).
Buckets are :func:`tacroute.state.fleet.bucket`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tacroute.state import FleetRow
from tacroute.state.fleet import bucket, model_stats_of, percentile
from tacroute.types import AttemptRecord, ModelStats

__all__ = ["increments", "model_stats", "row"]


def increments(record: AttemptRecord) -> tuple[dict[str, int], float | None]:
    """The integer fields to add for one attempt, and the cost to add."""
    u = record.usage
    add = {"attempts": 1, "in": int(u.input_tokens), "out": int(u.output_tokens),
           "cr": int(u.cache_read_tokens), "cc": int(u.cache_creation_tokens),
           f"d:{bucket(record.duration_ms)}": 1}
    if record.success:
        add["successes"] = 1
        add[f"s:{bucket(record.duration_ms)}"] = 1
    else:
        cls = str(record.error_class.value if record.error_class is not None else "failed")
        add[f"f:{cls}"] = 1
        if cls == "cancelled":
            add["cancelled"] = 1
    if record.cost_usd is not None:
        add["costed"] = 1
    return add, record.cost_usd


def _hist(h: Mapping[str, str], prefix: str) -> dict[int, int]:
    out: dict[int, int] = {}
    for k, v in h.items():
        if k.startswith(prefix):
            try:
                out[int(k[len(prefix):])] = int(v)
            except ValueError:
                continue
    return out


def _int(h: Mapping[str, Any], key: str) -> int:
    try:
        return int(h.get(key, 0))
    except (TypeError, ValueError):
        return 0


def model_stats(h: Mapping[str, str]) -> ModelStats | None:
    return model_stats_of(_int(h, "attempts"), _int(h, "successes"), _int(h, "cancelled"), _hist(h, "s:"))


def row(provider: str, model: str, h: Mapping[str, str]) -> FleetRow:
    failures = {k[2:]: _int(h, k) for k in h if k.startswith("f:")}
    cost = float(h.get("cost", 0.0)) if _int(h, "costed") else None
    hist = _hist(h, "d:")
    return FleetRow(provider, model, _int(h, "attempts"), _int(h, "successes"), _int(h, "cancelled"),
                    failures, _int(h, "in"), _int(h, "out"), _int(h, "cr"), _int(h, "cc"), cost,
                    percentile(hist, 0.5), percentile(hist, 0.95))
