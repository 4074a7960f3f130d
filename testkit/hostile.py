"""Run the real ``tacroute`` CLI in a fresh process with the script provider (testkit/script_provider.py),
the built-in conditions and the history plugin, for tests where a real process matters: what
reaches stderr (no traceback), exit codes, real files such as ``/dev/full``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["DRIVER", "run_cli"]

ROOT = Path(__file__).resolve().parent.parent

DRIVER = """
import sys
import tacroute_claude_cli
from tacroute.history import plugin as history_plugin
from tacroute.plugins import Registry, set_registry
from tacroute_conditions import hour_range, labels, priority, retry_count
from testkit.script_provider import ScriptPlugin
set_registry(Registry.from_plugins([ScriptPlugin(), history_plugin, hour_range, labels, priority,
                                    retry_count, tacroute_claude_cli]))
from tacroute.cli import main
sys.argv = ["tacroute", *sys.argv[1:]]
main()
"""


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, prefix: tuple[str, ...] = (),
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``tacroute ARGS`` in a new process in ``cwd`` (``prefix``: e.g. an ``unshare`` wrapper)."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full_env.get("PYTHONPATH")]))
    full_env.update(env or {})
    return subprocess.run([*prefix, sys.executable, "-c", DRIVER, *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout, cwd=cwd)
