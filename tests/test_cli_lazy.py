"""``tacroute --help`` lists the built-in commands without importing them; ``route`` imports
only what routing needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click

from tacroute.cli import _BUILTIN, cli

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
from tacroute.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="tacroute")
except SystemExit:
    pass
mods = sorted(m for m in sys.modules if m.startswith("tacroute.cli.") or m in ("tomlkit", "tempfile"))
print(json.dumps(mods), file=sys.stderr)
"""


def imported_by(*args: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, check=False)
    return list(json.loads(proc.stderr.strip().splitlines()[-1]))


def test_help_lines_in_the_table_are_the_commands_own() -> None:
    ctx = click.Context(cli)
    for name, (_, line) in _BUILTIN.items():
        cmd = cli.get_command(ctx, name)
        assert cmd is not None
        for width in (30, 60, 300):
            assert cmd.get_short_help_str(width) == click.Command(name, help=line).get_short_help_str(width)


def test_help_lists_every_command_and_imports_none() -> None:
    proc = subprocess.run([sys.executable, "-m", "tacroute.cli", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)
    listing = proc.stdout if proc.returncode == 0 else ""
    mods = imported_by("--help")
    assert [m for m in mods if m.endswith("_cmd")] == []
    assert "tomlkit" not in mods
    if listing:
        for name in _BUILTIN:
            assert f"  {name} " in listing


def test_route_imports_neither_other_commands_nor_tomlkit() -> None:
    mods = imported_by("route", "--config", str(ROOT / "examples" / "config.toml"), "--priority", "low")
    assert [m for m in mods if m.endswith("_cmd")] == ["tacroute.cli.route_cmd"]
    assert "tomlkit" not in mods and "tempfile" not in mods
