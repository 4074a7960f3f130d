"""Rule edits lose nothing: exact removals, concurrent adds, symlinked configs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.config import load_config
from tacroute.plugins import Registry

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "config.toml"
TACROUTE = Path(sys.executable).with_name("tacroute")
RULE_NAMES = re.findall(r'^name = "([^"]+)"', EXAMPLE.read_text(), flags=re.M)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def expected_without(text: str, name: str) -> str:
    """The example text minus the rule's own lines, its comment block and one blank line above.

    Worked out independently of the editor: in the example every rule is a
    header, key lines up to the first blank line, after a comment block.
    """
    lines = text.splitlines(keepends=True)
    name_at = lines.index(f'name = "{name}"\n')
    start = name_at - 1
    assert lines[start] == "[[routing.rules]]\n"
    end = name_at
    while end < len(lines) and lines[end].strip():
        end += 1
    while lines[start - 1].startswith("#"):
        start -= 1
    if not lines[start - 1].strip():
        start -= 1
    return "".join(lines[:start] + lines[end:])


@pytest.fixture
def example_file(seed_file: Path) -> Path:
    """examples/config.toml in the seed_file's folder (so tools/openrouter-cli.py exists)."""
    path = seed_file.parent / "example.toml"
    shutil.copyfile(EXAMPLE, path)
    return path


@pytest.mark.parametrize("name", RULE_NAMES)
def test_remove_takes_exactly_the_rule_and_its_comment(example_file: Path, builtin_registry: Registry,
                                                        name: str) -> None:
    before = example_file.read_text()
    code, out = run("rules", "remove", name, "--config", str(example_file))
    assert code == 0, out
    after = example_file.read_text()
    assert after == expected_without(before, name)
    assert [r.name for r in load_config(example_file).rules] == [n for n in RULE_NAMES if n != name]


def test_remove_next_rules_comment_is_kept(example_file: Path, builtin_registry: Registry) -> None:
    assert run("rules", "remove", "retry-use-haiku", "--config", str(example_file))[0] == 0
    text = example_file.read_text()
    assert "# Normal/high priority use Sonnet\n[[routing.rules]]\nname = \"high-priority-sonnet\"" in text
    assert "# Retries use cheaper model" not in text


def test_remove_rule_with_subtable_and_multiline_array(seed_file: Path, builtin_registry: Registry) -> None:
    text = seed_file.read_text() + '''
# the spread rule
[[routing.rules]]
name = "spread"
priority = 5
strategy = "ordered"
targets = [
    { provider = "claude-cli", model = "claude-haiku-4" },
    { provider = "claude-cli", model = "claude-sonnet-4-5" },
]
[routing.rules.conditions]
labels = ["spread"]

# kept: introduces the last rule
[[routing.rules]]
name = "last"
priority = 1
conditions = { labels = ["last"] }
model = "claude-haiku-4"
'''
    seed_file.write_text(text)
    assert run("rules", "remove", "spread", "--config", str(seed_file))[0] == 0
    after = seed_file.read_text()
    cut = text.index("\n# the spread rule")
    assert after == text[:cut] + text[text.index("\n# kept: introduces"):]


def test_concurrent_adds_all_land(seed_file: Path, builtin_registry: Registry) -> None:
    env = {**os.environ, "TACROUTE_CONFIG": str(seed_file)}
    procs = [subprocess.Popen([str(TACROUTE), "rules", "add", f"conc-{i}", "--priority", str(i),
                               "--model", "claude-haiku-4", "--when", f'labels=["conc-{i}"]'],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for i in range(10)]
    results = [(p.wait(timeout=300), p.stdout.read() if p.stdout else "", p.stderr.read() if p.stderr else "")
               for p in procs]
    for p in procs:
        for stream in (p.stdout, p.stderr):
            if stream:
                stream.close()
    assert all(code == 0 and "added rule" in out for code, out, _ in results), results
    names = {r.name for r in load_config(seed_file).rules}
    assert {f"conc-{i}" for i in range(10)} <= names
    assert len(names) == 15
    assert not [p for p in seed_file.parent.iterdir() if p.name.endswith(".tmp")]


def test_edit_through_symlink_keeps_the_link(seed_file: Path, tmp_path: Path,
                                             builtin_registry: Registry) -> None:
    seed_file.chmod(0o640)
    link_dir = tmp_path / "elsewhere"
    link_dir.mkdir()
    link = link_dir / "tacroute.toml"
    link.symlink_to(seed_file)
    code, out = run("rules", "add", "via-link", "--priority", "3", "--model", "claude-haiku-4",
                    "--config", str(link))
    assert code == 0, out
    assert link.is_symlink() and link.resolve() == seed_file.resolve()
    assert 'name = "via-link"' in seed_file.read_text()
    assert seed_file.stat().st_mode & 0o777 == 0o640
    assert (seed_file.parent / f".{seed_file.name}.lock").exists()
    assert [p.name for p in link_dir.iterdir()] == ["tacroute.toml"]
    assert run("rules", "disable", "via-link", "--config", str(link))[0] == 0
    assert run("rules", "remove", "via-link", "--config", str(link))[0] == 0
    assert link.is_symlink() and "via-link" not in seed_file.read_text()


def test_add_needs_a_model(seed_file: Path, builtin_registry: Registry) -> None:
    before = seed_file.read_text()
    result = CliRunner().invoke(cli, ["rules", "add", "no-model", "--priority", "1",
                                      "--config", str(seed_file)])
    assert result.exit_code == 2 and "--model" in result.output
    assert seed_file.read_text() == before
