"""Cooldowns and rate limits: set and expire (injected clock), shared through SQLite."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.config import load_config
from tacroute.history import CooldownPolicy, HistoryGate, HistoryStore, open_gate
from tacroute.plugins import Registry
from tacroute.routing import ModelRouter
from tacroute.types import CandidateGate, ErrorClass
from testkit.history import make_attempt, notify_run

P, M = "claude-cli", "claude-opus-4"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _fail(store: HistoryStore, n: int, at: float, cls: ErrorClass = ErrorClass.OVERLOADED,
          retry_after_s: float | None = None, model: str = M) -> None:
    store.record_attempt(make_attempt(f"f{n}-{at}", 1, provider=P, model=model, success=False,
                                      error_class=cls, started_at=at, duration_ms=1000,
                                      retry_after_s=retry_after_s))


def test_repeated_failures_start_a_cooldown_that_expires(history_db: Path) -> None:
    store = HistoryStore(history_db, policy=CooldownPolicy(failures=3, window_s=600, cooldown_s=300))
    clock = Clock(1100.0)
    gate: CandidateGate = HistoryGate(store, clock=clock, refresh_s=0)
    _fail(store, 1, 1000.0)
    _fail(store, 2, 1010.0)
    assert gate.skip_reason(P, M) is None            # two failures: not yet
    _fail(store, 3, 1020.0)                           # third ends at 1021 -> cooldown until 1321
    reason = gate.skip_reason(P, M)
    assert reason is not None and "cooldown" in reason and "3 failures" in reason
    assert "221 s left" in reason
    assert gate.skip_reason(P, "claude-haiku-4") is None  # only that provider/model
    clock.now = 1320.9
    assert gate.skip_reason(P, M) is not None
    clock.now = 1321.0
    assert gate.skip_reason(P, M) is None


def test_failures_outside_the_window_or_before_a_success_do_not_count(history_db: Path) -> None:
    store = HistoryStore(history_db, policy=CooldownPolicy(failures=2, window_s=60, cooldown_s=300))
    gate = HistoryGate(store, clock=Clock(1150.0), refresh_s=0)
    _fail(store, 1, 1000.0)
    _fail(store, 2, 1100.0)                           # 100 s apart, window 60 s
    assert gate.skip_reason(P, M) is None
    store.record_attempt(make_attempt("ok", 1, provider=P, model=M, started_at=1110.0))
    _fail(store, 3, 1120.0)                           # 1 failure since the success
    assert gate.skip_reason(P, M) is None
    _fail(store, 4, 1130.0, cls=ErrorClass.BAD_REQUEST)  # not a provider failure by default
    assert gate.skip_reason(P, M) is None
    _fail(store, 5, 1140.0)
    assert gate.skip_reason(P, M) is not None


def test_success_ends_a_failure_cooldown(history_db: Path) -> None:
    store = HistoryStore(history_db, policy=CooldownPolicy(failures=1, cooldown_s=300))
    gate = HistoryGate(store, clock=Clock(1010.0), refresh_s=0)
    _fail(store, 1, 1000.0)
    assert gate.skip_reason(P, M) is not None
    store.record_attempt(make_attempt("late-ok", 1, provider=P, model=M, started_at=1001.0))
    assert gate.skip_reason(P, M) is None


def test_rate_limit_uses_retry_after(history_db: Path) -> None:
    store = HistoryStore(history_db, policy=CooldownPolicy(failures=5, cooldown_s=300))
    clock = Clock(1005.0)
    gate = HistoryGate(store, clock=clock, refresh_s=0)
    _fail(store, 1, 1000.0, cls=ErrorClass.RATE_LIMIT, retry_after_s=30)  # ends 1001 -> until 1031
    reason = gate.skip_reason(P, M)
    assert reason is not None and "rate limited (retry-after 30 s)" in reason
    clock.now = 1031.0
    assert gate.skip_reason(P, M) is None
    _fail(store, 2, 1040.0, cls=ErrorClass.RATE_LIMIT)  # no retry-after: cooldown_s
    clock.now = 1340.0
    assert "no retry-after" in (gate.skip_reason(P, M) or "")
    clock.now = 1341.0
    assert gate.skip_reason(P, M) is None


def test_a_shorter_cooldown_does_not_cut_a_longer_one(history_db: Path) -> None:
    store = HistoryStore(history_db, policy=CooldownPolicy(failures=1, cooldown_s=10))
    gate = HistoryGate(store, clock=Clock(1500.0), refresh_s=0)
    _fail(store, 1, 1000.0, cls=ErrorClass.RATE_LIMIT, retry_after_s=3600)
    _fail(store, 2, 1100.0)  # failures cooldown until 1111 < 4601
    assert "rate limited" in (gate.skip_reason(P, M) or "")


def test_cooldown_disabled(history_db: Path) -> None:
    store = HistoryStore(history_db, policy=CooldownPolicy(enabled=False, failures=1))
    _fail(store, 1, 1000.0, cls=ErrorClass.RATE_LIMIT, retry_after_s=60)
    assert store.cooldowns(now=1001.0) == []


def test_cooldown_is_seen_by_another_process(history_db: Path) -> None:
    store = HistoryStore(history_db, policy=CooldownPolicy(failures=1, cooldown_s=300))
    code = ("import sys, time; from tacroute.history import HistoryStore, CooldownPolicy;"
            "from tacroute.types import AttemptRecord, ErrorClass, Usage;"
            "s = HistoryStore(sys.argv[1], policy=CooldownPolicy(failures=1, cooldown_s=300));"
            "s.record_attempt(AttemptRecord('x', 1, {}, 'claude-cli', 'claude-cli', 'claude-opus-4', None,"
            " False, ErrorClass.TIMEOUT, None, None, time.time(), 10, Usage(), None, None))")
    subprocess.run([sys.executable, "-c", code, str(history_db)], check=True, timeout=60)
    reason = HistoryGate(store, refresh_s=0).skip_reason(P, M)
    assert reason is not None and "timeout" in reason


# ------------------------------------------------------------------- limits
def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "tacroute.toml"
    py = sys.executable
    path.write_text(f"""
[providers.main]
type = "claude-cli"
command_template = ["{py}", "{{prompt_file}}"]
max_concurrent = 2
rpm = 3
{extra}
[providers.backup]
type = "claude-cli"
command_template = ["{py}", "{{prompt_file}}"]

[routing]
enabled = true
default_provider = "backup"
default_model = "m-default"

[[routing.rules]]
name = "crit"
priority = 10
conditions = {{ priority = "critical" }}
provider = "main"
model = "m-main"

[history]
path = "h.db"
""")
    return path


def test_max_concurrent_counts_running_attempts(tmp_path: Path, builtin_registry: Registry) -> None:
    config = load_config(_config(tmp_path))
    store = HistoryStore(tmp_path / "h.db")
    clock = Clock(10_000.0)
    gate = HistoryGate(store, config, clock=clock, refresh_s=0)
    store.attempt_started("a", 1, "main", "m-main", at=9_000.0)
    assert gate.skip_reason("main", "m-main") is None
    store.attempt_started("b", 1, "main", "other-model", at=9_001.0)  # limit is per provider
    reason = gate.skip_reason("main", "m-main")
    assert reason is not None and "2 attempt(s) running" in reason and "max_concurrent = 2" in reason
    assert gate.skip_reason("backup", "m-default") is None   # no limits there
    store.record_attempt(make_attempt("a", 1, provider="main", model="m-main", started_at=9_000.0))
    assert gate.skip_reason("main", "m-main") is None


def test_running_slot_of_a_dead_process_is_ignored(tmp_path: Path, builtin_registry: Registry) -> None:
    config = load_config(_config(tmp_path))
    store = HistoryStore(tmp_path / "h.db")
    gate = HistoryGate(store, config, clock=Clock(10_000.0), refresh_s=0)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store.attempt_started("a", 1, "main", "m", at=9_000.0, pid=dead.pid)
    store.attempt_started("b", 1, "main", "m", at=9_000.0, pid=dead.pid)
    assert store.limits(10_000.0).running == {}
    assert gate.skip_reason("main", "m") is None


def test_rpm_counts_starts_in_the_last_minute(tmp_path: Path, builtin_registry: Registry) -> None:
    config = load_config(_config(tmp_path))
    store = HistoryStore(tmp_path / "h.db")
    clock = Clock(1_000.0)
    gate = HistoryGate(store, config, clock=clock, refresh_s=0)
    for i, at in enumerate((950.0, 960.0, 970.0)):
        store.attempt_started(f"r{i}", 1, "main", "m", at=at)
        store.record_attempt(make_attempt(f"r{i}", 1, provider="main", model="m", started_at=at,
                                          duration_ms=100))
    reason = gate.skip_reason("main", "m")
    assert reason is not None and "3 attempt(s) started" in reason and "rpm = 3" in reason
    clock.now = 1_010.1                               # the 950 start is now over a minute old
    assert gate.skip_reason("main", "m") is None


def test_rpm_counts_attempts_recorded_without_a_start_hook(tmp_path: Path,
                                                          builtin_registry: Registry) -> None:
    config = load_config(_config(tmp_path))
    store = HistoryStore(tmp_path / "h.db")
    gate = HistoryGate(store, config, clock=Clock(1_000.0), refresh_s=0)
    for i in range(3):
        store.record_attempt(make_attempt(f"n{i}", 1, provider="main", model="m", started_at=990.0 + i))
    assert "rpm = 3" in (gate.skip_reason("main", "m") or "")


def test_gate_reads_are_cached_for_refresh_s(history_db: Path) -> None:
    store = HistoryStore(history_db, policy=CooldownPolicy(failures=1))
    clock = Clock(1_010.0)
    gate = HistoryGate(store, clock=clock, refresh_s=5)
    assert gate.skip_reason(P, M) is None
    _fail(store, 1, 1_000.0)
    assert gate.skip_reason(P, M) is None             # still the cached read
    clock.now = 1_015.0
    assert gate.skip_reason(P, M) is not None


def test_limit_keys_are_validated(tmp_path: Path, builtin_registry: Registry) -> None:
    from tacroute.errors import ConfigError

    path = _config(tmp_path).read_text().replace("max_concurrent = 2", "max_concurrent = 0")
    (tmp_path / "bad.toml").write_text(path.replace('rpm = 3', 'rpm = "fast"'))
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "bad.toml")
    text = str(err.value)
    assert "providers.main.max_concurrent: must be a positive integer, not 0" in text
    assert "providers.main.rpm: must be an integer" in text
    assert "bad.toml:6:" in text


# ------------------------------------------------------------ router and CLI
def test_router_skips_a_cooling_candidate_and_says_why(tmp_path: Path, builtin_registry: Registry) -> None:
    config = load_config(_config(tmp_path))
    store = HistoryStore(tmp_path / "h.db", policy=CooldownPolicy(failures=1, cooldown_s=3600))
    _fail(store, 1, 1_000.0, cls=ErrorClass.OVERLOADED, model="m-main")
    store.record_attempt(make_attempt("p", 1, provider="main", model="m-main", success=False,
                                      error_class=ErrorClass.OVERLOADED, started_at=1_000.0))
    router = ModelRouter(config, gate=HistoryGate(store, config, clock=Clock(1_100.0), refresh_s=0))
    d = router.route({"priority": "critical"})
    assert (d.provider, d.model, d.rule) == ("backup", "m-default", None)
    (skipped,) = d.skipped
    assert (skipped.provider, skipped.model, skipped.rule) == ("main", "m-main", "crit")
    assert skipped.reason is not None and skipped.reason.startswith("cooldown until")


def test_route_explain_shows_cooldown_and_limits(tmp_path: Path, builtin_registry: Registry) -> None:
    import time

    cfg = _config(tmp_path)
    config = load_config(cfg)
    store = HistoryStore(tmp_path / "h.db", policy=CooldownPolicy(failures=1, cooldown_s=3600))
    store.record_attempt(make_attempt("p", 1, provider="main", model="m-main", success=False,
                                      error_class=ErrorClass.RATE_LIMIT, retry_after_s=3600,
                                      started_at=time.time()))
    assert open_gate(config) is not None
    runner = CliRunner()
    res = runner.invoke(cli, ["route", "--priority", "critical", "--explain", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "[skipped: cooldown until" in res.output
    assert "skipped:   main/m-main (crit): cooldown until" in res.output
    assert "rate limited (retry-after 3600 s)" in res.output
    res = runner.invoke(cli, ["route", "--priority", "critical", "--explain", "--json", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    import json

    data = json.loads(res.output)
    assert data["provider"] == "backup"
    assert data["skipped"][0]["reason"].startswith("cooldown until")
    assert data["explain"][0]["skip"].startswith("cooldown until")


def test_route_shows_a_provider_at_its_limit(tmp_path: Path, builtin_registry: Registry) -> None:
    import json

    cfg = _config(tmp_path)
    store = HistoryStore(tmp_path / "h.db")
    store.attempt_started("x", 1, "main", "other")   # this (live) process runs two attempts
    store.attempt_started("y", 1, "main", "other")
    res = CliRunner().invoke(cli, ["route", "--priority", "critical", "--json", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["provider"] == "backup"
    assert "max_concurrent = 2" in data["skipped"][0]["reason"]


def test_open_gate_without_history_file_creates_nothing(tmp_path: Path, builtin_registry: Registry) -> None:
    cfg = _config(tmp_path).read_text().replace("max_concurrent = 2", "").replace("rpm = 3", "")
    (tmp_path / "plain.toml").write_text(cfg)
    assert open_gate(load_config(tmp_path / "plain.toml")) is None
    assert not (tmp_path / "h.db").exists()


def test_open_gate_reads_what_the_recording_hooks_write_for_the_same_config(
        tmp_path: Path, builtin_registry: Registry) -> None:
    from tacroute.history import plugin

    cfg = _config(tmp_path)
    HistoryStore(tmp_path / "h.db").close()  # a history file exists: the gate reads it
    config = load_config(cfg)
    gate = open_gate(config)
    assert isinstance(gate, HistoryGate)
    limited = make_attempt("rl", 1, provider="main", model="m-main", success=False,
                           error_class=ErrorClass.RATE_LIMIT, started_at=time.time(), retry_after_s=600)
    notify_run(Registry.from_plugins([plugin]), [limited], config=config)  # into the config's h.db
    assert "rate" in (gate.skip_reason("main", "m-main") or "")


def test_a_run_opens_its_history_database_once(tmp_path: Path, builtin_registry: Registry) -> None:
    from tacroute.context import RunContext
    from tacroute.history import plugin
    from tacroute.types import Decision

    HistoryStore(tmp_path / "h.db").close()
    config = load_config(_config(tmp_path))
    state: dict[str, object] = {}
    gate = open_gate(config, state)
    assert isinstance(gate, HistoryGate)
    # The recording hooks of the same run find the gate's store in the run's state.
    run = RunContext(config, "r", {}, Decision("main", "m-main", None, "default"), state)
    assert plugin.run_store(run) is gate.store


def test_skips_nothing_now_follows_the_cooldowns(history_db: Path) -> None:
    store = HistoryStore(history_db, policy=CooldownPolicy(failures=1, window_s=600, cooldown_s=300))
    clock = Clock(1100.0)
    gate = HistoryGate(store, clock=clock, refresh_s=0)
    assert gate.skips_nothing_now()
    _fail(store, 1, 1000.0)                           # ends at 1001 -> cooldown until 1301
    assert not gate.skips_nothing_now()
    clock.now = 1301.0
    assert gate.skips_nothing_now()


def test_a_quiet_read_is_reused_only_while_it_is_fresh(history_db: Path) -> None:
    """The idle test answers from the last quiet read for refresh_s, as skip_reason does, and
    reads again when the window is over or the clock went back."""
    store = HistoryStore(history_db, policy=CooldownPolicy(failures=1, window_s=600, cooldown_s=300))
    clock = Clock(1100.0)
    gate = HistoryGate(store, clock=clock, refresh_s=10)
    assert gate.skips_nothing_now()
    _fail(store, 1, 1100.0)                           # cooldown until 1401, not read yet
    clock.now = 1109.0
    assert gate.skips_nothing_now() and gate.skip_reason(P, M) is None
    clock.now = 1110.0
    assert not gate.skips_nothing_now() and gate.skip_reason(P, M) is not None
    clock.now = 1401.0
    assert gate.skips_nothing_now()                   # expired, read again at 1401
    _fail(store, 2, 1390.0)                           # cooldown until 1691
    clock.now = 1395.0                                # the clock went back: no window holds
    assert not gate.skips_nothing_now()


def test_router_keeps_its_decision_while_the_gate_skips_nothing(tmp_path: Path,
                                                               builtin_registry: Registry) -> None:
    (tmp_path / "c.toml").write_text('[providers.claude-cli]\ncommand_template = ["/bin/true"]\n'
                                     '[routing]\nenabled = true\ndefault_provider = "claude-cli"\n'
                                     'default_model = "claude-sonnet-4-5"\n[[routing.rules]]\nname = "r"\n'
                                     'conditions = { priority = "high" }\nmodel = "claude-opus-4"\n')
    config = load_config(tmp_path / "c.toml", registry=builtin_registry)

    class Gate:
        idle = True
        asked = 0

        def skips_nothing_now(self) -> bool:
            return self.idle

        def skip_reason(self, provider: str, model: str) -> str | None:
            self.asked += 1
            return "cooling down" if model == "claude-opus-4" else None

    gate = Gate()
    router = ModelRouter(config, registry=builtin_registry, gate=gate)
    for _ in range(3):
        assert router.route({"priority": "high"}).model == "claude-opus-4"
    assert gate.asked == 0                            # the cached decision, no question per candidate
    gate.idle = False
    d = router.route({"priority": "high"})
    assert d.model == "claude-sonnet-4-5" and d.skipped[0].reason == "cooling down"
