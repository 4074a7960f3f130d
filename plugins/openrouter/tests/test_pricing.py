"""``tacroute pricing refresh`` (from the plugin) and ``tacroute pricing`` (core) together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.plugins import Registry
from tacroute.pricing import PricingTable
from tacroute_openrouter.api import ApiError, models_to_prices
from testkit.openrouter_server import FakeOpenRouter

MODELS = {"data": [
    {"id": "acme/coder-1", "name": "Coder", "context_length": 8192,
     "pricing": {"prompt": "0.000003", "completion": "0.000015", "request": "0",
                 "input_cache_read": "0.0000003", "input_cache_write": "0.00000375"}},
    {"id": "acme/free:free", "pricing": {"prompt": "0", "completion": "0"}},
    {"id": "openrouter/auto", "pricing": {"prompt": "-1", "completion": "-1"}},
    {"id": "acme/broken", "pricing": {"prompt": "n/a", "completion": "1"}},
    {"id": "acme/no-pricing"},
]}


def test_models_to_prices_converts_per_token_strings_to_per_million() -> None:
    prices = models_to_prices(MODELS)
    assert prices["acme/coder-1"] == {"input": pytest.approx(3.0), "output": pytest.approx(15.0),
                                      "cache_read": pytest.approx(0.3), "cache_write": pytest.approx(3.75)}
    assert prices["acme/free:free"] == {"input": 0.0, "output": 0.0, "cache_read": None, "cache_write": None}
    assert set(prices) == {"acme/coder-1", "acme/free:free"}
    with pytest.raises(ApiError):
        models_to_prices({"nope": 1})


def test_refresh_writes_the_cache_and_pricing_shows_it(builtin_registry: Registry,
                                                       openrouter_server: FakeOpenRouter,
                                                       pricing_cache: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    openrouter_server.models_payload = MODELS
    monkeypatch.setenv("OPENROUTER_BASE_URL", openrouter_server.base_url)
    result = CliRunner().invoke(cli, ["pricing", "refresh"])
    assert result.exit_code == 0, result.output
    assert "2 model prices written" in result.output
    cache = json.loads(pricing_cache.read_text(encoding="utf-8"))
    assert cache["fetched_at"] and cache["models"]["acme/coder-1"]["input"] == pytest.approx(3.0)
    assert PricingTable.load().get("acme/coder-1") is not None

    # The merged table: cache entries, built-ins, and config overrides on top.
    config = tmp_path / "config.toml"
    config.write_text('[pricing."acme/coder-1"]\ninput = 1.0\noutput = 2.0\n\n[routing]\n'
                      'default_provider = "x"\ndefault_model = "y"\n[providers.x]\ntype = "claude-cli"\n',
                      encoding="utf-8")
    shown = CliRunner().invoke(cli, ["pricing", "--json", "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    table = json.loads(shown.output)["models"]
    assert table["acme/coder-1"]["source"] == "config" and table["acme/coder-1"]["input"] == 1.0
    assert table["acme/free:free"]["source"] == "cache"
    assert table["claude-opus-4"]["source"] == "builtin"
    one = CliRunner().invoke(cli, ["pricing", "acme/free:free"])
    assert one.exit_code == 0 and "from cache" in one.output
    one = CliRunner().invoke(cli, ["pricing", "show", "acme/coder-1", "--json"])
    assert json.loads(one.output)["output"] == pytest.approx(15.0)


def test_refresh_failure_keeps_the_old_cache(builtin_registry: Registry, openrouter_server: FakeOpenRouter,
                                             pricing_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pricing_cache.write_text('{"fetched_at": "before", "models": {}}', encoding="utf-8")
    openrouter_server.models_payload = {"data": []}
    monkeypatch.setenv("OPENROUTER_BASE_URL", openrouter_server.base_url)
    result = CliRunner().invoke(cli, ["pricing", "refresh"])
    assert result.exit_code == 1 and "listed no priced model" in result.output
    nope = openrouter_server.base_url + "/nope"
    result = CliRunner().invoke(cli, ["pricing", "refresh", "--base-url", nope])
    assert result.exit_code == 1 and "HTTP 404" in result.output
    assert json.loads(pricing_cache.read_text(encoding="utf-8"))["fetched_at"] == "before"


def test_pricing_unknown_model_and_help(builtin_registry: Registry, pricing_cache: Path) -> None:
    result = CliRunner().invoke(cli, ["pricing", "no-such/model"])
    assert result.exit_code == 2 and "no price known" in result.output
    result = CliRunner().invoke(cli, ["pricing", "--help"])
    assert result.exit_code == 0 and "refresh" in result.output and "show" in result.output
    table = CliRunner().invoke(cli, ["pricing"])
    assert table.exit_code == 0 and "claude-sonnet-4-5" in table.output
