"""RedisState: the :class:`tacroute.state.StateBackend` of several coordinator machines.

Keys (``PREFIX`` is ``[state] prefix``, default ``tacroute:``; ``P`` and ``M``
a provider and model name, joined by ``\\x1f``):

- ``PREFIX slots:P`` sorted set, lease id -> expiry (ms): the slots held;
- ``PREFIX starts:P`` sorted set, lease id -> start (ms): the ``rpm`` window;
- ``PREFIX cool:P\\x1fM`` a cooldown (JSON) that expires when it ends, listed in
  the set ``PREFIX cools``;
- ``PREFIX agg:P\\x1fM`` the aggregates (:mod:`tacroute_redis.aggregate`), listed in
  ``PREFIX aggs``;
- ``PREFIX spend:PERIOD`` a hash, budget key -> spend in that period (kept until deleted),
  so one ``HGETALL`` reads every budget's spend of a period;
- ``PREFIX holds`` a hash, lease id -> the budget it holds (JSON ``[[key, period, usd], ...]``),
  and ``PREFIX holdx`` a sorted set, lease id -> expiry (ms): a hold ends with its lease;
- ``PREFIX done:ID`` an operation already applied (a spend or an attempt, for
  :data:`DONE_TTL_MS`): a replay of it adds nothing.

Every redis-py failure becomes :class:`tacroute.state.StateUnavailable` with the
password masked; every call waits at most ``[state] timeout_ms`` (connect and
read) and is never retried here (the core's degraded mode decides when to try again).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tacroute.history.slots import BudgetRefused, ProviderLimits, SlotRefused, limit_reason
from tacroute.history.store import Cooldown, LimitsSnapshot
from tacroute.redact import Redactor
from tacroute.state import FleetRow, Lease, Reservation, Snapshot, StateStatus, StateUnavailable
from tacroute.state.api import spend_op_id
from tacroute.types import AttemptRecord, ModelStats
from tacroute_redis import aggregate, scripts
from tacroute_redis.lease import RedisLease

__all__ = ["RedisState", "public_url"]

T = TypeVar("T")
SEP = "\x1f"
WINDOW_MS = 60_000
#: How long an applied operation id is remembered (a replay of an older one would count again).
DONE_TTL_MS = 8 * 86_400_000


def public_url(url: str) -> str:
    """``url`` without its password (the user name is kept)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


class RedisState:
    """Shared state on one Redis server (standalone; not Redis Cluster)."""

    name = "redis"

    def __init__(self, url: str, *, prefix: str = "tacroute:", password: str | None = None,
                 timeout_s: float = 0.2, lease_ttl_s: float = 30.0) -> None:
        self.url = url
        self.where = public_url(url)
        self.prefix = prefix
        self.lease_ttl_s = lease_ttl_s
        self._redact = Redactor([password, urlsplit(url).password])
        try:
            self.client = redis.Redis.from_url(
                url, password=password or None, socket_timeout=timeout_s,
                socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0), health_check_interval=0,
                decode_responses=True)
        except (ValueError, redis.RedisError) as exc:
            raise StateUnavailable(f"bad redis URL {public_url(url)!r}: {self._redact(str(exc))}") from exc
        self._snapshot = self.client.register_script(scripts.SNAPSHOT)
        self._acquire = self.client.register_script(scripts.ACQUIRE)
        self._renew = self.client.register_script(scripts.RENEW)
        self._put_cooldown = self.client.register_script(scripts.PUT_COOLDOWN)
        self._release_script = self.client.register_script(scripts.RELEASE)
        self._spend = self.client.register_script(scripts.SPEND)
        self._aggregate = self.client.register_script(scripts.AGGREGATE)
        self._snapshot_calls: dict[tuple[str, ...], tuple[list[str], list[Any]]] = {}

    # ------------------------------------------------------------------ helpers
    def _do(self, what: Callable[[], T]) -> T:
        try:
            return what()
        except (redis.RedisError, OSError) as exc:
            text = self._redact(str(exc)) or type(exc).__name__
            raise StateUnavailable(f"redis at {public_url(self.url)}: {text}") from exc

    def _k(self, *parts: str) -> str:
        return self.prefix + parts[0] + SEP.join(parts[1:])

    # --------------------------------------------------------------- the gate
    def snapshot(self, providers: Collection[str], now: float) -> Snapshot:
        names = tuple(providers)
        call = self._snapshot_calls.get(names)
        if call is None:  # the keys of one provider set, built once (the gate asks for the same set)
            keys = [self._k("cools")]
            for p in names:
                keys += [self._k("slots:", p), self._k("starts:", p)]
            call = self._snapshot_calls[names] = (keys, [self._k("cool:"), WINDOW_MS])
        _, cools, counts = self._do(lambda: self._snapshot(*call))
        cooldowns = [c for c in (_cooldown(text) for text in cools) if c is not None]
        running = {p: int(counts[2 * i]) for i, p in enumerate(names)}
        started = {p: int(counts[2 * i + 1]) for i, p in enumerate(names)}
        return Snapshot(cooldowns, LimitsSnapshot(running, started))

    def acquire(self, run_id: str, attempt: int, provider: str, model: str, limit: ProviderLimits,
                now: float, reserve: Sequence[Reservation] = ()) -> Lease:
        lease_id = f"{run_id}.{attempt}.{os.urandom(4).hex()}"
        slots = self._k("slots:", provider)
        keys = [slots, self._k("starts:", provider)]
        ttl_ms = int(self.lease_ttl_s * 1000)
        args: list[Any] = [lease_id, ttl_ms, _limit(limit.max_concurrent), _limit(limit.rpm), WINDOW_MS]
        holds = [self._k("holds"), self._k("holdx")]
        if reserve:
            keys += holds
            args.append(json.dumps([[r.key, r.period, r.usd if r.cap >= 0 else 0.0] for r in reserve]))
            for r in reserve:
                keys.append(self._k("spend:", r.period))
                args += [r.key, r.period, repr(float(r.cap)), repr(float(r.keep)), repr(float(r.floor))]
        ok, why, running, started, *refused = self._do(lambda: self._acquire(keys, args))
        if not int(ok):
            if why == "b" and refused:
                r = reserve[int(refused[0]) - 1]
                raise BudgetRefused(r.key, r.period, _float(refused[1]), r.cap)
            raise SlotRefused(limit_reason(provider, limit, int(running), int(started))
                              or f"limit reached on provider {provider!r}")
        renew_keys = [slots, *holds] if reserve else [slots]
        spends = [(self._k("spend:", r.period), r.key) for r in reserve]
        done = self._k("done:", spend_op_id(run_id, attempt))
        return RedisLease(lambda: self._do(lambda: self._renew(renew_keys, [lease_id, ttl_ms])),
                          lambda spent: self._release(slots, holds, done, lease_id, spends, spent),
                          self.lease_ttl_s)

    def _release(self, slots: str, holds: list[str], done: str, lease_id: str,
                 spends: list[tuple[str, str]], spent: float) -> None:
        keys = [slots, *holds, done]
        args: list[Any] = [lease_id, DONE_TTL_MS, repr(float(spent))]
        if spent > 0 and spends:
            keys += [k for k, _ in spends]
            args += [field for _, field in spends]
        self._do(lambda: self._release_script(keys, args))

    def put_cooldown(self, cooldown: Cooldown) -> None:
        c = cooldown
        member = c.provider + SEP + c.model
        text = json.dumps({"provider": c.provider, "model": c.model, "until": c.until, "kind": c.kind,
                           "reason": c.reason, "set_at": c.set_at})
        self._do(lambda: self._put_cooldown([self._k("cool:", c.provider, c.model), self._k("cools")],
                                            [int(c.until * 1000), text, member]))

    # ------------------------------------------------------------- aggregates
    def record_attempt(self, record: AttemptRecord, op_id: str | None = None) -> None:
        add, cost = aggregate.increments(record)
        keys = [self._k("agg:", record.provider, record.model), self._k("aggs"),
                self._k("done:", op_id or "")]
        args: list[Any] = [DONE_TTL_MS if op_id else -1, record.provider + SEP + record.model,
                           "" if cost is None else repr(float(cost))]
        for field, n in add.items():
            args += [field, n]
        self._do(lambda: self._aggregate(keys, args))

    def _hashes(self) -> list[tuple[str, str, dict[str, str]]]:
        def read() -> list[tuple[str, str, dict[str, str]]]:
            members = sorted(str(m) for m in self.client.smembers(self._k("aggs")))
            pipe = self.client.pipeline(transaction=False)
            for m in members:
                pipe.hgetall(self.prefix + "agg:" + m)
            found = pipe.execute()
            return [(*m.split(SEP, 1), h) for m, h in zip(members, found) if SEP in m and h]

        return self._do(read)

    def model_stats(self) -> dict[tuple[str, str], ModelStats]:
        out = {}
        for p, m, h in self._hashes():
            st = aggregate.model_stats(h)
            if st is not None:
                out[p, m] = st
        return out

    def fleet(self) -> list[FleetRow]:
        return [aggregate.row(p, m, h) for p, m, h in self._hashes()]

    # ------------------------------------------------------------------ spend
    def add_spend(self, entries: Sequence[tuple[str, str, float]], op_id: str | None = None) -> bool:
        keys = [self._k("done:", op_id or "")]
        args: list[Any] = [DONE_TTL_MS if op_id else -1]
        for key, period, usd in entries:
            keys.append(self._k("spend:", period))
            args += [key, repr(float(usd))]
        return bool(int(self._do(lambda: self._spend(keys, args))))

    def spend(self, key: str, period: str) -> float:
        value = self._do(lambda: self.client.hget(self._k("spend:", period), key))
        return _float(value)

    def spend_periods(self, periods: Sequence[str]) -> list[dict[str, float]]:
        def read() -> list[dict[str, str]]:
            pipe = self.client.pipeline(transaction=False)
            for period in periods:
                pipe.hgetall(self._k("spend:", period))
            return pipe.execute()

        return [{str(k): _float(v) for k, v in h.items()} for h in self._do(read)]

    # ----------------------------------------------------------------- status
    def status(self, providers: Collection[str]) -> StateStatus:
        t0 = time.perf_counter()
        self._do(self.client.ping)
        latency = (time.perf_counter() - t0) * 1000
        snap = self.snapshot(providers, time.time())
        return StateStatus(self.name, public_url(self.url), True, False, round(latency, 3),
                           dict(snap.usage.running))

    def close(self) -> None:
        self.client.close()


def _float(value: Any) -> float:
    """A spend read back (0 when missing or not a number)."""
    try:
        return float(str(value)) if value else 0.0
    except ValueError:
        return 0.0


def _limit(value: int | None) -> int:
    return -1 if value is None else int(value)


def _cooldown(text: str) -> Cooldown | None:
    """A cooldown read back; one that makes no sense is skipped."""
    try:
        d: Mapping[str, Any] = json.loads(text)
        return Cooldown(str(d["provider"]), str(d["model"]), float(d["until"]), str(d["kind"]),
                        str(d["reason"]), float(d["set_at"]))
    except (ValueError, KeyError, TypeError):
        return None
