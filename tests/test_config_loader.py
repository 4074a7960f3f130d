from __future__ import annotations

from pathlib import Path

import pytest

from tacroute.config import load_config, parse_config
from tacroute.errors import ConfigError
from tacroute.plugins import Registry
from testkit.seed import SEED_CONFIG, seed_text

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "config.toml"


def load(text: str, registry: Registry, name: str = "cfg.toml") -> object:
    return parse_config(text, Path(name), registry=registry)


def error_for(text: str, registry: Registry) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("cfg.toml"), registry=registry)
    return info.value


def test_seed_config_loads_unchanged(builtin_registry: Registry) -> None:
    cfg = parse_config(seed_text(enabled=False), None, registry=builtin_registry)
    assert not cfg.routing_enabled
    assert cfg.default_provider == "claude-cli"
    assert cfg.default_model == "claude-sonnet-4-5"
    assert [r.name for r in cfg.rules_by_priority()] == [
        "critical-issues-opus", "retry-use-haiku", "high-priority-sonnet", "off-hours-haiku", "docs-haiku"]
    orc = cfg.providers["openrouter"]
    assert orc.requires_api_key and orc.api_key_env == "OPENROUTER_API_KEY"
    assert orc.command_template[0] == "tools/openrouter-cli.py"


def test_example_config_is_the_seed_with_routing_on(builtin_registry: Registry) -> None:
    cfg = load_config(EXAMPLE, registry=builtin_registry)
    assert cfg.routing_enabled
    assert len(cfg.rules) == 5
    assert cfg.path == EXAMPLE


def test_rule_without_provider_uses_default_provider(builtin_registry: Registry) -> None:
    text = SEED_CONFIG + """
[[routing.rules]]
name = "retry-use-haiku"
priority = 95
conditions = { retry_count = { gte = 1 } }
model = "claude-haiku-4"
"""
    cfg = parse_config(text, None, registry=builtin_registry)
    assert cfg.rules[0].provider == "claude-cli"


def test_provider_type_lets_one_type_be_configured_twice(builtin_registry: Registry) -> None:
    text = """
[providers.or-team-a]
type = "openrouter"
api_key_env = "TEAM_A_KEY"
[providers.or-team-b]
type = "openrouter"
api_key_env = "TEAM_B_KEY"
[routing]
default_provider = "or-team-a"
default_model = "anthropic/claude-3.5-haiku"
"""
    cfg = parse_config(text, None, registry=builtin_registry)
    assert {p.type for p in cfg.providers.values()} == {"openrouter"}
    assert cfg.providers["or-team-b"].api_key_env == "TEAM_B_KEY"
    # The openrouter type runs in-process: a table without a command gets none.
    assert cfg.providers["or-team-b"].command_template == ()


def test_errors_name_file_line_key_and_what_is_valid(builtin_registry: Registry) -> None:
    text = seed_text().replace('conditions = { retry_count = { gte = 1 } }',
                               'conditions = { retry_count = { gtee = 1 } }')
    err = error_for(text, builtin_registry)
    assert len(err.issues) == 1
    issue = err.issues[0]
    assert issue.key == "routing.rules[1].conditions.retry_count"
    assert "unknown operator 'gtee'" in issue.message and "gte" in issue.message
    line = text.splitlines()[issue.line - 1] if issue.line else ""
    assert "gtee" in line
    assert str(err).startswith(f"cfg.toml:{issue.line}: routing.rules[1].conditions.retry_count:")


@pytest.mark.parametrize(("old", "new", "key", "words"), [
    ('conditions = { priority = "critical" }', 'conditions = { severity = "critical" }',
     "routing.rules[0].conditions.severity", ["unknown condition type 'severity'", "priority", "labels"]),
    ('conditions = { hour_range = [0, 8] }', 'conditions = { hour_range = [0, 25] }',
     "routing.rules[3].conditions.hour_range", ["0 <= end <= 24"]),
    ('conditions = { hour_range = [0, 8] }', 'conditions = { hour_range = "night" }',
     "routing.rules[3].conditions.hour_range", ["[start, end]"]),
    ('model = "claude-opus-4"', 'model = 4', "routing.rules[0].model", ["must be a string"]),
    ('priority = 100', 'priority = "high"', "routing.rules[0].priority", ["must be an integer"]),
    ('name = "docs-haiku"', 'name = "off-hours-haiku"', "routing.rules[4].name",
     ["duplicate rule name 'off-hours-haiku'"]),
    ('provider = "claude-cli"\nmodel = "claude-opus-4"', 'provider = "claud-cli"\nmodel = "claude-opus-4"',
     "routing.rules[0].provider", ["unknown provider 'claud-cli'", "claude-cli, openrouter"]),
    ('"--model", "{model}",\n    "--output-format", "stream-json",\n    "--verbose"',
     '"--model", "{modle}",\n    "--output-format", "stream-json",\n    "--verbose"',
     "providers.claude-cli.command_template[4]", ["unknown placeholder {modle}", "{model}"]),
    ("enabled = true\nrequires_api_key", "enabled = \"yes\"\nrequires_api_key",
     "providers.openrouter.enabled", ["must be true or false"]),
    ("[routing]\n", "[routing]\ntimezone = \"Mars/Olympus\"\n", "routing.timezone", ["IANA"]),
    ("[routing]\n", "[routing]\nrulez = []\n", "routing.rulez", ["unknown key", "rules"]),
])
def test_invalid_values_are_reported(builtin_registry: Registry, old: str, new: str, key: str,
                                     words: list[str]) -> None:
    text = seed_text()
    assert old in text
    err = error_for(text.replace(old, new, 1), builtin_registry)
    issue = next(i for i in err.issues if i.key == key)
    for word in words:
        assert word in issue.message
    assert issue.line is not None


def test_every_problem_is_reported_at_once(builtin_registry: Registry) -> None:
    text = seed_text().replace('priority = 100', 'priority = "x"').replace(
        'conditions = { hour_range = [0, 8] }', 'conditions = { hour_range = [9, 99] }')
    err = error_for(text, builtin_registry)
    assert {i.key for i in err.issues} == {"routing.rules[0].priority", "routing.rules[3].conditions.hour_range"}


def test_unknown_condition_names_the_disabled_plugin(tmp_path: Path) -> None:
    reg = Registry.load(env={"TACROUTE_DISABLE_PLUGINS": "hour_range"})
    assert "hour_range" not in reg.conditions
    err = error_for(seed_text(), reg)
    issue = next(i for i in err.issues if i.key.endswith("hour_range"))
    assert "plugin 'tacroute-conditions' would provide it but is disabled" in issue.message


def test_not_toml_is_a_config_error(builtin_registry: Registry) -> None:
    err = error_for("[routing\nenabled = true", builtin_registry)
    assert "not valid TOML" in str(err) and "line 1" in str(err)


def test_missing_file_is_a_config_error(tmp_path: Path, builtin_registry: Registry) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", registry=builtin_registry)


def test_default_provider_must_be_configured(builtin_registry: Registry) -> None:
    text = seed_text().replace('default_provider = "claude-cli"', 'default_provider = "gemini"')
    err = error_for(text, builtin_registry)
    assert err.issues[0].key == "routing.default_provider"
    assert "gemini" in err.issues[0].message


def test_unknown_provider_type_is_unavailable_not_fatal(builtin_registry: Registry) -> None:
    text = seed_text() + '\n[providers.gemini]\ncommand_template = ["gemini", "{model}"]\nregion = "eu"\n'
    cfg = parse_config(text, None, registry=builtin_registry)
    assert cfg.providers["gemini"].type_missing
    assert any("provider type 'gemini'" in w for w in cfg.warnings)


def test_other_top_level_tables_are_left_alone(builtin_registry: Registry) -> None:
    cfg = parse_config(seed_text() + "\n[coordinator]\nworkers = 4\n", None, registry=builtin_registry)
    assert cfg.raw["coordinator"] == {"workers": 4}


def test_the_collector_is_paused_while_loading_and_left_as_it_was(builtin_registry: Registry,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from tacroute.config import loader

    seen: list[bool] = []
    validate = loader._validate

    def spy(*args: object) -> object:
        seen.append(gc.isenabled())
        return validate(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(loader, "_validate", spy)
    assert gc.isenabled()
    parse_config(seed_text(), registry=builtin_registry)
    with pytest.raises(ConfigError):
        parse_config(seed_text().replace('priority = "critical"', 'priority = 3', 1), registry=builtin_registry)
    assert seen == [False, False] and gc.isenabled()  # paused inside, back on after an error too
    gc.disable()
    try:
        parse_config(seed_text(), registry=builtin_registry)
        assert not gc.isenabled()  # someone else turned it off: it stays off
    finally:
        gc.enable()
