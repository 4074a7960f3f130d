"""The PreferenceRouter's budget check reads spend cells bound once per table: spend added after a
pair's first decision, a table filled anew, and the reserve boundary all decide as verdict() does."""

from __future__ import annotations

from pathlib import Path

from tacroute.config import parse_config
from tacroute.plugins import Registry
from tacroute.preferences import preferences
from tacroute.preferences.router import PreferenceRouter
from tacroute.preferences.spend import SpendTable
from tacroute.whatif.inputs import AssumeAvailable
from testkit.seed import seed_text

NOW = 1_750_000_000.0
EXTRA = """
[projects."acme/api"]
budget = { monthly_usd = 10, over = "downgrade", to = "claude-cli/claude-haiku-4", reserve_usd = 1 }
"""
TASK = {"priority": "low", "labels": ["x"], "hour": 12, "project": "acme/api"}


def router(reg: Registry) -> tuple[PreferenceRouter, SpendTable]:
    cfg = parse_config(seed_text(True) + EXTRA, Path("c.toml"), registry=reg)
    prefs = preferences(cfg)
    spend = SpendTable(prefs, cfg.timezone)
    return PreferenceRouter(cfg, prefs, providers=AssumeAvailable(cfg), spend=spend,
                            clock=lambda: NOW), spend


def test_spend_added_after_the_first_decision_counts(builtin_registry: Registry) -> None:
    r, spend = router(builtin_registry)
    assert r.route(TASK).model == "claude-sonnet-4-5"  # nothing spent: binds the cells
    spend.add("acme/api", None, 9.5, NOW)
    assert r.route(TASK).model == "claude-haiku-4"  # $0.50 left, under the $1 reserve


def test_reserve_boundary_and_a_table_filled_anew(builtin_registry: Registry) -> None:
    r, spend = router(builtin_registry)
    spend.add("acme/api", None, 9.0, NOW)
    assert r.route(TASK).model == "claude-sonnet-4-5"  # exactly the reserve left: may start
    spend.spend = {}  # what a reload or a new period does: a new dict
    spend.add("acme/api", None, 9.25, NOW)
    assert r.route(TASK).model == "claude-haiku-4"
    spend.spend = {}
    assert r.route(TASK).model == "claude-sonnet-4-5"
