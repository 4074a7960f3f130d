"""Where a cost comes from: the provider's own figure or tacroute's estimate."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tacroute.config import parse_config
from tacroute.errors import ConfigError
from tacroute.history.schema import migrate
from tacroute.pricing import PricingTable
from tacroute.runner.costing import run_cost_source, settle_cost
from tacroute.types import Outcome, Usage
from tacroute_claude_cli import ClaudeCLIProvider

BASE = '[routing]\ndefault_provider = "c"\ndefault_model = "claude-sonnet-4-5"\n'


def test_claude_off_anthropic_estimates_unless_told(builtin_registry: object) -> None:
    ptype = ClaudeCLIProvider()
    for url, source in (("https://openrouter.ai/api", "estimated"), ("https://api.anthropic.com", "reported"),
                        ("http://127.0.0.1:9", "reported"), (None, "reported")):
        env = f'env = {{ ANTHROPIC_BASE_URL = "{url}" }}\n' if url else ""
        config = parse_config(f'[providers.c]\ntype = "claude-cli"\n{env}' + BASE, registry=builtin_registry)
        assert ptype.cost_source(config.providers["c"]) == source, url
    config = parse_config('[providers.c]\ntype = "claude-cli"\ncost_source = "reported"\n'
                          'env = { ANTHROPIC_BASE_URL = "https://openrouter.ai/api" }\n' + BASE,
                          registry=builtin_registry)
    assert ptype.cost_source(config.providers["c"]) == "reported"


def test_an_unknown_cost_source_is_a_config_error(builtin_registry: object) -> None:
    with pytest.raises(ConfigError, match="cost_source"):
        parse_config('[providers.c]\ntype = "claude-cli"\ncost_source = "guessed"\n' + BASE,
                     registry=builtin_registry)


def test_settle_cost() -> None:
    table = PricingTable()
    usage = Usage(1_000_000, 0)
    reported = Outcome(True, usage=usage, cost_usd=9.0)
    assert settle_cost(reported, "reported", "claude-sonnet-4-5", lambda: table).cost_usd == 9.0
    assert settle_cost(reported, "reported", "x", lambda: table).cost_source == "reported"
    est = settle_cost(reported, "estimated", "claude-sonnet-4-5", lambda: table)
    assert (est.cost_usd, est.cost_source) == (3.0, "estimated")
    assert settle_cost(reported, "estimated", "no-such-model", lambda: table).cost_usd is None
    assert settle_cost(Outcome(False), "estimated", "claude-sonnet-4-5", lambda: table).cost_usd is None
    assert run_cost_source(["reported", None, "estimated"]) == "estimated"
    assert run_cost_source([None]) is None


def test_migration_adds_the_columns(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "h.db") as conn:
        migrate(conn)
        cols = {r[1] for r in conn.execute("PRAGMA table_info(attempts)")}
        assert {"session_id", "cost_source", "reasoning_tokens"} <= cols
        assert "cost_source" in {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
