"""``tacroute pricing [MODEL] [--json]``: the merged price table, core only (no plugins)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.plugins import Registry, set_registry

HEAD = '[routing]\ndefault_provider = "p"\ndefault_model = "m"\n[providers.p]\ncommand_template = ["true"]\n\n'


@pytest.fixture
def no_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    set_registry(Registry.from_plugins([]))
    monkeypatch.setenv("TACROUTE_PRICING_CACHE", str(tmp_path / "cache.json"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("TACROUTE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    set_registry(None)


def test_table_merges_builtins_cache_and_config(no_plugins: Path) -> None:
    (no_plugins / "cache.json").write_text(json.dumps({"fetched_at": "t", "models": {
        "vendor/cached-1": {"input": 1.5, "output": 6, "cache_read": None, "cache_write": None},
        "claude-haiku-4": {"input": 0.9, "output": 4.5}}}), encoding="utf-8")
    config = no_plugins / "tacroute.toml"
    config.write_text(HEAD + '[pricing."claude-opus-4"]\ninput = 10\noutput = 50\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["pricing", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    models = json.loads(result.output)["models"]
    assert models["vendor/cached-1"]["source"] == "cache"
    assert (models["claude-haiku-4"]["input"], models["claude-haiku-4"]["source"]) == (0.9, "cache")
    assert (models["claude-opus-4"]["output"], models["claude-opus-4"]["source"]) == (50.0, "config")
    assert models["gpt-4o"]["source"] == "builtin"


def test_one_model_with_name_normalisation(no_plugins: Path) -> None:
    result = CliRunner().invoke(cli, ["pricing", "anthropic/claude-3.5-haiku"])
    assert result.exit_code == 0, result.output
    assert "input 0.8, output 4" in result.output and "from builtin" in result.output
    data = json.loads(CliRunner().invoke(cli, ["pricing", "show", "claude-sonnet-4-5-20250929",
                                               "--json"]).output)
    assert data["input"] == 3.0 and data["sources"]["config"] is None


def test_errors(no_plugins: Path) -> None:
    result = CliRunner().invoke(cli, ["pricing", "nobody/knows"])
    assert result.exit_code == 2 and "no price known" in result.output
    missing = CliRunner().invoke(cli, ["pricing", "--config", str(no_plugins / "absent.toml")])
    assert missing.exit_code == 2 and "not found" in missing.output
    bad = no_plugins / "tacroute.toml"
    bad.write_text(HEAD + '[pricing."m"]\ninput = "cheap"\noutput = 1\n', encoding="utf-8")
    broken = CliRunner().invoke(cli, ["pricing"])
    assert broken.exit_code == 2 and "[pricing]" in broken.output
