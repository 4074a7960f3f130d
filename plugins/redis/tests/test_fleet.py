"""Three coordinator "machines" (processes with their own HOME and history file) on one real Redis;
budgets across machines at the end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tacroute.history import HistoryStore
from tacroute_redis.backend import RedisState
from testkit.redis_server import RedisServer
from testkit.script_provider import script_config

MACHINE = Path(__file__).with_name("machine.py")


def _config(folder: Path, url: str, model: str, *, max_concurrent: int = 2, lease_ttl_s: float = 30,
            retry_s: float = 5) -> Path:
    path = script_config(folder, [model])
    text = path.read_text(encoding="utf-8").replace(
        'type = "script"\n', f'type = "script"\nmax_concurrent = {max_concurrent}\n', 1)
    text += (f'\n[state]\nbackend = "redis"\nurl = "{url}"\nlease_ttl_s = {lease_ttl_s}\n'
             f"retry_s = {retry_s}\ntimeout_ms = 200\n")
    path.write_text(text, encoding="utf-8")
    return path


def _machine(tmp: Path, name: str, config: Path, mode: str, n: int = 1,
             extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], Path]:
    home = tmp / name
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home), "TACROUTE_HISTORY": str(home / "history.db"),
           "XDG_DATA_HOME": str(home / "data"), **(extra_env or {})}
    proc = subprocess.Popen([sys.executable, str(MACHINE), str(config), mode, str(n)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=home)
    return proc, home / "history.db"


def _until(check: Callable[[], Any], limit_s: float = 60.0) -> Any:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {limit_s} s")


def test_three_machines_never_run_more_than_max_concurrent_at_once(redis_server: RedisServer,
                                                                   tmp_path: Path) -> None:
    log = tmp_path / "slots.log"
    config = _config(tmp_path, redis_server.url, "slow", max_concurrent=2)
    env = {"SLOT_LOG": str(log), "SLOW_S": "1"}
    machines = [_machine(tmp_path, f"m{i}", config, "runs", 10, env) for i in range(3)]
    results = []
    for proc, _ in machines:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results += [json.loads(line) for line in out.splitlines()]
    assert len(results) == 30 and all(r["success"] for r in results), results
    running = most = starts = 0
    for line in log.read_text().splitlines():
        running += 1 if line.startswith("start") else -1
        starts += line.startswith("start")
        most = max(most, running)
    assert starts == 30
    assert most == 2  # the limit was reached, and never passed, over the three machines
    for _, db in machines:  # each machine's own history keeps its own runs
        with HistoryStore(db) as store:
            assert store.count("runs") == 10
    fleet = {(r.provider, r.model): r for r in RedisState(redis_server.url).fleet()}
    assert fleet["s0", "slow"].attempts == 30 and fleet["s0", "slow"].successes == 30


def test_a_cooldown_from_one_machines_429_is_honoured_by_the_others(redis_server: RedisServer,
                                                                   tmp_path: Path) -> None:
    config = _config(tmp_path, redis_server.url, "limit60")
    proc, _ = _machine(tmp_path, "a", config, "runs", 1)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "rate_limit" in out
    for name in ("b", "c"):
        other, other_db = _machine(tmp_path, name, config, "route")
        out, err = other.communicate(timeout=120)
        decision = json.loads(out)
        assert not decision["available"]
        (skipped,) = decision["skipped"]
        assert skipped["provider"] == "s0" and skipped["reason"].startswith("cooldown until"), skipped
        assert "rate limited" in skipped["reason"]
        assert not other_db.exists() or HistoryStore(other_db).cooldowns() == []  # not from its own file


def test_a_killed_machines_slot_is_free_again_within_the_lease_ttl(redis_server: RedisServer,
                                                                   tmp_path: Path) -> None:
    config = _config(tmp_path, redis_server.url, "hang", max_concurrent=1, lease_ttl_s=2)
    state = RedisState(redis_server.url)
    proc, _ = _machine(tmp_path, "a", config, "runs", 1)
    try:
        _until(lambda: state.snapshot(["s0"], time.time()).usage.running.get("s0") == 1)
        time.sleep(2.5)  # longer than the TTL: the lease is renewed while the attempt runs
        assert state.snapshot(["s0"], time.time()).usage.running["s0"] == 1
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        _until(lambda: state.snapshot(["s0"], time.time()).usage.running.get("s0") == 0, 60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_redis_stopping_mid_run_and_coming_back(redis_server: RedisServer, tmp_path: Path) -> None:
    config = _config(tmp_path, redis_server.url, "ok", retry_s=0.3)
    stop = tmp_path / "stop"
    state = RedisState(redis_server.url)

    def fleet_attempts() -> int:
        rows = state.fleet()
        return rows[0].attempts if rows else 0

    proc, db = _machine(tmp_path, "a", config, "loop", extra_env={"STOP_FILE": str(stop)})
    try:
        _until(lambda: fleet_attempts() >= 3)
        redis_server.stop()
        with HistoryStore(db) as store:
            before = store.count("runs")
            _until(lambda: store.count("runs") >= before + 3)  # runs go on, recorded locally
        redis_server.start()  # the same port, empty: nothing was saved
        _until(lambda: fleet_attempts() >= 3)  # shared state resumed: aggregates grow again
        stop.touch()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    runs = [json.loads(line) for line in out.splitlines()]
    assert runs and all(r["success"] for r in runs)
    assert "Traceback" not in err
    assert "state: degraded" in err and "state is back" in err
    with HistoryStore(db) as store:
        assert store.count("runs") == len(runs)  # no local history lost


# ------------------------------------------------------------ budgets across machines
TASK = {"TASK": json.dumps({"project": "acme/api"})}


def _budget_config(tmp: Path, url: str, over: str) -> Path:
    path = _config(tmp, url, "ok")
    with path.open("a", encoding="utf-8") as f:  # each ok run reports $0.01
        f.write(f'\n[projects."acme/api"]\nbudget = {{ daily_usd = 0.05, over = "{over}" }}\n')
    return path


def _runs(tmp: Path, name: str, config: Path, n: int) -> Path:
    proc, db = _machine(tmp, name, config, "runs", n, TASK)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert [json.loads(line)["success"] for line in out.splitlines()] == [True] * n, out
    return db


def _route(tmp: Path, name: str, config: Path) -> dict[str, object]:
    proc, _ = _machine(tmp, name, config, "route", 1, TASK)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    decision: dict[str, object] = json.loads(out)
    return decision


def test_two_machines_spend_one_project_budget_together(redis_server: RedisServer, tmp_path: Path) -> None:
    config = _budget_config(tmp_path, redis_server.url, "block")
    db_a = _runs(tmp_path, "a", config, 3)
    assert _route(tmp_path, "b", config)["available"]  # $0.03 of $0.05 spent so far
    db_b = _runs(tmp_path, "b", config, 2)
    for db, n in ((db_a, 3), (db_b, 2)):  # each machine's own history is under the budget
        with HistoryStore(db) as store:
            assert store.count("runs") == n
    day = f"day:{time.strftime('%Y-%m-%d')}"
    assert RedisState(redis_server.url).spend("project:acme/api", day) >= 0.0499
    for name in ("a", "b"):  # the fleet's $0.05 is spent: either machine's next decision is blocked
        decision = _route(tmp_path, name, config)
        assert not decision["available"], decision
        assert "daily budget of project 'acme/api' is spent: $0.05 of $0.05" in str(decision["reason"])
    proc, _ = _machine(tmp_path, "b", config, "budgets", 1, TASK)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    rows = [r for r in json.loads(out)["budgets"] if r["period"] == "day"]
    assert [(r["name"], r["state"]) for r in rows] == [("acme/api", "blocked")]  # the fleet's spend, not b's
    assert rows[0]["spent_usd"] >= 0.0499


def test_a_downgrade_budget_downgrades_on_the_other_machine(redis_server: RedisServer, tmp_path: Path) -> None:
    config = _config(tmp_path, redis_server.url, "ok")
    with config.open("a", encoding="utf-8") as f:
        f.write('\n[projects."acme/api"]\nbudget = { daily_usd = 0.02, over = "downgrade", to = "s0/cheap" }\n')
    _runs(tmp_path, "a", config, 2)
    decision = _route(tmp_path, "b", config)
    assert decision["available"] and decision["model"] == "cheap", decision


def test_while_redis_is_down_the_machines_own_history_counts(redis_server: RedisServer,
                                                             tmp_path: Path) -> None:
    config = _budget_config(tmp_path, redis_server.url, "block")
    _runs(tmp_path, "a", config, 3)
    _runs(tmp_path, "b", config, 2)
    assert not _route(tmp_path, "a", config)["available"]
    redis_server.stop()
    proc, _ = _machine(tmp_path, "a", config, "route", 1, TASK)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert json.loads(out)["available"]  # this machine alone spent $0.03 of $0.05
    assert "state: degraded" in err and "Traceback" not in err


# ------------------------------------------------------------ budget holds racing
RACE_TASK = {"TASK": json.dumps({"project": "acme/api"})}
#: Each run of model ``slow`` is estimated at $0.01 ([estimate] 1 token at $10,000 per million) and
#: reports $0.01; a daily budget of $0.025 then admits exactly 3 runs (0, 0.01, 0.02 committed).
BUDGET_TABLES = ('\n[pricing."slow"]\ninput = 10000.0\noutput = 0.0\n\n[estimate]\ninput_tokens = 1\n'
                 'output_tokens = 0\n\n[projects."acme/api"]\nbudget = { daily_usd = 0.025, over = "block" }\n')


def _race(tmp: Path, config: Path, shared_history: Path | None) -> list[dict[str, Any]]:
    log = tmp / "slots.log"
    env = {**RACE_TASK, "SLOT_LOG": str(log), "SLOW_S": "3"}
    if shared_history is not None:  # one machine: every process shares the history file
        env["TACROUTE_HISTORY"] = str(shared_history)
    machines = [_machine(tmp, f"m{i}", config, "runs", 3, env) for i in range(3)]
    results = []
    for proc, _ in machines:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err
        results += [json.loads(line) for line in out.splitlines()]
    assert len(results) == 9
    starts = sum(line.startswith("start") for line in log.read_text().splitlines())
    assert starts == 3, results  # exactly the 3 runs the budget allows started, of 9 racing
    return results


def _refusals_are_clear(results: list[dict[str, Any]]) -> None:
    assert sum(r["success"] for r in results) == 3
    for r in results:
        if not r["success"]:
            assert r["refused"], r
            assert "no available provider for this task: daily budget of project 'acme/api' is" in r["error"]
            assert "blocked until it resets" in r["error"]


def test_nine_runs_on_three_machines_race_for_a_budget_of_three(redis_server: RedisServer,
                                                                 tmp_path: Path) -> None:
    config = _config(tmp_path, redis_server.url, "slow", max_concurrent=20)
    with config.open("a", encoding="utf-8") as f:
        f.write(BUDGET_TABLES)
    _refusals_are_clear(_race(tmp_path, config, None))
    day = f"day:{time.strftime('%Y-%m-%d')}"
    state = RedisState(redis_server.url)
    assert abs(state.spend("project:acme/api", day) - 0.03) < 1e-9  # the 3 runs' actual cost, once each
    assert state.client.hlen("tacroute:holds") == 0  # every hold was settled


def test_nine_runs_race_for_a_budget_of_three_on_one_sqlite_file(tmp_path: Path) -> None:
    config = script_config(tmp_path, ["slow"])
    with config.open("a", encoding="utf-8") as f:
        f.write(BUDGET_TABLES)
    db = tmp_path / "shared-history.db"
    _refusals_are_clear(_race(tmp_path, config, db))
    with HistoryStore(db) as store:
        assert store.count("runs") == 9 - 6 + 0  # the refused ones never ran (no run recorded)


def _outbox_rows(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM state_outbox").fetchone()[0])


def test_spend_and_aggregates_made_while_redis_is_down_are_replayed_once(redis_server: RedisServer,
                                                                          tmp_path: Path) -> None:
    import sqlite3

    config = _config(tmp_path, redis_server.url, "ok", retry_s=0.3)
    with config.open("a", encoding="utf-8") as f:
        f.write('\n[projects."acme/api"]\nbudget = { daily_usd = 100 }\n')
    day = f"day:{time.strftime('%Y-%m-%d')}"
    _runs(tmp_path, "a", config, 2)  # reach Redis directly
    state = RedisState(redis_server.url)
    state.client.save()  # kept over the restart below
    redis_server.stop()
    proc, db = _machine(tmp_path, "a", config, "runs", 3, TASK)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "state: degraded" in err, err
    assert [json.loads(line)["success"] for line in out.splitlines()] == [True] * 3
    assert _outbox_rows(db) == 6  # 3 attempts' aggregates and 3 attempts' cost, kept locally
    with sqlite3.connect(db) as conn:
        kept = conn.execute("SELECT id, kind, body, at FROM state_outbox").fetchall()
    redis_server.start()  # the saved data comes back
    state = RedisState(redis_server.url)
    assert state.fleet()[0].attempts == 2
    _route(tmp_path, "a", config)  # the first call that reaches Redis replays the outbox
    assert _outbox_rows(db) == 0
    fleet = state.fleet()[0]
    assert (fleet.attempts, fleet.successes) == (5, 5)
    assert abs(state.spend("project:acme/api", day) - 0.05) < 1e-9
    with sqlite3.connect(db) as conn:  # the same rows again (a replay cut short, another process's)
        conn.executemany("INSERT INTO state_outbox (id, kind, body, at) VALUES (?, ?, ?, ?)", kept)
    _route(tmp_path, "b", config)  # b has nothing kept
    _route(tmp_path, "a", config)
    assert _outbox_rows(db) == 0
    assert state.fleet()[0].attempts == 5  # counted once
    assert abs(state.spend("project:acme/api", day) - 0.05) < 1e-9
