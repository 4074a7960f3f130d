"""RedisState and SqliteState against the same contract; config checks; faults."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tacroute.config.loader import parse_config
from tacroute.errors import ConfigError
from tacroute.history import HistoryStore
from tacroute.history import plugin as history_plugin
from tacroute.history.slots import ProviderLimits, SlotRefused
from tacroute.history.store import Cooldown
from tacroute.plugins import Registry
from tacroute.state import Reservation, StateBackend, StateUnavailable
from tacroute.state.sqlite import SqliteState
from tacroute_redis import plugin as redis_plugin
from tacroute_redis.backend import RedisState
from testkit.history import make_attempt
from testkit.redis_server import RedisServer


@pytest.fixture(params=["redis", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> StateBackend:
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        return RedisState(server.url, lease_ttl_s=30)
    return SqliteState(HistoryStore(tmp_path / "h.db"))


def test_slots_and_budget_are_taken_together_or_not_at_all(backend: StateBackend) -> None:
    limit = ProviderLimits(2, None)
    budget = Reservation("team-a", "2025-06", 1.0, 2.5)
    first = backend.acquire("r", 1, "p", "m", limit, time.time(), budget)
    backend.acquire("r", 2, "p", "m", limit, time.time(), budget)
    with pytest.raises(SlotRefused, match="max_concurrent = 2"):
        backend.acquire("r", 3, "p", "m", limit, time.time(), budget)
    assert backend.spend("team-a", "2025-06") == 2.0  # the refused slot reserved nothing
    first.release()
    with pytest.raises(SlotRefused, match="budget: 'team-a' has spent"):
        backend.acquire("r", 4, "p", "m", limit, time.time(), budget)  # 3.0 > 2.5
    assert backend.spend("team-a", "2025-06") == 2.0
    assert backend.snapshot(["p"], time.time()).usage.running["p"] == 1  # and no slot was taken


def test_spend_and_reserve(backend: StateBackend) -> None:
    assert backend.spend("u", "2025-06") == 0.0
    assert backend.add_spend("u", "2025-06", 1.25) == 1.25
    assert backend.reserve("u", "2025-06", 0.75, 2.0)
    assert not backend.reserve("u", "2025-06", 0.01, 2.0)
    assert backend.spend("u", "2025-06") == 2.0 and backend.spend("u", "2025-07") == 0.0


def test_spend_periods_reads_every_key_of_each_period_at_once(backend: StateBackend) -> None:
    backend.add_spend("project:a", "day:2025-06-01", 1.5)
    backend.add_spend("user:b", "day:2025-06-01", 0.25)
    backend.add_spend("project:a", "month:2025-06", 3.0)
    assert backend.spend_periods(["day:2025-06-01", "month:2025-06", "day:2025-06-02"]) == [
        {"project:a": 1.5, "user:b": 0.25}, {"project:a": 3.0}, {}]


def test_rpm_counts_starts_not_running_slots(backend: StateBackend) -> None:
    limit = ProviderLimits(None, 2)
    for n in (1, 2):
        backend.acquire("r", n, "p", "m", limit, time.time()).release()
    with pytest.raises(SlotRefused, match="rpm = 2"):
        backend.acquire("r", 3, "p", "m", limit, time.time())


def test_cooldowns_expire_by_themselves_and_the_later_one_wins(redis_server: RedisServer) -> None:
    state = RedisState(redis_server.url)
    now = time.time()
    state.put_cooldown(Cooldown("p", "m", now + 60, "rate_limit", "limited", now))
    state.put_cooldown(Cooldown("p", "m", now + 5, "failures", "3 failures", now))  # earlier: kept out
    (cool,) = state.snapshot([], now).cooldowns
    assert cool.kind == "rate_limit"
    state.put_cooldown(Cooldown("q", "m", time.time() + 0.3, "failures", "x", now))
    ttl = state.client.pttl(state._k("cool:", "q", "m"))
    assert isinstance(ttl, int) and 0 < ttl <= 300  # a PX TTL: Redis drops it at the end
    _wait(lambda: [c.provider for c in state.snapshot([], time.time()).cooldowns] == ["p"])


def test_aggregates_feed_fleet_rows_and_the_cheapest_stats(redis_server: RedisServer) -> None:
    from tacroute.types import ErrorClass, Usage

    state = RedisState(redis_server.url)
    for i in range(19):
        state.record_attempt(make_attempt(f"r{i}", provider="p", model="m", duration_ms=1000,
                                          usage=Usage(10, 2), cost_usd=0.5))
    state.record_attempt(make_attempt("x", provider="p", model="m", success=False,
                                      error_class=ErrorClass.RATE_LIMIT, duration_ms=9000))
    state.record_attempt(make_attempt("y", provider="p", model="m", success=False,
                                      error_class=ErrorClass.CANCELLED, duration_ms=5))
    (row,) = state.fleet()
    assert (row.attempts, row.successes, row.cancelled) == (21, 19, 1)
    assert row.failures == {"rate_limit": 1, "cancelled": 1}
    assert row.input_tokens == 190 and row.cost_usd == pytest.approx(9.5)
    assert 1.0 <= row.p50_duration_s <= 1.25 and 1.0 <= row.p95_duration_s <= 1.25  # type: ignore[operator]
    st = state.model_stats()["p", "m"]
    assert st.samples == 20 and st.success_rate == pytest.approx(0.95)


def test_a_password_never_shows_in_errors_or_status(redis_server: RedisServer) -> None:
    secret = "s3cret-redis-pass"
    state = RedisState(f"redis://:{secret}@127.0.0.1:{redis_server.port}/0")
    assert secret not in state.where and "***" in state.where
    redis_server.stop()
    with pytest.raises(StateUnavailable) as info:
        state.snapshot([], time.time())
    assert secret not in str(info.value)


def test_a_hung_server_costs_one_timeout_not_a_hang(redis_server: RedisServer) -> None:
    state = RedisState(redis_server.url, timeout_s=0.2)
    state.snapshot([], time.time())  # connected
    assert redis_server.proc is not None
    os.kill(redis_server.proc.pid, signal.SIGSTOP)
    try:
        box: list[BaseException] = []
        worker = threading.Thread(target=lambda: _catch(box, lambda: state.snapshot([], time.time())))
        worker.start()
        worker.join(60)
        assert not worker.is_alive()
        assert box and isinstance(box[0], StateUnavailable) and "Timeout" in str(box[0])
    finally:
        os.kill(redis_server.proc.pid, signal.SIGCONT)


_BASE = ("[providers.p]\ncommand_template = ['x']\n[routing]\ndefault_provider = 'p'\n"
         "default_model = 'm'\n")


def test_the_state_table_is_checked_with_the_config() -> None:
    registry = Registry.from_plugins([history_plugin, redis_plugin])
    parse_config(_BASE + "[state]\nbackend = 'redis'\nurl = 'rediss://h:6380/0'\n"
                 "password_env = 'TACROUTE_REDIS_PASSWORD'\n", registry=registry)
    for bad, why in (("backend = 'redis'\nurl = 'http://x'", "must start with redis://"),
                     ("backend = 'memcached'", "unknown state backend 'memcached'"),
                     ("backend = 'redis'\ntimeout_ms = 0", "timeout_ms: must be between"),
                     ("backend = 'redis'\nurll = 'redis://x'", "unknown key in [state]"),
                     ("backend = 'sqlite'\nurl = 'redis://x'", "unknown key in [state]")):
        with pytest.raises(ConfigError, match=why.replace("[", r"\[").replace("]", r"\]")):
            parse_config(_BASE + "[state]\n" + bad + "\n", registry=registry)
    with pytest.raises(ConfigError, match="install tacroute-redis"):
        parse_config(_BASE + "[state]\nbackend = 'redis'\n", registry=Registry.from_plugins([history_plugin]))


def _catch(box: list[BaseException], fn: object) -> None:
    try:
        fn()  # type: ignore[operator]
    except BaseException as exc:  # noqa: BLE001
        box.append(exc)


def _wait(check: object, limit_s: float = 30.0) -> None:
    end = time.monotonic() + limit_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < end
        time.sleep(0.05)


def test_tacroute_state_shows_the_backend_and_whether_it_is_degraded(redis_server: RedisServer,
                                                                      tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    config = tmp_path / "tacroute.toml"
    config.write_text(_BASE.replace("['x']", "['x']\nmax_concurrent = 3") +
                      f"[state]\nbackend = 'redis'\nurl = 'redis://127.0.0.1:{redis_server.port}/0'\n"
                      "password_env = 'MY_REDIS_PASSWORD'\n", encoding="utf-8")
    env = {**os.environ, "MY_REDIS_PASSWORD": ""}
    cmd = [str(Path(sys.executable).with_name("tacroute")), "state", "--json", "--config", str(config)]
    up = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert up.returncode == 0, up.stderr
    data = json.loads(up.stdout)
    assert data["backend"] == "redis" and not data["degraded"] and data["slots"] == {"p": 0}
    redis_server.stop()
    down = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert down.returncode == 1 and json.loads(down.stdout)["degraded"]
    assert "Traceback" not in down.stderr
