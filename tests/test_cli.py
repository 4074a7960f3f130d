from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.plugins import Registry


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_route_json(seed_file: Path, builtin_registry: Registry) -> None:
    code, out, _ = run("route", "--config", str(seed_file), "--priority", "critical",
                       "--label", "security", "--hour", "12", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["provider"], data["model"], data["rule"]) == ("claude-cli", "claude-opus-4", "critical-issues-opus")
    assert data["fallbacks"] == [{"provider": "claude-cli", "model": "claude-sonnet-4-5", "rule": None}]
    assert data["task"] == {"priority": "critical", "labels": ["security"], "hour": 12}


def test_route_default_has_null_rule(seed_file: Path, builtin_registry: Registry) -> None:
    code, out, _ = run("route", "--config", str(seed_file), "--priority", "low", "--hour", "12", "--json")
    assert code == 0 and json.loads(out)["rule"] is None


def test_route_attr_and_explain(seed_file: Path, builtin_registry: Registry) -> None:
    code, out, _ = run("route", "--config", str(seed_file), "--attr", "priority=normal",
                       "--attr", "retry_count=1", "--hour", "12", "--explain")
    assert code == 0
    assert "MATCH [95] retry-use-haiku" in out
    assert "pass  retry_count = {'gte': 1}" in out
    assert "fail  priority = 'critical'" in out


def test_route_with_nothing_available_warns_and_exits_0(seed_file: Path, builtin_registry: Registry) -> None:
    code, out, err = run("route", "--config", str(seed_file), "--priority", "critical", "--hour", "12",
                         env={"PATH": "/nonexistent"})
    assert code == 0
    assert "claude-cli/claude-opus-4  (unavailable)" in out
    assert "warning: no available provider" in err


def test_config_errors_exit_2_with_file_line_key(seed_file: Path, builtin_registry: Registry) -> None:
    seed_file.write_text(seed_file.read_text().replace("priority = 100", "priority = 'x'"))
    code, _, err = run("route", "--config", str(seed_file), "--priority", "critical")
    assert code == 2
    line = seed_file.read_text().splitlines().index("priority = 'x'") + 1
    assert f"{seed_file}:{line}: routing.rules[0].priority: must be an integer, not a string ('x')" in err


def test_usage_errors_exit_2(seed_file: Path, builtin_registry: Registry) -> None:
    assert run("route", "--config", str(seed_file), "--retry-count", "-1")[0] == 2
    assert run("route", "--config", str(seed_file), "--attr", "novalue")[0] == 2
    assert run("nosuchcommand")[0] == 2


def test_routing_shows_rules_and_scenarios(seed_file: Path, builtin_registry: Registry) -> None:
    code, out, _ = run("routing", "--config", str(seed_file))
    assert code == 0
    assert "[100] critical-issues-opus" in out
    assert "Scenario: Critical security issue" in out
    assert "-> Routed to: claude-cli / claude-opus-4" in out
    data = json.loads(run("routing", "--config", str(seed_file), "--json")[1])
    assert [s["decision"]["model"] for s in data["scenarios"]][:2] == ["claude-opus-4", "claude-haiku-4"]


def test_providers_view_never_prints_keys(seed_file: Path, builtin_registry: Registry) -> None:
    code, out, _ = run("providers", "--config", str(seed_file), env={"OPENROUTER_API_KEY": "sk-or-v1-topsecret"})
    assert code == 0 and "topsecret" not in out
    assert "✓ claude-cli" in out and "✓ openrouter" in out
    data = json.loads(run("providers", "--config", str(seed_file), "--json", env={"OPENROUTER_API_KEY": ""})[1])
    orr = next(p for p in data["providers"] if p["name"] == "openrouter")
    assert orr["available"] is False and orr["reason"] == "OPENROUTER_API_KEY not set"


def test_plugins_json_lists_registrations(builtin_registry: Registry) -> None:
    data = json.loads(run("plugins", "--json")[1])
    by_name = {p["name"]: p for p in data}
    assert by_name["retry_count"]["conditions"] == ["retry_count"]
    assert by_name["retry_count"]["distribution"] == "tacroute-conditions"
    assert by_name["claude_cli"]["providers"] == ["claude-cli"]


def test_config_path_sources(seed_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             builtin_registry: Registry) -> None:
    assert f"{seed_file.resolve()}  (from --config)" in run("config", "path", "--config", str(seed_file))[1]
    monkeypatch.setenv("TACROUTE_CONFIG", str(seed_file))
    assert "(from TACROUTE_CONFIG)" in run("config", "path")[1]
    monkeypatch.delenv("TACROUTE_CONFIG")
    work = tmp_path / "repo"
    (work / "adws").mkdir(parents=True)
    (work / "adws" / "config.toml").write_text(seed_file.read_text())
    (work / "tacroute.toml").write_text(seed_file.read_text())
    monkeypatch.chdir(work)
    assert "(from ./adws/config.toml)" in run("config", "path")[1]
    (work / "adws" / "config.toml").unlink()
    assert "(from ./tacroute.toml)" in run("config", "path")[1]
    (work / "tacroute.toml").unlink()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    code, _, err = run("config", "path")
    assert code == 2 and "no config file found" in err
    (tmp_path / "xdg" / "tacroute").mkdir(parents=True)
    (tmp_path / "xdg" / "tacroute" / "config.toml").write_text(seed_file.read_text())
    assert "(from user config dir)" in run("config", "path")[1]


def test_config_validate_warns_about_seed_template_and_shadowing(seed_file: Path,
                                                                 builtin_registry: Registry) -> None:
    text = seed_file.read_text() + """
[[routing.rules]]
name = "critical-docs"
priority = 50
conditions = { priority = "critical", labels = ["docs"] }
model = "claude-haiku-4"
[[routing.rules]]
name = "never"
priority = 40
conditions = { retry_count = { gte = 3, lte = 1 } }
model = "claude-haiku-4"
"""
    seed_file.write_text(text)
    code, out, err = run("config", "validate", "--config", str(seed_file))
    assert code == 0 and "valid (7 rules" in out
    assert "'-p' is a flag" in err and "{prompt_file}" in err
    assert "routing.rules[5] ('critical-docs'): shadowed by 'critical-issues-opus'" in err
    assert "routing.rules[6] ('never'): can never match" in err
    data = json.loads(run("config", "validate", "--config", str(seed_file), "--json")[1])
    # As root, the seed's --dangerously-skip-permissions also gets an IS_SANDBOX warning.
    sandbox = [w for w in data["warnings"] if "IS_SANDBOX" in w]
    assert len(sandbox) == (1 if os.geteuid() == 0 else 0)
    assert data["valid"] and len(data["warnings"]) == 3 + len(sandbox)


def test_config_validate_json_on_errors(seed_file: Path, builtin_registry: Registry) -> None:
    seed_file.write_text(seed_file.read_text().replace("[0, 8]", "[0, 80]"))
    code, out, _ = run("config", "validate", "--config", str(seed_file), "--json")
    assert code == 2
    data = json.loads(out)
    assert not data["valid"] and "routing.rules[3].conditions.hour_range" in data["errors"][0]


def test_config_init_writes_a_valid_commented_config(tmp_path: Path, fake_bin: Path,
                                                     builtin_registry: Registry) -> None:
    target = tmp_path / "tacroute.toml"
    assert run("config", "init", str(target))[0] == 0
    text = target.read_text()
    assert text.startswith("# tacroute config")
    code, _out, err = run("config", "validate", "--config", str(target))
    assert code == 0, err
    assert "warning" not in err
    assert run("config", "init", str(target))[0] == 2  # no silent overwrite


def test_plugins_shows_observer_hooks(builtin_registry: Registry) -> None:
    from tacroute.plugins import Registry as Reg
    from tacroute.plugins import set_registry

    set_registry(Reg.load(env={}))
    data = {p["name"]: p for p in json.loads(run("plugins", "--json")[1])}
    assert {"observe_attempt", "observe_run"} <= set(data["history"]["observes"])
    assert data["priority"]["observes"] == []
