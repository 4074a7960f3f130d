"""A history file with damaged pages: route and run go on without history, with one warning.

Real processes (the console script's way: ``main()``, exit codes, atexit) on
real SQLite files: a history with runs, a cooldown and attempt slots is copied
and random bytes of its pages overwritten (page 1's header included) with a
fixed seed. The script provider is registered in the child, so ``run`` really
spawns a worker.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.script_provider import script_config

ROOT = Path(__file__).resolve().parent.parent
# The console script, with the script provider and the history plugin registered.
_CHILD = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from tacroute.plugins import Registry, set_registry
from tacroute.history import plugin
from testkit.script_provider import ScriptPlugin
set_registry(Registry.from_plugins([ScriptPlugin(), plugin]))
from tacroute.cli import main
sys.argv[0] = "tacroute"
main()
"""
VARIANTS = 16


def _tacroute(history: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TACROUTE_HISTORY": str(history), "XDG_CONFIG_HOME": str(cwd / "noconfig")}
    return subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, bytes]:
    """A config (limits on, so routing reads slots and cooldowns), a prompt and a history file."""
    folder = tmp_path_factory.mktemp("damaged")
    config = script_config(folder, ["fatal", "ok"])
    config.write_text(config.read_text().replace('type = "script"', 'type = "script"\nmax_concurrent = 50')
                      + "[history.cooldown]\nfailures = 1\n")
    prompt = folder / "p.txt"
    prompt.write_text("hello")
    db = folder / "base.db"
    for _ in range(3):
        proc = _tacroute(db, folder, "run", str(prompt), "--config", str(config))
        assert proc.returncode == 0, proc.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM cooldowns").fetchone()[0] == 1  # s0/fatal
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return folder, config, db.read_bytes()


def _damaged(data: bytes, variant: int) -> bytes:
    rng = random.Random(1000 + variant)
    page = int.from_bytes(data[16:18], "big") or 65536
    pages = len(data) // page
    out = bytearray(data)
    if variant % 4 == 0:  # page 1: the file header and the schema
        for _ in range(8):
            out[rng.randrange(16, 100 if variant % 8 == 0 else page)] = rng.randrange(256)
    else:
        start = rng.randrange(1, pages) * page
        for _ in range(rng.randrange(8, 128)):
            out[start + rng.randrange(page)] = rng.randrange(256)
    return bytes(out)


def test_damaged_history_never_stops_route_or_run(setup: tuple[Path, Path, bytes]) -> None:
    folder, config, data = setup
    warned = 0
    for variant in range(VARIANTS):
        db = folder / f"v{variant}.db"
        db.write_bytes(_damaged(data, variant))
        # "ok" is the default; the rule for "fatal" is skipped while its cooldown holds (or
        # tried and failed over from when the history cannot say): the same exit either way.
        route = _tacroute(db, folder, "route", "--config", str(config))
        run = _tacroute(db, folder, "run", str(prompt_of(folder)), "--config", str(config))
        for what, proc in (("route", route), ("run", run)):
            assert proc.returncode == 0, (variant, what, proc.stderr)
            assert "Traceback" not in proc.stderr, (variant, what, proc.stderr)
            warnings = [line for line in proc.stderr.splitlines() if "history" in line]
            assert len(warnings) <= 1, (variant, what, proc.stderr)  # said once, not per event
            assert all(w.startswith("tacroute: warning: ") for w in warnings), (variant, what, warnings)
            warned += len(warnings)
        assert "hello" in run.stdout, (variant, run.stdout)
        for command in ("history", "stats"):
            proc = _tacroute(db, folder, command)
            assert proc.returncode in (0, 1), (variant, command, proc.stderr)
            assert "Traceback" not in proc.stderr, (variant, command, proc.stderr)
            if proc.returncode == 1:
                assert proc.stderr.startswith("tacroute: history database"), proc.stderr
    assert warned >= VARIANTS // 4  # the damage was noticed often enough to make the test mean it


def prompt_of(folder: Path) -> Path:
    return folder / "p.txt"
