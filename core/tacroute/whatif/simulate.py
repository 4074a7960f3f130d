"""``tacroute simulate``: route a JSON-lines file of tasks and price the result.

Each line is one JSON object: the task's attributes (``priority``,
``labels``, ``retry_count``, ``hour``, any custom attribute) and optionally
``input_tokens``, ``output_tokens``, ``cache_read_tokens`` and
``cache_creation_tokens``; missing counts come from the defaults
(``[estimate]`` or the CLI options). Blank lines are skipped.

What makes a million lines take about a second:

* lines are parsed with orjson; the token fields are taken out, and the rest
  of the object, serialised again, is the key of a memo: tasks with the same
  attributes get the same decision, so the router (and the attribute checks)
  run once per distinct attribute set, not once per line. Decisions of
  ``weighted`` rules are random and are never memoised. The memo assumes that
  a decision depends only on the task and the time of day, which is what
  conditions read; tasks without ``hour`` route with the current hour, as
  ``tacroute route`` does. It stops growing at :data:`MEMO_LIMIT` entries;
* per (decision under A, decision under B) only task counts and token sums
  are kept (cost is linear in tokens), and priced once at the end;
* big files are split at line boundaries and scanned by forked worker
  processes (one per core), whose tallies are merged.

Simulation assumes every provider the config enables is available: it asks
what the rules would do, not what this machine can run right now.

``[projects]`` / ``[users]`` apply as they do to ``tacroute route``. A task
may carry ``started_at`` (epoch seconds or ISO 8601): its time, which gives
it its ``hour`` when it has none and, with budgets, the period its cost
counts in. Budgets make every task's decision depend on the ones before it:
such a config is scanned in file order, in-process, without the memo
(:mod:`tacroute.whatif.ordered`).
"""

from __future__ import annotations

import itertools
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tacroute.config.model import Config
from tacroute.errors import UsageError
from tacroute.pricing import PricingTable, estimate_usage
from tacroute.taskattrs import task_problem as check_task
from tacroute.types import Task, Usage
from tacroute.whatif.compare import simulate_report
from tacroute.whatif.inputs import (
    TaskFileError,
    config_models,
    parse_baseline,
    require_prices,
    target_of,
)
from tacroute.whatif.ordered import scan_ordered, timed, tokens
from tacroute.whatif.sides import WhatIfSide
from tacroute.whatif.tally import (
    Group,
    Report,
    Tally,
)

__all__ = ["MEMO_LIMIT", "Simulator", "TaskFileError", "check_task", "scan_file", "simulate", "simulate_data"]

#: Distinct attribute sets remembered per process; past it, decisions are not memoised.
MEMO_LIMIT = 200_000
#: Files smaller than this are scanned in-process.
PARALLEL_MIN_BYTES = 4 << 20
_RANDOM = Group()  # marker: this attribute set's decision is drawn per task


class Simulator:
    """Routes tasks under config A (and B) and tallies them; one per process."""

    def __init__(self, a: Config, b: Config | None = None, defaults: Usage | None = None,
                 seed: int | None = 0, sample_cap: int = 10, start: float | None = None) -> None:
        self.rng_a = random.Random(seed)
        self.rng_b = random.Random(None if seed is None else seed + 1)
        #: The time of tasks without ``started_at``; ``tz``: the zone of hours and budget periods.
        self.start = time.time() if start is None else start
        self.tz = a.timezone
        self.side_a = WhatIfSide(a, self.rng_a, self.start)
        self.side_b = WhatIfSide(b, self.rng_b, self.start) if b is not None else None
        self.a = self.side_a.router
        self.b = self.side_b.router if self.side_b is not None else None
        self.random_a = self.side_a.weighted
        self.random_b = self.side_b.weighted if self.side_b is not None else set()
        #: Budgets: route every task in file order, in this process, without the memo.
        self.ordered = self.side_a.budgeted or (self.side_b is not None and self.side_b.budgeted)
        self.defaults = defaults if defaults is not None else Usage()
        self.sample_cap = sample_cap
        self.tally = Tally()
        self.memo: dict[bytes, Group] = {}
        #: Processes the last :func:`scan_file` used.
        self.workers_used = 0

    def reset(self, seed: int | None) -> None:
        """Fresh tally and RNG streams (a forked worker gets its own seed)."""
        self.tally = Tally()
        self.memo = {}
        if seed is not None:
            self.rng_a.seed(seed)
            self.rng_b.seed(seed + 1)

    def group_for(self, task: Task) -> Group:
        da = self.a.route(task)
        db = self.b.route(task) if self.b is not None else None
        return self.tally.group(target_of(da), None if db is None else target_of(db))

    def resolve(self, task: dict[str, Any], key: bytes, where: Callable[[], tuple[str, int]]) -> Group:
        """First sight of an attribute set: check it, route it, memoise when deterministic."""
        problem = check_task(task)
        if problem is not None:
            raise TaskFileError(*where(), problem)
        da = self.a.route(task)
        db = self.b.route(task) if self.b is not None else None
        g = self.tally.group(target_of(da), None if db is None else target_of(db))
        if da.rule in self.random_a or (db is not None and db.rule in self.random_b):
            g = _RANDOM
        if len(self.memo) < MEMO_LIMIT:
            self.memo[key] = g
        return g

    def scan(self, data: bytes, name: str, first_line: int = 1) -> int:
        """Tally every line of ``data``; returns the number of lines (newlines) read."""
        if self.ordered:
            return scan_ordered(self, data, name, first_line)
        loads, dumps, decode_error = orjson.loads, orjson.dumps, orjson.JSONDecodeError
        memo, resolve, group_for = self.memo, self.resolve, self.group_for
        d_in, d_out, d_cr, d_cw = (self.defaults.input_tokens, self.defaults.output_tokens,
                                   self.defaults.cache_read_tokens, self.defaults.cache_creation_tokens)
        sample, cap = self.tally.changed_sample, self.sample_cap
        lineno = first_line - 1

        def where() -> tuple[str, int]:
            return name, lineno

        for line in data.split(b"\n"):
            lineno += 1
            try:
                obj = loads(line)
            except decode_error as exc:
                if not line.strip():
                    continue
                raise TaskFileError(name, lineno, f"not valid JSON ({exc})") from None
            if type(obj) is not dict:
                raise TaskFileError(name, lineno, f"must be a JSON object of task attributes, "
                                    f"not {type(obj).__name__}")
            i = obj.pop("input_tokens", d_in)
            o = obj.pop("output_tokens", d_out)
            cr = obj.pop("cache_read_tokens", d_cr) if "cache_read_tokens" in obj else d_cr
            cw = obj.pop("cache_creation_tokens", d_cw) if "cache_creation_tokens" in obj else d_cw
            if type(i) is not int or type(o) is not int or type(cr) is not int or type(cw) is not int \
                    or i < 0 or o < 0 or cr < 0 or cw < 0:
                i, o, cr, cw = tokens(name, lineno, (i, o, cr, cw), self.defaults)
            if "started_at" in obj:
                timed(obj, self, name, lineno)
            key = dumps(obj)
            g = memo.get(key)
            if g is None:
                g = resolve(obj, key, where)
            if g is _RANDOM:
                g = group_for(obj)
            g.tasks += 1
            g.input_tokens += i
            g.output_tokens += o
            g.cache_read_tokens += cr
            g.cache_creation_tokens += cw
            if g.changed and len(sample) < cap:
                sample.append(lineno)
        return data.count(b"\n")


# ------------------------------------------------------------------- parallel
@dataclass(frozen=True)
class _Chunk:
    start: int
    end: int
    seed: int | None


_WORKER: Simulator | None = None
_WORKER_PATH: Path | None = None


def _scan_chunk(chunk: _Chunk) -> tuple[int, Tally | None, int | None, str | None]:
    """In a forked worker: (newlines, tally, error line within chunk, error text)."""
    sim, path = _WORKER, _WORKER_PATH
    assert sim is not None and path is not None
    sim.reset(chunk.seed)
    with open(path, "rb") as f:
        f.seek(chunk.start)
        data = f.read(chunk.end - chunk.start)
    try:
        sim.scan(data, "", 1)
    except TaskFileError as exc:
        return data.count(b"\n"), None, exc.line, exc.detail
    return data.count(b"\n"), sim.tally, None, None


def _chunks(path: Path, size: int, n: int, seed: int | None) -> list[_Chunk]:
    cuts = [0]
    with open(path, "rb") as f:
        for k in range(1, n):
            f.seek(max(size * k // n, cuts[-1]))
            f.readline()
            cuts.append(min(f.tell(), size))
    cuts.append(size)
    return [_Chunk(a, b, None if seed is None else seed + 1000 * k)
            for k, (a, b) in enumerate(itertools.pairwise(cuts)) if b > a]


def scan_file(sim: Simulator, path: Path, workers: int | None = None) -> Tally:
    """Tally a whole tasks file, in parallel when it is big and fork is available."""
    global _WORKER, _WORKER_PATH
    size = path.stat().st_size
    if workers is None:
        workers = min(os.cpu_count() or 1, 8)
    import multiprocessing
    import threading

    # Forking a process that runs other threads can deadlock on their locks: scan in-process then.
    if workers <= 1 or sim.ordered or size < PARALLEL_MIN_BYTES or threading.active_count() > 1 \
            or "fork" not in multiprocessing.get_all_start_methods():
        sim.scan(path.read_bytes(), str(path))
        sim.workers_used = 1
        return sim.tally
    seed = sim.rng_a.randrange(1 << 30) if sim.random_a or sim.random_b else None
    chunks = _chunks(path, size, workers, seed)
    _WORKER, _WORKER_PATH = sim, path
    try:
        with multiprocessing.get_context("fork").Pool(len(chunks)) as pool:
            results = pool.map(_scan_chunk, chunks)
    finally:
        _WORKER, _WORKER_PATH = None, None
    tally = Tally()
    lines_before = 0
    for newlines, part, err_line, err_text in results:
        if part is None:
            raise TaskFileError(str(path), lines_before + (err_line or 0), err_text or "")
        for i, ln in enumerate(part.changed_sample):
            part.changed_sample[i] = ln + lines_before
        tally.merge(part, sim.sample_cap)
        lines_before += newlines
    sim.tally = tally
    sim.workers_used = len(chunks)
    return tally


def simulate(config: Config, path: Path, *, compare: Config | None = None, baseline: str | None = None,
             defaults: Usage | None = None, workers: int | None = None, seed: int | None = 0,
             sample_cap: int = 10) -> Report:
    """Route every task of a JSON-lines file under ``config`` (and ``compare``) and price it."""
    sim, base, pricing = _prepare(config, compare, baseline, defaults, seed, sample_cap)
    if not path.is_file():
        raise UsageError(f"tasks file not found: {path}")
    return simulate_report(scan_file(sim, path, workers), sim.defaults, config, compare, base, pricing,
                           str(path))


def simulate_data(config: Config, data: bytes, name: str, *, compare: Config | None = None,
                  baseline: str | None = None, defaults: Usage | None = None, seed: int | None = 0,
                  sample_cap: int = 10) -> Report:
    """:func:`simulate` on JSON lines held in memory (an upload), in this process;
    ``name`` stands for the file in messages."""
    sim, base, pricing = _prepare(config, compare, baseline, defaults, seed, sample_cap)
    sim.scan(data, name)
    return simulate_report(sim.tally, sim.defaults, config, compare, base, pricing, name)


def _prepare(config: Config, compare: Config | None, baseline: str | None, defaults: Usage | None,
             seed: int | None, sample_cap: int) -> tuple[Simulator, tuple[str, str], PricingTable]:
    defaults, base, pricing_a = priced(config, compare, baseline, defaults)
    return Simulator(config, compare, defaults, seed, sample_cap), base, pricing_a


def priced(config: Config, compare: Config | None, baseline: str | None, defaults: Usage | None,
           ) -> tuple[Usage, tuple[str, str], PricingTable]:
    """(token defaults, baseline, config A's prices), once every model either config routes to
    has a price (else a UsageError naming them)."""
    defaults = defaults if defaults is not None else estimate_usage(config.raw)
    base = parse_baseline(baseline, config)
    pricing_a = PricingTable.load(config.raw)
    require_prices(pricing_a, [*config_models(config), base[1]], config)
    if compare is not None:
        require_prices(PricingTable.load(compare.raw), config_models(compare), compare)
    return defaults, base, pricing_a
