"""``tacroute --help`` lists plugin commands from a cache: no plugin is loaded on a hit, a
broken plugin is still reported, and the cache follows the plugins' sources."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
from tacroute.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="tacroute")
except SystemExit:
    pass
mods = sorted(m for m in sys.modules if m.startswith(("pluggy", "tacroute_", "tacroute.plugins.registry")))
print(json.dumps(mods), file=sys.stderr)
"""

PLUGIN = '''
import click
from tacroute import hookimpl


@click.command()
def hello() -> None:
    """{text}"""
    click.echo("hello from the plugin")


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(hello)
'''


def distribution(folder: Path, text: str) -> None:
    """A real installed distribution (dist-info on PYTHONPATH) with one command, ``hello``."""
    info = folder / "tacroute_hello-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tacroute-hello\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[tacroute]\nhello = tacroute_hello_plugin\n"
                                           "broken = tacroute_broken_missing:plugin\n")
    (folder / "tacroute_hello_plugin").mkdir(exist_ok=True)
    (folder / "tacroute_hello_plugin" / "__init__.py").write_text(PLUGIN.format(text=text))


def run(folder: Path, *args: str, probe: bool = False, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(folder / "cache"), "PYTHONPATH": str(folder / "site"),
           "PYTHONDONTWRITEBYTECODE": "1", **extra}
    env.pop("TACROUTE_NO_PLUGIN_CACHE", None)
    argv = [sys.executable, "-c", PROBE, *args] if probe else [str(Path(sys.executable).parent / "tacroute"), *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False)


def test_help_from_the_cache_loads_no_plugin_and_lists_the_same(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    distribution(tmp_path / "site", "Say hello, version one.")
    uncached = run(tmp_path, "--help", TACROUTE_NO_PLUGIN_CACHE="1")
    first = run(tmp_path, "--help")  # fills the cache
    second = run(tmp_path, "--help", probe=True)
    assert uncached.returncode == first.returncode == second.returncode == 0
    assert "hello" in uncached.stdout and "Say hello, version one." in uncached.stdout
    assert "ui " in uncached.stdout  # the installed plugins' commands too
    assert first.stdout == uncached.stdout == second.stdout
    assert json.loads(second.stderr.strip().splitlines()[-1]) == []  # neither pluggy nor any plugin
    # the broken plugin is reported whether the listing came from the cache or not
    for proc in (uncached, first, second):
        assert "skipping plugin 'broken' (distribution tacroute-hello)" in proc.stderr
    # the command itself still runs (its plugin loaded then)
    ran = run(tmp_path, "hello")
    assert ran.returncode == 0 and "hello from the plugin" in ran.stdout


def test_editing_a_plugin_source_refreshes_the_listing(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    distribution(tmp_path / "site", "Say hello, version one.")
    assert "version one" in run(tmp_path, "--help").stdout
    assert "version one" in run(tmp_path, "--help").stdout
    distribution(tmp_path / "site", "Say hello, the second version.")  # an editable install's edit
    assert "the second version" in run(tmp_path, "--help").stdout


def test_an_allow_list_is_part_of_the_key(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    distribution(tmp_path / "site", "Say hello, version one.")
    assert "Say hello" in run(tmp_path, "--help").stdout
    only = run(tmp_path, "--help", TACROUTE_LOAD_PLUGINS="priority")
    assert only.returncode == 0 and "Say hello" not in only.stdout and "ui " not in only.stdout
