#!/usr/bin/env python3
"""Write a deterministic tasks file (JSON lines) that follows the seed document's assumptions.

    python examples/make_tasks.py --count 1000 --seed 2025 > examples/tasks.jsonl

The seed's cost examples assume 20% of tasks are retries, 30% run off hours
and 15% are documentation. Those three shares are exact (not sampled): for N
tasks, exactly round(0.20 N) have retry_count >= 1, round(0.30 N) have an hour
in 0..7 (the seed's ``hour_range = [0, 8]``), round(0.15 N) carry a docs label,
each assigned independently of the others by a seeded shuffle. The rest is our
choice, since the seed says nothing about it:

* priority: 5% critical, 20% high, 45% normal, 30% low (exact shares);
* retries: three in four retried once, one in four twice;
* other labels: bug, feature, refactor, test, chore, security (uniform);
* daytime hours 8..23 uniform, off-hours 0..7 uniform;
* tokens: log-normal around 50,000 input and 5,000 output tokens (the
  ``[estimate]`` default; sigma 0.6), docs tasks at half that.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Iterator
from typing import Any, TextIO

PRIORITIES = (("critical", 0.05), ("high", 0.20), ("normal", 0.45), ("low", 0.30))
OTHER_LABELS = ("bug", "feature", "refactor", "test", "chore", "security")
RETRY_SHARE, OFF_HOURS_SHARE, DOCS_SHARE = 0.20, 0.30, 0.15


def _exact(rng: random.Random, n: int, share: float) -> list[bool]:
    k = round(n * share)
    flags = [True] * k + [False] * (n - k)
    rng.shuffle(flags)
    return flags


def tasks(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """The tasks, in order; the same (count, seed) always gives the same tasks."""
    rng = random.Random(seed)
    retry = _exact(rng, count, RETRY_SHARE)
    off = _exact(rng, count, OFF_HOURS_SHARE)
    docs = _exact(rng, count, DOCS_SHARE)
    priorities: list[str] = []
    for name, share in PRIORITIES:
        priorities += [name] * round(count * share)
    priorities = (priorities + ["normal"] * count)[:count]
    rng.shuffle(priorities)
    mu_in, mu_out = math.log(50_000), math.log(5_000)
    for i in range(count):
        labels = [rng.choice(("documentation", "docs"))] if docs[i] else [rng.choice(OTHER_LABELS)]
        scale = 0.5 if docs[i] else 1.0
        yield {
            "priority": priorities[i],
            "labels": labels,
            "retry_count": (1 if rng.random() < 0.75 else 2) if retry[i] else 0,
            "hour": rng.randrange(0, 8) if off[i] else rng.randrange(8, 24),
            "input_tokens": int(scale * rng.lognormvariate(mu_in, 0.6)),
            "output_tokens": int(scale * rng.lognormvariate(mu_out, 0.6)),
        }


def write(out: TextIO, count: int, seed: int) -> None:
    dumps = json.dumps
    out.writelines(dumps(t, separators=(", ", ": ")) + "\n" for t in tasks(count, seed))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
    args = ap.parse_args(argv)
    if args.output == "-":
        write(sys.stdout, args.count, args.seed)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            write(f, args.count, args.seed)


if __name__ == "__main__":
    main()
