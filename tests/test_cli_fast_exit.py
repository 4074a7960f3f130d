"""The console script ends with ``os._exit`` after a normal exit's visible work.

Checked in fresh processes (the way the ``tacroute`` script runs): exit codes,
complete output through a pipe, ``atexit`` handlers, and the fallback to a
normal exit when another thread is still running.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tacroute import cli as cli_module

# What the generated console script does, plus an atexit handler to observe.
_SCRIPT = """
import atexit, sys, threading, time
atexit.register(lambda: print("atexit handler ran", flush=False))
if "--with-thread" in sys.argv:
    sys.argv.remove("--with-thread")
    def late():
        time.sleep(0.3)
        print("thread finished", flush=False)
    threading.Thread(target=late).start()
from tacroute.cli import main
sys.argv[0] = "tacroute"
sys.exit(main())
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _SCRIPT, *args], capture_output=True, text=True,
                          timeout=120)


def test_exit_code_zero_and_the_whole_output_reaches_the_pipe(tmp_path: Path) -> None:
    proc = _run("--help")
    assert proc.returncode == 0, proc.stderr
    assert "Usage:" in proc.stdout and "route" in proc.stdout
    # The handler runs after the command's output, and its output is flushed too.
    assert proc.stdout.rstrip().endswith("atexit handler ran")


def test_usage_error_keeps_exit_code_two_and_the_message() -> None:
    proc = _run("route", "--no-such-option")
    assert proc.returncode == 2
    assert "No such option" in proc.stderr
    assert "atexit handler ran" in proc.stdout


def test_config_error_keeps_its_exit_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[routing\n")
    proc = _run("route", "--config", str(bad))
    assert proc.returncode == 2
    assert "config error" in proc.stderr


def test_a_running_thread_gets_a_normal_exit() -> None:
    proc = _run("--with-thread", "--version")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("tacroute ")
    # Normal shutdown: threads are joined first, then the atexit handlers run.
    assert lines[1:] == ["thread finished", "atexit handler ran"]


def test_fast_exit_calls_os_exit_with_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr("atexit._run_exitfuncs", lambda: calls.append("atexit"))
    monkeypatch.setattr("os._exit", lambda code: calls.append(f"exit {code}"))
    cli_module._fast_exit(SystemExit(3))
    cli_module._fast_exit(SystemExit(None))
    assert calls == ["atexit", "exit 3", "atexit", "exit 0"]


def test_fast_exit_leaves_a_message_exit_to_python(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr("atexit._run_exitfuncs", lambda: calls.append("atexit"))
    monkeypatch.setattr("os._exit", lambda code: calls.append(f"exit {code}"))
    cli_module._fast_exit(SystemExit("fatal: something"))
    assert calls == []


def test_history_connections_are_closed_at_a_fast_exit(tmp_path: Path) -> None:
    # A store left open would leave its write-ahead log for the next process to recover.
    db = tmp_path / "history.db"
    code = f"""
import atexit, os
from tacroute.history.store import HistoryStore
store = HistoryStore({str(db)!r})  # as open_gate's, left open for the process's life
store.attempt_started("r", 1, "p", "m")
atexit._run_exitfuncs()
os._exit(0)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert db.exists()
    assert not (tmp_path / "history.db-wal").exists()


def test_a_file_a_plugin_left_open_is_on_disk_after_tacroute_route(tmp_path: Path) -> None:
    """A plugin opens a file in a hook, writes, and never flushes or closes it:
    what it wrote must be on disk once ``tacroute route`` (the console script) has exited."""
    out = tmp_path / "plugin.log"
    config = tmp_path / "tacroute.toml"
    config.write_text('[routing]\nenabled = true\ndefault_provider = "claude-cli"\ndefault_model = "claude-haiku-4"\n\n'
                      '[providers.claude-cli]\n\n[[routing.rules]]\nname = "crit"\npriority = 90\n'
                      'conditions = { priority = "critical" }\nmodel = "claude-opus-4"\n', encoding="utf-8")
    script = f"""
import sys
import tacroute_conditions.priority as priority
from tacroute import hookimpl
from tacroute.plugins import set_registry
from tacroute.plugins.registry import Registry

class Leaky:
    __name__ = "leaky"
    files = []

    @hookimpl
    def register_conditions(self, register):
        f = open({str(out)!r}, "w", encoding="utf-8")  # never flushed, never closed
        f.write("written by a plugin hook\\n" * 10)
        self.files.append(f)

# The plugins load during the command, as from entry points: Registry.load gives these two.
Registry.load = classmethod(lambda cls, *a, **k: Registry.from_plugins([priority, Leaky()]))
set_registry(None)
from tacroute.cli import main
sys.argv = ["tacroute", "route", "--priority", "critical", "--config", {str(config)!r}]
sys.exit(main())
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "claude-opus-4" in proc.stdout
    assert out.read_text(encoding="utf-8") == "written by a plugin hook\n" * 10
