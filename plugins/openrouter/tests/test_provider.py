"""The ``openrouter`` provider type: config options, process environment, live key check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.config import parse_config
from tacroute.errors import ConfigError
from tacroute.plugins import Registry
from tacroute.providers import ProviderManager, executes_in_process
from tacroute.providers.command import build_command, build_env
from tacroute_openrouter.options import ENV_KEY_NAME, ENV_OPTIONS
from tacroute_openrouter.plugin import OpenRouterProvider
from testkit.openrouter_fixtures import TEST_KEY
from testkit.openrouter_server import FakeOpenRouter

CONFIG = """
[providers.openrouter]
api_key_env = "OR_KEY_FOR_TESTS"
base_url = "{base_url}"
http_referer = "https://example.org"
x_title = "tacroute"
provider = {{ order = ["anthropic"], allow_fallbacks = false, sort = "price" }}
models = ["anthropic/claude-3.5-haiku", "openai/gpt-4o-mini"]
max_tokens = 256

[routing]
enabled = true
default_provider = "openrouter"
default_model = "anthropic/claude-3.5-haiku"
"""


def _config(builtin_registry: Registry, base_url: str = "http://127.0.0.1:1/api/v1", text: str = CONFIG):
    return parse_config(text.format(base_url=base_url), Path("/tmp/tacroute-test.toml"),
                        registry=builtin_registry)


def test_plugin_registers_type_and_commands(builtin_registry: Registry) -> None:
    ptype = builtin_registry.providers["openrouter"]
    assert isinstance(ptype, OpenRouterProvider)
    assert ptype.output_parser == "openrouter-stream-json"
    assert "openrouter-stream-json" in builtin_registry.output_parsers
    # In-process by default: no command to run, nothing to find on PATH.
    assert executes_in_process(ptype) and ptype.default_command == ()


def test_options_are_type_checked_by_the_core(builtin_registry: Registry) -> None:
    bad = CONFIG.replace('max_tokens = 256', 'max_tokens = "many"')
    with pytest.raises(ConfigError, match="max_tokens"):
        _config(builtin_registry, text=bad)
    with pytest.raises(ConfigError, match="bogus_option"):
        _config(builtin_registry,
                text=CONFIG + '\n[providers.openrouter2]\ntype = "openrouter"\nbogus_option = 1\n')


def test_unknown_provider_preference_makes_it_unavailable(builtin_registry: Registry) -> None:
    text = CONFIG.replace('sort = "price"', 'sort = "price", fastest = true').replace(
        "[providers.openrouter]", '[providers.openrouter]\ncommand_template = ["/bin/sh"]')
    config = _config(builtin_registry, text=text)
    ok, reason = ProviderManager(config, builtin_registry, env={"OR_KEY_FOR_TESTS": "k", "PATH": ""}
                                 ).is_available("openrouter")
    assert not ok and "fastest" in (reason or "")
    assert any("fastest" in w for w in OpenRouterProvider().lint(config.providers["openrouter"]))


WRAPPER_TABLE = ('[providers.openrouter]\ncommand_template = ["tacroute-openrouter", "-p", "{{prompt_file}}", '
                 '"--model", "{{model}}", "--output-file", "{{output_file}}", "--output-format", '
                 '"stream-json"]')


def test_options_reach_the_wrapper_through_env_never_argv(builtin_registry: Registry) -> None:
    config = _config(builtin_registry, text=CONFIG.replace("[providers.openrouter]", WRAPPER_TABLE))
    env = {"OR_KEY_FOR_TESTS": TEST_KEY, "PATH": "/usr/bin"}
    manager = ProviderManager(config, builtin_registry, env=env)
    argv = build_command(manager, "openrouter", "/tmp/p.txt", "anthropic/claude-3.5-haiku", "/tmp/o.jsonl")
    assert argv[1:] == ["-p", "/tmp/p.txt", "--model", "anthropic/claude-3.5-haiku",
                        "--output-file", "/tmp/o.jsonl", "--output-format", "stream-json"]
    assert not any(TEST_KEY in a for a in argv)
    child = build_env(manager, "openrouter")
    assert child[ENV_KEY_NAME] == "OR_KEY_FOR_TESTS"
    options = json.loads(child[ENV_OPTIONS])
    assert options["provider"] == {"order": ["anthropic"], "allow_fallbacks": False, "sort": "price"}
    assert options["models"] == ["anthropic/claude-3.5-haiku", "openai/gpt-4o-mini"]
    assert TEST_KEY not in child[ENV_OPTIONS]


def test_table_env_wins_over_type_env(builtin_registry: Registry) -> None:
    text = CONFIG + '\n[providers.openrouter.env]\nTACROUTE_OPENROUTER_KEY_ENV = "OTHER"\n'
    manager = ProviderManager(_config(builtin_registry, text=text), builtin_registry, env={})
    assert build_env(manager, "openrouter")[ENV_KEY_NAME] == "OTHER"


def test_check_reports_credits_without_the_key(builtin_registry: Registry,
                                               openrouter_server: FakeOpenRouter) -> None:
    openrouter_server.valid_key = TEST_KEY
    openrouter_server.key_payload = {"data": {
        "label": f"{TEST_KEY[:10]}...", "limit": 100, "limit_remaining": 74.5, "limit_reset": "monthly",
        "usage": 25.5, "is_free_tier": False,
        "rate_limit": {"interval": "1h", "requests": 1000, "note": "deprecated"}}}
    config = _config(builtin_registry, openrouter_server.base_url)
    pc = config.providers["openrouter"]
    found = OpenRouterProvider().check(pc, {"OR_KEY_FOR_TESTS": TEST_KEY})
    assert found is not None and found["ok"] is True
    assert found["limit_remaining"] == 74.5
    assert "74.5 credits left of 100" in found["message"]
    assert "1000 requests / 1h" in found["message"]
    assert "label" not in found and TEST_KEY[:10] not in json.dumps(found)
    (req,) = openrouter_server.requests
    assert req.path == "/api/v1/key" and req.headers["authorization"] == f"Bearer {TEST_KEY}"
    bad = OpenRouterProvider().check(pc, {"OR_KEY_FOR_TESTS": "sk-wrong-key-123456"})
    assert bad is not None and bad["ok"] is False and "401" in bad["message"]
    assert "sk-wrong-key-123456" not in bad["message"]


def test_providers_check_cli(builtin_registry: Registry, openrouter_server: FakeOpenRouter,
                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    openrouter_server.valid_key = TEST_KEY
    openrouter_server.key_payload = {"data": {"limit": None, "limit_remaining": None, "usage": 1.25}}
    path = tmp_path / "config.toml"
    text = CONFIG.format(base_url=openrouter_server.base_url).replace(
        "[providers.openrouter]", '[providers.openrouter]\ncommand_template = ["/bin/sh"]')
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("OR_KEY_FOR_TESTS", TEST_KEY)
    result = CliRunner().invoke(cli, ["providers", "--check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "check: ok  key valid; unlimited credits; used 1.25" in result.output
    assert TEST_KEY not in result.output
    result = CliRunner().invoke(cli, ["providers", "--check", "--json", "--config", str(path)])
    data = json.loads(result.output)
    assert data["providers"][0]["check"]["ok"] is True
    monkeypatch.setenv("OR_KEY_FOR_TESTS", "sk-revoked-000000000")
    result = CliRunner().invoke(cli, ["providers", "--check", "--config", str(path)])
    assert result.exit_code == 1
    assert "FAILED" in result.output and "sk-revoked-000000000" not in result.output
