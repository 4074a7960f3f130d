"""Hostile input reaching the history layer: huge retry-afters, bad config numbers, rows that
make no sense, figures a worker should never report, --since far back. Real SQLite files."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tacroute import ErrorClass, Outcome, OutputParserType, ProviderType, Usage, hookimpl
from tacroute.cli import cli
from tacroute.history import CooldownPolicy, HistoryStore
from tacroute.history import plugin as history_plugin
from tacroute.history.horizon import horizon_path
from tacroute.history.records import RunRow
from tacroute.plugins import Registry, set_registry
from testkit.history import make_attempt, make_run
from testkit.script_provider import ScriptPlugin, script_config


def _strict(text: str) -> Any:
    """``json.loads`` that refuses NaN and Infinity, as every strict parser does."""
    def refuse(name: str) -> Any:
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no ./adws/config.toml or ./tacroute.toml here
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "noconfig"))
    return tmp_path


def invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args))
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.stdout, res.stderr


# ----------------------------------------------------------------- config values
@pytest.mark.parametrize(("key", "value", "says"), [
    ("cooldown_s", "inf", "at most 31536000 seconds"),
    ("cooldown_s", "nan", "positive number of seconds"),
    ("window_s", "-inf", "positive number of seconds"),
    ("window_s", "1e300", "at most 31536000 seconds"),
    ("max_cooldown_s", "nan", "positive number of seconds"),
    ("max_cooldown_s", "-1", "positive number of seconds"),
    ("failures", "-3", "at least 1"),
    ("failures", "9223372036854775807", "at most 1000000"),
])
def test_bad_cooldown_numbers_are_config_errors_naming_file_line_key(
        here: Path, key: str, value: str, says: str) -> None:
    config = script_config(here, ["ok"])
    config.write_text(config.read_text() + f"[history.cooldown]\n{key} = {value}\n")
    line = config.read_text().splitlines().index(f"{key} = {value}") + 1
    code, _, err = invoke("route", "--config", str(config))
    assert code == 2, err
    assert f"{config}:{line}: history.cooldown.{key}: must be" in err and says in err
    assert "Traceback" not in err


def test_cooldown_longer_than_an_explicit_max_cooldown_is_a_config_error(here: Path) -> None:
    config = script_config(here, ["ok"])
    config.write_text(config.read_text() + "[history.cooldown]\ncooldown_s = 7200\nmax_cooldown_s = 3600\n")
    code, _, err = invoke("route", "--config", str(config))
    assert code == 2
    assert "history.cooldown.cooldown_s: must not exceed max_cooldown_s (3600 s)" in err


def test_a_long_cooldown_written_before_max_cooldown_s_existed_still_loads(here: Path) -> None:
    from tacroute.config import load_config
    from tacroute.history.settings import load_settings

    config = script_config(here, ["ok"])
    config.write_text(config.read_text() + "[history.cooldown]\ncooldown_s = 7200\n")
    code, _, err = invoke("route", "--config", str(config))
    assert code == 0, err
    assert load_settings(load_config(config)).cooldown.max_cooldown_s == 7200


# ------------------------------------------------------------------- cooldowns
def test_huge_retry_after_is_clamped_and_history_still_reads(here: Path, history_db: Path) -> None:
    now = time.time()
    with HistoryStore(history_db, policy=CooldownPolicy(max_cooldown_s=600)) as store:
        store.record_attempt(make_attempt("r1", success=False, error_class=ErrorClass.RATE_LIMIT,
                                          started_at=now, retry_after_s=1e12))
        (cool,) = store.cooldowns(now)
    assert cool.until <= now + 1 + 600
    assert "cut to max_cooldown_s 600 s" in cool.reason
    code, out, err = invoke("history")
    assert code == 0, err
    assert "cooldown: claude-cli/claude-sonnet-4-5 until" in out


def _raw(path: Path, *statements: tuple[str, tuple[Any, ...]]) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for sql, args in statements:
            conn.execute(sql, args)
    conn.close()


_RUN = ("INSERT INTO runs (run_id, started_at, task, rule, provider, model, success, error, attempts,"
        " input_tokens, output_tokens, cost_usd, duration_ms) VALUES (?, ?, '{}', NULL, 'p', 'm', 1, NULL,"
        " 1, ?, 0, ?, 100)")
_COOL = ("INSERT INTO cooldowns (provider, model, until, kind, reason, set_at) "
         "VALUES (?, ?, ?, 'rate_limit', 'hand made', ?)")


@pytest.fixture
def damaged_rows(here: Path, history_db: Path) -> Path:
    """A history with good rows and rows no tacroute would write (a hand edit, a bad disk)."""
    now = time.time()
    with HistoryStore(history_db) as store:
        a = make_attempt("good", started_at=now - 60, usage=Usage(5, 6, 0, 0), cost_usd=0.5)
        store.record_attempt(a)
        store.record_run(make_run([a]))
    _raw(history_db,
         (_RUN, ("year-33715", 1e12, 1, None)),          # a time no calendar shows
         (_RUN, ("text-time", "yesterday", 1, None)),     # not a number at all
         (_RUN, ("text-tokens", now - 30, "lots", float("nan"))),  # clamped: 0 tokens, unknown cost
         (_COOL, ("claude-cli", "claude-sonnet-4-5", 1e12, now)),  # cut to max_cooldown_s
         (_COOL, ("s0", "ok", "soon", now)),
         (_COOL, ("s0", "other", now + 100, "then")))
    os.unlink(horizon_path(history_db))  # after a hand edit, as the README says: no stale bound
    return history_db


def test_history_skips_damaged_rows_with_a_warning(damaged_rows: Path) -> None:
    code, out, err = invoke("history")
    assert code == 0, err
    assert "run good" in out and "run text-tokens" in out
    assert "year-33715" not in out and "run text-time" not in out
    assert "tacroute: warning:" in err and "skipping damaged run rows" in err
    assert "skipping damaged cooldown rows" in err
    assert out.count("cooldown: ") == 1  # the far-future one, cut short; the other two skipped
    code, out, err = invoke("history", "--json", "--limit", "0")
    assert code == 0, err
    data = _strict(out)
    runs = {r["run_id"]: r for r in data["runs"]}
    assert set(runs) == {"good", "text-tokens"}
    assert runs["text-tokens"]["usage"]["input_tokens"] == 0 and runs["text-tokens"]["cost_usd"] is None
    (cool,) = data["cooldowns"]
    assert cool["until"] <= time.time() + 3600 + 5


def test_route_and_stats_go_on_past_damaged_rows(damaged_rows: Path, here: Path,
                                                 hostile_registry: None) -> None:
    config = script_config(here, ["ok", "other"])  # s0/ok first: its cooldown row is damaged
    code, out, err = invoke("route", "--config", str(config), "--json")
    assert code == 0, err
    decision = _strict(out)
    assert (decision["model"], decision["available"]) == ("ok", True)
    assert "skipping damaged cooldown rows" in err
    code, out, err = invoke("stats", "--json")
    assert code == 0, err
    assert _strict(out)["rows"]


def test_run_row_with_null_numbers_is_refused_not_crashed() -> None:
    good = ("r", 1.0, "{}", None, "p", "m", 1, None, 1, 5, 6, 0, 0, 0.1, 100)
    assert RunRow.from_row(good).usage == Usage(5, 6, 0, 0)
    for index in (1, 8, 14):  # started_at, attempts, duration_ms
        row = list(good)
        row[index] = None
        with pytest.raises(ValueError):
            RunRow.from_row(row)
    row = list(good)
    row[9], row[13] = None, float("inf")
    clamped = RunRow.from_row(row)
    assert clamped.usage.input_tokens == 0 and clamped.cost_usd is None


def test_stats_sums_past_the_64_bit_range(history_db: Path) -> None:
    with HistoryStore(history_db) as store:
        for i in range(1100):  # 1100 * 2**53 > 2**63: SQLite's sum() overflowed
            a = make_attempt(f"r{i}", started_at=1_000_000.0 + i, usage=Usage(2**53, 0, 0, 0))
            store.record_run(make_run([a]))
        (row,) = store.stats("provider")
    assert row.runs == 1100 and row.usage.input_tokens == pytest.approx(1100 * 2**53, rel=1e-9)


# ------------------------------------------------------------- worker figures
class HostileParser:
    """Reports figures no worker should: 10**30 and negative tokens, a NaN cost."""

    def feed(self, line: str) -> None:
        return None

    def progress(self) -> Usage:
        return Usage()

    def finish(self, exit_code: int | None, stderr_tail: str) -> Outcome:
        return Outcome(True, result="done", usage=Usage(10**30, -5, 7, 0), cost_usd=math.nan)


class HostileType(ProviderType):
    name = "hostile"
    description = "test provider whose parser reports absurd figures"
    default_stdin = "{prompt_file}"
    output_parser = "hostile"


class HostileParserType(OutputParserType):
    name = "hostile"

    def create(self) -> HostileParser:
        return HostileParser()


class HostilePlugin:
    @hookimpl
    def register_providers(self, register: Any) -> None:
        register(HostileType())

    @hookimpl
    def register_output_parsers(self, register: Any) -> None:
        register(HostileParserType())


@pytest.fixture
def hostile_registry() -> Iterator[None]:
    set_registry(Registry.from_plugins([ScriptPlugin(), HostilePlugin(), history_plugin]))
    yield
    set_registry(None)


def test_absurd_worker_figures_are_clamped_once_and_the_rows_kept(
        here: Path, history_db: Path, hostile_registry: None) -> None:
    config = script_config(here, ["ok"])
    config.write_text(config.read_text().replace('type = "script"', 'type = "hostile"'))
    prompt = here / "p.txt"
    prompt.write_text("hi")
    code, out, err = invoke("run", str(prompt), "--json", "--config", str(config))
    assert code == 0, err
    data = _strict(out)  # strict JSON: no NaN
    assert data["usage"] == {"input_tokens": 2**53, "output_tokens": 0, "cache_read_tokens": 7,
                             "cache_creation_tokens": 0, "reasoning_tokens": 0}
    assert data["cost_usd"] is None
    assert "input_tokens 1000000000000000000000000000000 is not a token count" in err
    assert "cost_usd nan is not a finite" in err
    with HistoryStore(history_db) as store:
        assert store.count("attempts") == 1
        (run,) = store.runs()
    assert run.usage == Usage(2**53, 0, 7, 0) and run.cost_usd is None  # history agrees with --json


def test_json_printer_writes_null_for_non_finite_floats() -> None:
    from tacroute.cli._common import json_text

    text = json_text({"cost_usd": math.nan, "rows": [math.inf, 1.5, (-math.inf,)]})
    assert _strict(text) == {"cost_usd": None, "rows": [None, 1.5, [None]]}


# ------------------------------------------------------------------------ --since
@pytest.mark.parametrize("command", ["history", "stats", "replay"])
@pytest.mark.parametrize("since", ["99999999999999d", "1" * 400 + "s", "0001-01-01"])
def test_since_out_of_range_is_a_usage_error(recorded_one: Path, here: Path, command: str,
                                             since: str) -> None:
    args = [command, "--since", since]
    if command == "replay":
        args += ["--config", str(script_config(here, ["ok"]))]
    code, _, err = invoke(*args)
    assert code == 2, err
    assert f"--since {since!r}" in err and "Traceback" not in err


@pytest.fixture
def recorded_one(history_db: Path) -> Path:
    with HistoryStore(history_db) as store:
        a = make_attempt("one", started_at=time.time() - 5)
        store.record_attempt(a)
        store.record_run(make_run([a]))
    return history_db


# ------------------------------------------------------------------ --json stream
@pytest.mark.parametrize("runs", [0, 1, 2503])
def test_history_json_is_the_same_document_streamed(here: Path, history_db: Path, runs: int) -> None:
    now = time.time()
    with HistoryStore(history_db, policy=CooldownPolicy(failures=1)) as store:
        for i in range(runs):
            a = make_attempt(f"r{i:05d}", started_at=now - 1000 + i * 0.1, usage=Usage(i, 1, 2, 3),
                             cost_usd=None if i % 2 else 0.25, task={"labels": ["ünïcode"], "n": i},
                             success=i % 3 != 0, error_class=None if i % 3 else ErrorClass.TIMEOUT)
            store.record_attempt(a)
            store.record_run(make_run([a]))
        expected_runs = [r.as_dict() for r in store.recent(None)]
        cooldowns = store.cooldowns(now)
    code, out, err = invoke("history", "--limit", "0", "--json")
    assert code == 0, err
    data = _strict(out)
    assert data == {"history": str(history_db), "enabled": True, "since": None, "runs": expected_runs,
                    "cooldowns": [{"provider": c.provider, "model": c.model, "until": c.until,
                                   "kind": c.kind, "reason": c.reason} for c in cooldowns]}
    assert len(data["runs"]) == runs
