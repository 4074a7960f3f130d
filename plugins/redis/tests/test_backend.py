"""RedisState and SqliteState against the same contract; config checks; faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tacroute.config.loader import parse_config
from tacroute.errors import ConfigError
from tacroute.history import HistoryStore
from tacroute.history import plugin as history_plugin
from tacroute.history.slots import BudgetRefused, ProviderLimits, SlotRefused
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


KEY, DAY = "project:a", "day:2025-06-01"
NONE = ProviderLimits()


def test_holds_count_until_released_with_the_actual_cost(backend: StateBackend) -> None:
    r = Reservation(KEY, DAY, 1.0, 2.5)
    a = backend.acquire("r", 1, "p", "m", NONE, time.time(), [r])
    b = backend.acquire("r", 2, "p", "m", NONE, time.time(), [r])  # 1.0 held: 1.5 left
    c = backend.acquire("r", 3, "p", "m", NONE, time.time(), [r])  # 2.0 held: 0.5 left
    with pytest.raises(BudgetRefused) as refused:
        backend.acquire("r", 4, "p", "m", NONE, time.time(), [r])  # 3.0 held: nothing left
    assert refused.value.committed == pytest.approx(3.0) and refused.value.key == KEY
    assert a.release(0.25)  # the hold of 1.0 becomes 0.25 spent
    assert backend.spend(KEY, DAY) == pytest.approx(0.25)
    with pytest.raises(BudgetRefused) as refused:
        backend.acquire("r", 5, "q", "m", NONE, time.time(), [Reservation(KEY, DAY, 0.0, 2.25)])
    assert refused.value.committed == pytest.approx(2.25)
    b.release()  # failed or cancelled at no cost: the hold is gone, nothing spent
    c.release(1.5)
    assert backend.spend(KEY, DAY) == pytest.approx(1.75)
    assert backend.spend_periods([DAY]) == [{KEY: pytest.approx(1.75)}]
    backend.acquire("r", 6, "p", "m", NONE, time.time(), [r]).release()  # no hold left: 0.75 left


def test_a_refused_slot_holds_nothing_and_a_refused_hold_takes_no_slot(backend: StateBackend) -> None:
    one = ProviderLimits(1, None)
    r = Reservation(KEY, DAY, 1.0, 10.0)
    a = backend.acquire("r", 1, "p", "m", one, time.time(), [r])
    with pytest.raises(SlotRefused, match="max_concurrent = 1") as refused:
        backend.acquire("r", 2, "p", "m", one, time.time(), [r])
    assert not isinstance(refused.value, BudgetRefused)
    with pytest.raises(BudgetRefused) as held:  # only a's hold counts
        backend.acquire("r", 3, "q", "m", NONE, time.time(), [Reservation(KEY, DAY, 0.0, 1.0)])
    assert held.value.committed == pytest.approx(1.0)
    a.release()
    with pytest.raises(BudgetRefused):
        backend.acquire("r", 4, "p", "m", one, time.time(), [Reservation(KEY, DAY, 1.0, 0.0)])
    assert backend.snapshot(["p"], time.time()).usage.running.get("p", 0) == 0  # and no slot was taken


def test_keep_floor_and_unchecked_reservations(backend: StateBackend) -> None:
    with pytest.raises(BudgetRefused) as refused:  # the history says 1.6: 0.4 left, under reserve_usd
        backend.acquire("r", 1, "p", "m", NONE, time.time(), [Reservation(KEY, DAY, 0.1, 2.0, 0.5, 1.6)])
    assert refused.value.committed == pytest.approx(1.6)
    lease = backend.acquire("r", 2, "p", "m", NONE, time.time(), [Reservation(KEY, DAY, 0.1, 2.0, 0.5, 1.4)])
    free = backend.acquire("r", 3, "p", "m", NONE, time.time(), [Reservation("user:b", DAY, 9.0, -1.0)])
    lease.release(0.5)
    free.release(0.5)  # not checked, nothing held, but the cost counts
    assert backend.spend_periods([DAY]) == [{KEY: 0.5, "user:b": 0.5}]


def test_an_operation_id_counts_once(backend: StateBackend) -> None:
    assert backend.add_spend([("u", "2025-06", 1.25), ("v", "2025-06", 0.5)], "op-1")
    assert not backend.add_spend([("u", "2025-06", 1.25), ("v", "2025-06", 0.5)], "op-1")  # a replay
    backend.add_spend([("u", "2025-06", 0.75)])
    assert backend.spend("u", "2025-06") == 2.0 and backend.spend("v", "2025-06") == 0.5
    assert backend.spend("u", "2025-07") == 0.0


def test_a_dead_machines_hold_ends_with_its_lease(redis_server: RedisServer) -> None:
    state = RedisState(redis_server.url, lease_ttl_s=1)
    r = Reservation(KEY, DAY, 1.0, 1.0)
    lease = state.acquire("r", 1, "p", "m", NONE, time.time(), [r])
    with pytest.raises(BudgetRefused):
        state.acquire("r", 2, "p", "m", NONE, time.time(), [r])
    lease._stop.set()  # type: ignore[attr-defined]  # the machine dies: no renewal, no release
    lease._thread.join()  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while True:
        try:
            state.acquire("r", 3, "p", "m", NONE, time.time(), [r]).release()
            break
        except BudgetRefused:
            assert time.monotonic() < deadline, "the hold outlived its lease"
            time.sleep(0.1)
    assert state.spend(KEY, DAY) == 0.0


def test_a_dead_processs_hold_is_dropped_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    code = ("import sys, time; from tacroute.history import HistoryStore; from tacroute.state.sqlite import "
            "SqliteState; from tacroute.state import Reservation; from tacroute.history.slots import "
            "ProviderLimits; s = SqliteState(HistoryStore(sys.argv[1])); s.acquire('c', 1, 'p', 'm', "
            f"ProviderLimits(), time.time(), [Reservation({KEY!r}, {DAY!r}, 1.0, 1.0)]); "
            "print('held', flush=True); time.sleep(600)")
    child = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        state = SqliteState(HistoryStore(db))
        r = Reservation(KEY, DAY, 1.0, 1.0)
        with pytest.raises(BudgetRefused):
            state.acquire("r", 1, "p", "m", NONE, time.time(), [r])
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
        state.acquire("r", 2, "p", "m", NONE, time.time(), [r]).release()
        state.close()
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()


def test_spend_periods_reads_every_key_of_each_period_at_once(backend: StateBackend) -> None:
    backend.add_spend([("project:a", "day:2025-06-01", 1.5), ("user:b", "day:2025-06-01", 0.25),
                       ("project:a", "month:2025-06", 3.0)])
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
