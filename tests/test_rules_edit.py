from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.plugins import Registry


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def split_rules(text: str) -> list[str]:
    return text.split("[[routing.rules]]")


def test_disable_enable_change_only_that_rule(seed_file: Path, builtin_registry: Registry) -> None:
    before = seed_file.read_text()
    code, out = run("rules", "disable", "off-hours-haiku", "--config", str(seed_file))
    assert code == 0, out
    after = seed_file.read_text()
    b, a = split_rules(before), split_rules(after)
    assert len(a) == len(b)
    changed = [i for i in range(len(b)) if a[i] != b[i]]
    assert changed == [4]
    assert "enabled = false" in a[4]
    assert a[4].replace("enabled = false\n", "") == b[4]
    data = json.loads(run("rules", "list", "--config", str(seed_file), "--json")[1])
    assert [r["enabled"] for r in data if r["name"] == "off-hours-haiku"] == [False]
    assert run("rules", "enable", "off-hours-haiku", "--config", str(seed_file))[0] == 0
    assert split_rules(seed_file.read_text())[:4] == b[:4]
    assert "enabled = true" in split_rules(seed_file.read_text())[4]


def test_add_appends_and_keeps_everything_else(seed_file: Path, builtin_registry: Registry) -> None:
    before = seed_file.read_text()
    code, out = run("rules", "add", "security-opus", "--priority", "98", "--provider", "claude-cli",
                    "--model", "claude-opus-4", "--when", "labels=[\"security\"]",
                    "--when", "retry_count={ lte = 1 }", "--config", str(seed_file))
    assert code == 0, out
    after = seed_file.read_text()
    assert after.startswith(before)
    added = after[len(before):]
    assert 'name = "security-opus"' in added and 'labels = ["security"]' in added
    code, out = run("route", "--config", str(seed_file), "--label", "security", "--hour", "12", "--json")
    assert json.loads(out)["rule"] == "security-opus"


def test_remove_keeps_the_rest_byte_for_byte(seed_file: Path, builtin_registry: Registry) -> None:
    before = seed_file.read_text()
    assert run("rules", "remove", "retry-use-haiku", "--config", str(seed_file))[0] == 0
    b, a = split_rules(before), split_rules(seed_file.read_text())
    assert len(a) == len(b) - 1
    assert a[0] == b[0] and a[2:] == b[3:]
    # the rule's own leading comment belongs to the previous chunk in this split; the rule is gone
    assert "retry-use-haiku" not in seed_file.read_text()


@pytest.mark.parametrize("args", [
    ["rules", "remove", "nope"],
    ["rules", "disable", "nope"],
    ["rules", "add", "critical-issues-opus", "--priority", "1", "--model", "x"],
    ["rules", "add", "bad", "--priority", "1", "--model", "x", "--when", "hour_range=[0, 99]"],
    ["rules", "add", "bad", "--priority", "1", "--model", "x", "--when", "nocolon"],
])
def test_bad_edits_change_nothing(seed_file: Path, builtin_registry: Registry, args: list[str]) -> None:
    before = seed_file.read_text()
    code, _ = run(*args, "--config", str(seed_file))
    assert code == 2
    assert seed_file.read_text() == before


def test_add_with_a_value_no_toml_parser_survives_is_text(seed_file: Path, builtin_registry: Registry) -> None:
    """5,000 open brackets made `rules add --when` crash (RecursionError): now, like --attr, the text."""
    deep = "[" * 5000
    code, out = run("rules", "add", "deep", "--priority", "5", "--model", "claude-haiku-4",
                    "--when", f"priority={deep}", "--config", str(seed_file))
    assert code == 0, out
    assert "internal error" not in out
    assert f"priority = \"{deep}\"" in seed_file.read_text(encoding="utf-8").replace("'", '"')
