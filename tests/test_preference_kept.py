"""The PreferenceRouter's decisions kept per task key (tacroute.preferences.memo): a repeated task is
answered without its pair's router, and a kept decision is dropped whenever the uncached path would
decide otherwise: spend added here, the history file or the fleet's spend read anew (where a settled
budget hold shows), a new day or month, another project or user. ``PreferenceRouter.route(r, task)``
is the uncached path every kept decision is compared with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacroute.config import parse_config
from tacroute.history import HistoryStore
from tacroute.history.slots import ProviderLimits
from tacroute.plugins import Registry
from tacroute.preferences import preferences
from tacroute.preferences.fleetspend import FleetSpend, periods_of
from tacroute.preferences.router import PreferenceRouter
from tacroute.preferences.spend import HistorySpend, SpendTable, period_bounds
from tacroute.pricing import PricingTable
from tacroute.state.api import Reservation
from tacroute.state.shared import SharedState
from tacroute.state.sqlite import SqliteState
from tacroute.types import Decision, Task
from tacroute.whatif.inputs import AssumeAvailable
from testkit.history import make_attempt, make_run
from testkit.seed import seed_text

NOW = 1_750_000_000.0  # mid-June 2025
EXTRA = """
[projects."acme/api"]
budget = { monthly_usd = 10, over = "downgrade", to = "claude-cli/claude-haiku-4", reserve_usd = 1 }

[projects."acme/web"]
[[projects."acme/web".rules]]
name = "web-router"
priority = 100
conditions = { labels = ["web"] }
provider = "openrouter"
model = "some/web-model"

[users.alice]
budget = { daily_usd = 5, over = "block" }

[users.bob]
deny_providers = ["openrouter"]
"""
API = {"priority": "low", "labels": ["x"], "hour": 12, "project": "acme/api"}
SONNET, HAIKU = ("claude-cli", "claude-sonnet-4-5"), ("claude-cli", "claude-haiku-4")


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make(reg: Registry, spend_of: Any = None, history: Path | None = None) -> tuple[PreferenceRouter, Clock]:
    text = seed_text(True) + EXTRA + (f'\n[history]\npath = "{history}"\n' if history else "")
    cfg = parse_config(text, Path("c.toml"), registry=reg)
    prefs = preferences(cfg)
    spend = spend_of(cfg, prefs) if spend_of else SpendTable(prefs, cfg.timezone)
    clock = Clock()
    return PreferenceRouter(cfg, prefs, providers=AssumeAvailable(cfg), registry=reg, spend=spend,
                            clock=clock), clock


def same(r: PreferenceRouter, task: Task) -> Decision:
    """The router's decision, checked against the uncached path's at the same moment."""
    kept = r.route(task)
    assert kept == PreferenceRouter.route(r, task), task
    return kept


def pick(d: Decision) -> tuple[str, str] | None:
    return (d.provider, d.model) if d.available else None


def test_a_repeated_task_is_answered_without_its_pairs_router(builtin_registry: Registry,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    r, _ = make(builtin_registry)
    assert r.route(dict(API)).model == "claude-sonnet-4-5"
    combo = r._combos["acme/api"][None]
    calls: list[Task] = []
    inner = combo.router.route
    monkeypatch.setattr(combo.router, "route", lambda task: calls.append(task) or inner(task))
    assert r.route(dict(API)).model == "claude-sonnet-4-5"
    assert r.spend is not None
    r.spend.add("acme/api", None, 1.0, NOW)  # the budgets are compared again, not the rules
    assert r.route(dict(API)).model == "claude-sonnet-4-5"
    assert calls == []


def test_spend_added_here_drops_the_kept_decision(builtin_registry: Registry) -> None:
    r, _ = make(builtin_registry)
    assert r.spend is not None
    assert pick(same(r, API)) == SONNET
    r.spend.add("acme/api", None, 8.5, NOW)
    assert pick(same(r, API)) == SONNET  # $1.50 left, over the $1 reserve
    r.spend.add("acme/api", None, 0.75, NOW)
    assert pick(same(r, API)) == HAIKU  # $0.75 left: downgraded
    r.spend.spend = {}  # a table filled anew
    assert pick(same(r, API)) == SONNET


def test_a_new_day_and_a_new_month_drop_the_kept_decision(builtin_registry: Registry) -> None:
    r, clock = make(builtin_registry)
    spend = r.spend
    assert spend is not None
    both = {**API, "user": "alice"}
    assert pick(same(r, both)) == SONNET
    spend.add("acme/api", "alice", 5.0, NOW)  # alice's day is spent: blocked
    blocked = same(r, both)
    assert not blocked.available and "daily budget of user 'alice'" in blocked.reason
    day_end = period_bounds(NOW, spend.tz, "day")[1]
    clock.now = day_end - 0.001
    assert same(r, both) is blocked  # still the same day: the kept one
    clock.now = day_end  # a new day: alice may run again (a plain table starts both periods anew)
    assert pick(same(r, both)) == SONNET
    spend.add("acme/api", "alice", 9.5, day_end)  # $9.50 this month: the project downgrades
    assert pick(same(r, API)) == HAIKU
    month_end = period_bounds(NOW, spend.tz, "month")[1]
    clock.now = month_end
    assert pick(same(r, API)) == SONNET
    clock.now = NOW  # the clock went back: the table is read for that period again (empty here)
    assert pick(same(r, API)) == SONNET


def test_each_project_and_user_keeps_its_own_decision(builtin_registry: Registry) -> None:
    r, _ = make(builtin_registry)
    assert r.spend is not None
    web = {"priority": "low", "labels": ["web"], "hour": 12}
    assert pick(same(r, {**web, "project": "acme/web"})) == ("openrouter", "some/web-model")
    assert pick(same(r, {**web, "project": "acme/web", "user": "bob"})) == SONNET  # bob denies it
    assert pick(same(r, {**web, "project": "acme/api"})) == SONNET
    assert pick(same(r, web)) == SONNET
    r.spend.add(None, "alice", 5.0, NOW)
    assert not same(r, {**web, "project": "acme/web", "user": "alice"}).available
    assert pick(same(r, {**web, "project": "acme/web", "user": "bob"})) == SONNET
    assert pick(same(r, {**web, "project": "acme/web"})) == ("openrouter", "some/web-model")


def test_another_connections_run_drops_it_at_the_next_look_at_the_file(builtin_registry: Registry,
                                                                       tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    with HistoryStore(db) as store:
        store.record_run(make_run([make_attempt("r0", started_at=NOW - 60, cost_usd=1.0,
                                                task={"project": "acme/api"})]))
    r, clock = make(builtin_registry, lambda cfg, prefs: HistorySpend(prefs, cfg.timezone, db,
                                                                     PricingTable.load(cfg.raw)), db)
    assert pick(same(r, API)) == SONNET
    with HistoryStore(db) as store:  # another process's run: $9.50 this month
        store.record_run(make_run([make_attempt("r1", started_at=NOW - 30, cost_usd=8.5,
                                                task={"project": "acme/api"})]))
    assert pick(same(r, API)) == SONNET  # not looked at yet (the uncached path agrees)
    clock.now = NOW + HistorySpend.RECHECK_S
    assert pick(same(r, API)) == HAIKU


def test_a_settled_budget_hold_in_the_fleets_spend_drops_it_at_the_next_read(builtin_registry: Registry,
                                                                             tmp_path: Path) -> None:
    fleet_db = tmp_path / "fleet.db"
    state = SqliteState(HistoryStore(fleet_db), clock=lambda: NOW)
    fleet: list[FleetSpend] = []

    def spend_of(cfg: Any, prefs: Any) -> HistorySpend:
        fleet.append(FleetSpend(SharedState(state, retry_s=5, lease_ttl_s=30), cfg.timezone))
        return HistorySpend(prefs, cfg.timezone, tmp_path / "history.db", PricingTable.load(cfg.raw),
                            fleet[0])

    r, clock = make(builtin_registry, spend_of)
    assert pick(same(r, API)) == SONNET and fleet[0].pulls == 1
    _, month = periods_of(NOW, fleet[0].tz)
    lease = state.acquire("run-1", 1, "claude-cli", "claude-sonnet-4-5", ProviderLimits(), NOW,
                          [Reservation("project:acme/api", month, 2.0, 10.0, 1.0)])
    clock.now = NOW + FleetSpend.REFRESH_S
    assert pick(same(r, API)) == SONNET  # a hold is not spend: routing counts what was spent
    lease.release(9.5)  # another machine's attempt settles its hold with its cost
    assert pick(same(r, API)) == SONNET  # read 0.5 s ago: not read again yet
    clock.now = NOW + 2 * FleetSpend.REFRESH_S
    assert pick(same(r, API)) == HAIKU
    assert fleet[0].pulls == 3


def test_nothing_is_kept_with_a_gate_or_for_a_subclass_watching_over_budget_decisions(
        builtin_registry: Registry) -> None:
    r, _ = make(builtin_registry)
    assert "route" in vars(r)  # answered through the kept decisions
    gated = PreferenceRouter(r.config, r.prefs, providers=r.providers, spend=r.spend, gate=object())  # type: ignore[arg-type]
    assert "route" not in vars(gated)

    class Watching(PreferenceRouter):
        def _over_budget(self, combo: Any, d: Decision, v: Any) -> Decision:
            return super()._over_budget(combo, d, v)

    assert "route" not in vars(Watching(r.config, r.prefs, providers=r.providers, spend=r.spend))


TASKS = st.fixed_dictionaries(
    {"priority": st.sampled_from(["low", "high", "critical"]), "labels": st.sampled_from([["x"], ["web"], []]),
     "hour": st.sampled_from([12, 3, None])},
    optional={"project": st.sampled_from(["acme/api", "acme/web", "other/x"]),
              "user": st.sampled_from(["alice", "bob", "carol"]), "retry_count": st.sampled_from([0, 1])})
EVENTS = st.one_of(
    st.tuples(st.just("route"), TASKS),
    st.tuples(st.just("spend"), st.tuples(st.sampled_from(["acme/api", "acme/web", None]),
                                          st.sampled_from(["alice", "bob", None]),
                                          st.sampled_from([0.5, 1.0, 3.0, 6.0]))),
    st.tuples(st.just("clock"), st.sampled_from([60.0, 3_600.0, 86_400.0, 40 * 86_400.0, -86_400.0])),
    st.tuples(st.just("anew"), st.none()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(EVENTS, max_size=40))
def test_kept_decisions_equal_the_uncached_path(builtin_registry: Registry, events: list[Any]) -> None:
    r, clock = make(builtin_registry)
    spend = r.spend
    assert spend is not None
    for kind, arg in events:
        if kind == "route":
            same(r, dict(arg))
        elif kind == "spend":
            spend.current(clock.now)
            spend.add(*arg, clock.now)
        elif kind == "clock":
            clock.now += arg
        else:
            spend.spend = {}


def test_a_reloaded_file_is_not_answered_from_the_old_kept_decisions(builtin_registry: Registry,
                                                                      tmp_path: Path) -> None:
    import os

    from tacroute.config import load_config

    path = tmp_path / "tacroute.toml"
    path.write_text(seed_text(True) + EXTRA, encoding="utf-8")
    cfg = load_config(path, registry=builtin_registry)
    prefs = preferences(cfg)
    r = PreferenceRouter(cfg, prefs, providers=AssumeAvailable(cfg), registry=builtin_registry,
                         spend=SpendTable(prefs, cfg.timezone), clock=Clock())
    web = {"priority": "low", "labels": ["web"], "hour": 12, "project": "acme/web"}
    assert pick(r.route(dict(web))) == ("openrouter", "some/web-model")
    path.write_text(seed_text(True) + EXTRA.replace("some/web-model", "other/web-model"), encoding="utf-8")
    os.utime(path, ns=(1, 1))  # another modification time, whatever the file system's resolution
    assert r.reload_if_changed()  # the reloaded router checks providers for real: no OpenRouter key here
    d = same(r, dict(web))
    assert [c.model for c in d.skipped if c.provider == "openrouter"] == ["other/web-model"]
