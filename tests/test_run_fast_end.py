"""How ``tacroute-claude`` ends once the CLI has exited, checked in real processes.

The fast exit flushes every open file object only when the process opened one
for writing that it may not have closed: the run's own files (the prompt, a
bare descriptor; the attempt's output, closed by the runner) do not count, so a
plain run skips that search (~5 ms after the worker's end). A file a plugin
opens and never closes still reaches the disk, and the run is in the history.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from testkit.dropin import DROPIN_ARGV, dropin_env, dropin_folder

PROBE = """
import sys
import tacroute.fastexit as fastexit
searched = fastexit._flush_open_files
def spy():
    print("SEARCHED FOR OPEN FILES", file=sys.stderr)
    searched()
fastexit._flush_open_files = spy
if len(sys.argv) > 1 and sys.argv[1] == "--with-leaky-plugin":
    del sys.argv[1]
    import tacroute.plugins.registry as registry
    from tacroute.plugins.discovery import EntryPointInfo
    found = registry.discover_entry_points
    registry.discover_entry_points = lambda: [*found(), EntryPointInfo("leaky", "leaky_plugin", None, None)]
sys.argv = ["tacroute-claude", *sys.argv[1:]]
from tacroute_claude_cli.dropin.main import main
main()
"""

LEAKY_PLUGIN = """
from tacroute import hookimpl

kept = []

@hookimpl
def observe_run(ctx, result):
    f = open(LOG, "w", encoding="utf-8")  # never flushed, never closed
    f.write(f"run {result.run_id} success={result.success}\\n" * 50)
    kept.append(f)
"""


def _dropin(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dropin_env(tmp_path, PYTHONPATH=str(tmp_path))
    for _ in range(2):  # the first run fills the entry-point cache (its scan writes files)
        proc = subprocess.run([sys.executable, "-c", PROBE, *args, *DROPIN_ARGV], capture_output=True, text=True,
                              cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout.splitlines()[-1])["result"] == "OK"
    return proc


def _runs(history: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(history) as conn:
        return [(str(r[0]), int(r[1])) for r in conn.execute("SELECT run_id, success FROM runs")]


def test_a_plain_run_ends_without_searching_for_open_files(tmp_path: Path) -> None:
    history = dropin_folder(tmp_path)
    proc = _dropin(tmp_path)
    assert "SEARCHED FOR OPEN FILES" not in proc.stderr
    runs = _runs(history)
    assert len(runs) == 2 and all(success == 1 for _, success in runs)
    # the attempt's output file was written whole (the runner closes it itself)
    outputs = sorted((tmp_path / "runs").glob("*/attempt-1-claude.jsonl"))
    assert len(outputs) == 2
    assert json.loads(outputs[-1].read_text(encoding="utf-8").splitlines()[-1])["result"] == "OK"


def test_a_file_a_plugin_leaves_open_in_a_run_is_on_disk_after_the_exit(tmp_path: Path) -> None:
    history = dropin_folder(tmp_path)
    log = tmp_path / "plugin.log"
    (tmp_path / "leaky_plugin.py").write_text(f"LOG = {str(log)!r}\n{LEAKY_PLUGIN}", encoding="utf-8")
    proc = _dropin(tmp_path, "--with-leaky-plugin")
    assert "SEARCHED FOR OPEN FILES" in proc.stderr
    last_run = _runs(history)[-1][0]
    assert log.read_text(encoding="utf-8") == f"run {last_run} success=True\n" * 50
