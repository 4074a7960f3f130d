"""Duration histograms for the fleet aggregates: fixed log buckets, mergeable by adding counts.

Bucket ``i`` (``i >= 1``) holds durations in ``(BASE**(i-1), BASE**i]`` milliseconds,
bucket 0 those of at most 1 ms; a percentile reads as its bucket's upper bound, so it
is at most 25% above the true value (``BASE`` = 1.25) and never below it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tacroute.types import ModelStats  # the run types load when stats are asked for

__all__ = ["BASE", "bucket", "model_stats_of", "percentile"]

BASE = 1.25
_LOG = math.log(BASE)


def bucket(duration_ms: float) -> int:
    """The bucket of one duration (negative and NaN ones count as 0 ms)."""
    if not duration_ms > 1:
        return 0
    return min(200, math.ceil(math.log(duration_ms) / _LOG - 1e-9))


def percentile(hist: Mapping[int, int], q: float) -> float | None:
    """The ``q`` quantile (0..1) of a histogram, in seconds; None when it is empty."""
    total = sum(n for n in hist.values() if n > 0)
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for i in sorted(hist):
        seen += max(hist[i], 0)
        if seen >= rank:
            return (BASE ** i if i > 0 else 1.0) / 1000.0
    return None


def model_stats_of(attempts: int, successes: int, cancelled: int, ok_hist: Mapping[int, int]
                   ) -> ModelStats | None:
    """What ``cheapest`` reads, from aggregates: cancelled attempts are no samples."""
    from tacroute.types import ModelStats

    samples = attempts - cancelled
    if samples <= 0:
        return None
    return ModelStats(samples=samples, success_rate=min(successes / samples, 1.0),
                      p95_duration_s=percentile(ok_hist, 0.95))
