"""Configs that used to validate although they were wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.config import parse_config
from tacroute.config.sections import all_sections, known_tables
from tacroute.errors import ConfigError
from tacroute.plugins import Registry

BASE = """\
[providers.claude-cli]
command_template = ["claude", "-p", "--model", "{model}"]
stdin = "{prompt_file}"

[routing]
enabled = true
default_provider = "claude-cli"
default_model = "claude-sonnet-4-5"
"""
RULE = """
[[routing.rules]]
name = "docs"
priority = 10
conditions = { labels = ["docs"] }
model = "claude-haiku-4"
"""


def validate(path: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["config", "validate", "--config", str(path), *extra])
    return result.exit_code, result.stdout, result.stderr


def issues(text: str, registry: Registry) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("c.toml"), registry=registry)
    return [i.format("c.toml") for i in info.value.issues]


def test_unknown_top_level_tables_warn_with_line_and_hint(tmp_path: Path,
                                                          builtin_registry: Registry) -> None:
    path = tmp_path / "c.toml"
    path.write_text(BASE + RULE + "\n[routng]\nx = 1\n\n[provider.extra]\na = 1\n\n[runer]\n"
                    "\n[llm]\nmodel_defualt = \"x\"\n")
    code, out, err = validate(path)
    assert code == 0 and "valid (1 rules" in out
    lines = path.read_text().splitlines()
    assert f"{path}:{lines.index('[routng]') + 1}: routng: unknown top-level table" in err
    assert "did you mean `routing`?" in err
    assert f"{path}:{lines.index('[provider.extra]') + 1}: provider: " in err
    assert "did you mean `providers`?" in err
    assert f"{path}:{lines.index('[runer]') + 1}: runer: " in err and "did you mean `runner`?" in err
    assert "llm.model_defualt: unknown key in [llm], ignored (did you mean `model_default`?)" in err
    data = json.loads(validate(path, "--json")[1])
    assert data["valid"] and sum("unknown" in w for w in data["warnings"]) == 4


def test_every_known_table_is_silent(tmp_path: Path, builtin_registry: Registry) -> None:
    path = tmp_path / "c.toml"
    path.write_text(BASE + RULE + """
[llm]
provider = "claude-cli"
model_default = "claude-sonnet-4-5"

[runner]
[history]
enabled = false
[pricing."claude-haiku-4"]
input = 1.0
output = 5.0
[estimate]
input_tokens = 1000
[secrets]
env_file = ".env"
[projects."acme/*"]
deny_providers = []
[users.alice]
[policy]
repo_config = false
[state]
backend = "sqlite"
""")
    assert set(known_tables(all_sections(builtin_registry))) == {"providers", "routing", "llm", "runner", "history",
                                                                 "pricing", "estimate", "secrets", "projects",
                                                                 "users", "policy", "state"}
    code, _, err = validate(path)
    assert code == 0 and "unknown" not in err


def test_unknown_key_in_rule_and_provider_names_the_closest(builtin_registry: Registry) -> None:
    text = BASE.replace('stdin = "{prompt_file}"', 'stdin = "{prompt_file}"\ntimout = 3') + \
        RULE.replace('model = "claude-haiku-4"', 'modle = "claude-haiku-4"')
    found = issues(text, builtin_registry)
    assert any("providers.claude-cli.timout: unknown key" in i and "did you mean `timeout`?" in i
               for i in found)
    assert any("routing.rules[0].modle: unknown key" in i and "did you mean `model`?" in i for i in found)


def test_rule_without_model_is_an_error(tmp_path: Path, builtin_registry: Registry) -> None:
    path = tmp_path / "c.toml"
    path.write_text(BASE + RULE.replace('model = "claude-haiku-4"\n', ""))
    code, _, err = validate(path)
    assert code == 2
    assert f"{path}:10: routing.rules[0].model: rule 'docs' has no model" in err
    assert "Traceback" not in err


def test_rule_with_targets_needs_no_model(builtin_registry: Registry) -> None:
    text = BASE + """
[[routing.rules]]
name = "spread"
priority = 1
conditions = { labels = ["x"] }
targets = [{ model = "claude-haiku-4" }, { model = "claude-sonnet-4-5" }]
"""
    cfg = parse_config(text, registry=builtin_registry)
    assert [t.model for t in cfg.rules[0].targets] == ["claude-haiku-4", "claude-sonnet-4-5"]


@pytest.mark.parametrize("item", ["{model:d}", "{model!r}", "{model:>10}", "--m={model!s:^3}"])
def test_format_specs_and_conversions_are_refused(builtin_registry: Registry, item: str) -> None:
    text = BASE.replace('"--model", "{model}"', f'"--model", "{item}"') + RULE
    found = issues(text, builtin_registry)
    assert len(found) == 1
    assert "providers.claude-cli.command_template[3]: placeholder" in found[0]
    assert "format spec or conversion" in found[0] and "write {model}" in found[0]


@pytest.mark.parametrize(("item", "hint"), [("{modle}", "model"), ("{prompt_fille}", "prompt_file"),
                                            ("{}", None), ("{model.x}", "model"), ("{0}", None)])
def test_unknown_placeholders_are_refused(builtin_registry: Registry, item: str, hint: str | None) -> None:
    text = BASE.replace('stdin = "{prompt_file}"', f'stdin = "{item}"') + RULE
    found = issues(text, builtin_registry)
    assert len(found) == 1 and "providers.claude-cli.stdin: unknown placeholder" in found[0]
    assert (f"did you mean `{hint}`?" in found[0]) if hint else "did you mean" not in found[0]


def test_templates_that_run_still_load(builtin_registry: Registry) -> None:
    text = BASE.replace('"{model}"', '"{model}", "--x={{literal}}", "{output_file}", "{prompt}"') + RULE
    assert parse_config(text, registry=builtin_registry).providers["claude-cli"].command_template[3] == "{model}"


@pytest.mark.parametrize(("text", "expected"), [
    (BASE + RULE.replace('name = "docs"', 'name = ""'), "routing.rules[0].name: must not be empty"),
    (BASE + RULE.replace('name = "docs"', 'name = "  "'), "routing.rules[0].name: must not be empty"),
    (BASE + RULE + '\n[providers.""]\ncommand_template = ["x"]\n', 'providers."": a provider needs a name'),
    (BASE + RULE.replace('model = "claude-haiku-4"', 'model = ""'), "rule 'docs' has an empty model"),
])
def test_empty_names_are_refused(builtin_registry: Registry, text: str, expected: str) -> None:
    assert any(expected in i for i in issues(text, builtin_registry))


def test_seed_and_examples_still_load(builtin_registry: Registry) -> None:
    root = Path(__file__).resolve().parent.parent
    from testkit.seed import seed_text

    for text in [seed_text(), seed_text(enabled=False),
                 *(p.read_text() for p in sorted((root / "examples").glob("*.toml")))]:
        cfg = parse_config(text, registry=builtin_registry)
        assert cfg.rules and all(r.model for r in cfg.rules)
        assert not [w for w in cfg.warnings if "unknown" in w]
