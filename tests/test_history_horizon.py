"""The cooldown horizon: a bound beside the history file that lets routing skip reading it.

Real SQLite files throughout. The property: after any attempts recorded through
the store, the horizon is at least every cooldown row's ``until``, and a gate
that trusts it answers exactly like one that reads the database. A horizon that
cannot be trusted (missing, garbled, not finite, a directory) means reading the
database; one that cannot be written never leaves a lie behind.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacroute.history import CooldownPolicy, HistoryError, HistoryGate, HistoryStore
from tacroute.history.horizon import horizon_path, read_horizon
from tacroute.types import ErrorClass
from testkit.history import make_attempt

P, M = "claude-cli", "claude-sonnet-4-5"
POLICY = CooldownPolicy(failures=2, window_s=600, cooldown_s=300, max_cooldown_s=3600)


def _rows(db: Path) -> list[float]:
    conn = sqlite3.connect(db)
    try:
        return [float(u) for (u,) in conn.execute("SELECT until FROM cooldowns")]
    finally:
        conn.close()


class Opens:
    """A store factory that counts how often the gate had to open the database."""

    def __init__(self, db: Path) -> None:
        self.db, self.count = db, 0

    def __call__(self) -> HistoryStore:
        self.count += 1
        return HistoryStore(self.db, policy=POLICY)


def _lazy(db: Path, now: float) -> tuple[HistoryGate, Opens]:
    opens = Opens(db)
    return HistoryGate(opens, clock=lambda: now, refresh_s=0, path=db), opens


def _db_reason(db: Path, provider: str, model: str, now: float) -> str | None:
    """What a gate says when it must read the database (no horizon beside it)."""
    hz = Path(horizon_path(db))
    kept = hz.with_name(hz.name + ".kept")
    hz.replace(kept)
    try:
        with HistoryStore(db, policy=POLICY) as store:
            hz.unlink()  # written again by the open: gone, so the gate reads the database
            return HistoryGate(store, clock=lambda: now, refresh_s=0).skip_reason(provider, model)
    finally:
        kept.replace(hz)


_ATTEMPT = st.tuples(
    st.sampled_from([("p", "a"), ("p", "b"), ("q", "a")]),
    st.sampled_from([None, "rate_limit", "timeout", "cancelled"]),  # None: a success
    st.floats(0, 5_000),                                                    # when it started
    st.one_of(st.none(), st.floats(0, 10_000)),                             # retry-after
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attempts=st.lists(_ATTEMPT, max_size=25), probes=st.lists(st.floats(0, 20_000), min_size=1, max_size=6))
def test_the_horizon_bounds_every_cooldown_and_the_gate_answers_as_the_database(
        tmp_path_factory: pytest.TempPathFactory,
        attempts: list[tuple[tuple[str, str], str | None, float, float | None]], probes: list[float]) -> None:
    db = tmp_path_factory.mktemp("hz") / "history.db"
    with HistoryStore(db, policy=POLICY) as store:
        for n, ((provider, model), cls, start, retry) in enumerate(attempts):
            store.record_attempt(make_attempt(f"r{n}", provider=provider, model=model, success=cls is None,
                                              error_class=ErrorClass(cls) if cls else None, started_at=start,
                                              retry_after_s=retry))
    horizon = read_horizon(db)
    assert horizon is not None
    assert all(until <= horizon for until in _rows(db))
    for now in probes:
        for provider, model in (("p", "a"), ("p", "b"), ("q", "a")):
            gate, opens = _lazy(db, now)
            reason = gate.skip_reason(provider, model)
            assert reason == _db_reason(db, provider, model, now)
            assert opens.count == (0 if horizon <= now else 1)  # a passed horizon: no database read


def _cooling(db: Path, at: float = 1_000.0) -> float:
    """Record a rate limit at ``at`` (300 s cooldown); return when it ends."""
    with HistoryStore(db, policy=POLICY) as store:
        store.record_attempt(make_attempt("rl", provider=P, model=M, success=False,
                                          error_class=ErrorClass.RATE_LIMIT, started_at=at, duration_ms=0))
    return at + 300


def test_a_new_database_gets_a_horizon_of_zero_and_a_cooldown_raises_it(history_db: Path) -> None:
    HistoryStore(history_db).close()
    assert read_horizon(history_db) == 0.0
    assert _cooling(history_db) == read_horizon(history_db) == 1_300.0
    with HistoryStore(history_db, policy=POLICY) as store:  # a success ends it; the bound stays
        store.record_attempt(make_attempt("ok", provider=P, model=M, started_at=1_100.0))
        store.record_attempt(make_attempt("early", provider=P, model=M, success=False,
                                          error_class=ErrorClass.RATE_LIMIT, started_at=500.0, duration_ms=0))
    assert read_horizon(history_db) == 1_300.0  # the rate limit's row kept its later end


@pytest.mark.parametrize("content", [None, b"", b"garbage", b"nan", b"inf", b"-inf", b"1" * 100, b"\xff\xfe"])
def test_a_horizon_that_cannot_be_trusted_means_reading_the_database(history_db: Path,
                                                                     content: bytes | None) -> None:
    until = _cooling(history_db)
    hz = Path(horizon_path(history_db))
    if content is None:
        hz.unlink()
    else:
        hz.write_bytes(content)
    gate, opens = _lazy(history_db, until - 100)
    assert (gate.skip_reason(P, M) or "").startswith("cooldown until"), content
    assert opens.count == 1
    later, opens = _lazy(history_db, until + 1)
    assert later.skip_reason(P, M) is None
    if content is None:  # the store the first gate opened wrote it again, from the rows
        assert read_horizon(history_db) == until and opens.count == 0
    else:  # an unusable file is left to the next cooldown written, which replaces it
        assert opens.count == 1


def test_opening_a_store_writes_a_missing_horizon_from_the_rows(history_db: Path) -> None:
    until = _cooling(history_db)
    os.unlink(horizon_path(history_db))
    HistoryStore(history_db).close()
    assert read_horizon(history_db) == until


def test_a_horizon_that_cannot_be_written_is_no_horizon_and_the_cooldown_still_counts(history_db: Path) -> None:
    HistoryStore(history_db).close()
    hz = Path(horizon_path(history_db))
    hz.unlink()
    hz.mkdir()  # neither replaced nor removed: and no reader takes a directory for a bound
    (hz / "inside").write_text("0")
    until = _cooling(history_db)
    assert _rows(history_db) == [until] and read_horizon(history_db) is None
    gate, opens = _lazy(history_db, until - 1)
    assert (gate.skip_reason(P, M) or "").startswith("cooldown until") and opens.count == 1


def test_a_stale_horizon_that_cannot_be_replaced_nor_removed_refuses_the_cooldown(
        history_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tacroute.paths

    HistoryStore(history_db).close()
    assert read_horizon(history_db) == 0.0
    monkeypatch.setattr(tacroute.paths, "write_cache_file", lambda path, data: False)

    def refuse(path: object) -> None:
        raise PermissionError(13, "read-only", str(path))

    monkeypatch.setattr(os, "unlink", refuse)
    with pytest.raises(HistoryError, match="cooldown horizon"):
        _cooling(history_db)
    monkeypatch.undo()
    assert _rows(history_db) == []  # rolled back: the bound 0 still holds
    assert read_horizon(history_db) == 0.0


def test_a_horizon_that_cannot_be_replaced_is_removed(history_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tacroute.paths

    HistoryStore(history_db).close()
    monkeypatch.setattr(tacroute.paths, "write_cache_file", lambda path, data: False)
    until = _cooling(history_db)
    assert _rows(history_db) == [until]
    assert not os.path.lexists(horizon_path(history_db))


def test_a_failed_open_through_the_factory_is_given_up_once(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "history.db"
    db.write_bytes(b"this is no database, and long enough to have a header" * 20)
    gate, opens = _lazy(db, 1_000.0)
    assert gate.skip_reason(P, M) is None and gate.skip_reason("q", "a") is None
    assert gate.skips_nothing_now() and opens.count == 1
    err = capsys.readouterr().err
    assert err.count("tacroute: warning:") == 1 and "going on without history" in err
    with pytest.raises(TypeError, match="needs the database's path"):
        HistoryGate(opens)


def test_rows_written_by_hand_behind_a_passed_horizon_never_stop_routing(
        history_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Damaged rows (a hand edit, a bad disk) are no cooldown a router must honour: with the bound
    passed the gate does not read them (no warning, nothing skipped, as the database's reader
    decides for such rows); deleting the horizon, as the README says after a hand edit, reads them."""
    HistoryStore(history_db).close()
    conn = sqlite3.connect(history_db)
    with conn:
        conn.execute("INSERT INTO cooldowns VALUES ('p', 'a', 'soon', 'failures', 'hand made', 1000.0)")
        conn.execute("INSERT INTO cooldowns VALUES ('p', 'b', 5000.0, 'failures', 'hand made', 'then')")
    conn.close()
    gate, opens = _lazy(history_db, 2_000.0)
    assert gate.skip_reason("p", "a") is None and gate.skip_reason("p", "b") is None and opens.count == 0
    assert capsys.readouterr().err == ""
    os.unlink(horizon_path(history_db))
    gate, opens = _lazy(history_db, 2_000.0)
    assert gate.skip_reason("p", "a") is None and gate.skip_reason("p", "b") is None and opens.count == 1
    assert "skipping damaged cooldown rows" in capsys.readouterr().err
    assert read_horizon(history_db) == 5_000.0  # written again from the rows that are numbers


def test_an_unusable_horizon_is_replaced_by_the_next_cooldown(history_db: Path) -> None:
    HistoryStore(history_db).close()
    Path(horizon_path(history_db)).write_bytes(b"garbage")
    assert _cooling(history_db, at=2_000.0) == read_horizon(history_db) == 2_300.0


ROUTER_CHILD = """
import json, sys, time
from tacroute.config import load_config
from tacroute.routing import router_with_history

router = router_with_history(load_config(sys.argv[1]))  # long-lived, as a batch or a server keeps it
task = {"priority": "critical"}
first = router.route(task)
print(json.dumps([first.model, "sqlite3" in sys.modules]), flush=True)
sys.stdin.readline()  # the other process has recorded its cooldown now
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    seen = router.route(task)
    if seen.model != first.model:
        print(json.dumps([seen.model, seen.skipped[0].reason]), flush=True)
        break
    time.sleep(0.05)
"""


def test_a_long_lived_router_sees_a_cooldown_another_process_starts(tmp_path: Path, history_db: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[providers.p]\ntype = "claude-cli"\ncommand_template = ["sh", "-c", "true"]\n[routing]\nenabled = true\n'
                      'default_provider = "p"\ndefault_model = "m2"\n[[routing.rules]]\nname = "crit"\n'
                      'priority = 100\nconditions = { priority = "critical" }\nprovider = "p"\nmodel = "m1"\n')
    HistoryStore(history_db).close()  # a machine that ran tasks before, nothing cooling down
    env = {**os.environ, "TACROUTE_HISTORY": str(history_db)}
    child = subprocess.Popen([sys.executable, "-c", ROUTER_CHILD, str(config)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None and child.stdin is not None
        assert json.loads(child.stdout.readline()) == ["m1", False]  # routed on the horizon alone
        with HistoryStore(history_db) as store:
            store.record_attempt(make_attempt("rl", provider="p", model="m1", success=False,
                                              error_class=ErrorClass.RATE_LIMIT, started_at=time.time(),
                                              duration_ms=0, retry_after_s=600))
        child.stdin.write("go\n")
        child.stdin.flush()
        model, reason = json.loads(child.stdout.readline() or '["none", ""]')
        assert model == "m2" and reason.startswith("cooldown until") and "retry-after 600 s" in reason
    finally:
        child.kill()
        child.communicate(timeout=60)


def test_a_cooldown_put_through_the_state_backend_raises_the_horizon(history_db: Path) -> None:
    from tacroute.history.reads import Cooldown
    from tacroute.state.sqlite import SqliteState

    with HistoryStore(history_db) as store:
        SqliteState(store).put_cooldown(Cooldown(P, M, 4_000.0, "rate_limit", "limited", 3_000.0))
    assert read_horizon(history_db) == 4_000.0
    gate, opens = _lazy(history_db, 3_500.0)
    assert (gate.skip_reason(P, M) or "").startswith("cooldown until") and opens.count == 1
