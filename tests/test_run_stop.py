"""Stopping ``tacroute run``: real processes, real signals, the real history file, /proc.

The worker (a ``claude-cli`` provider whose command is a Python script) prints
one stream-json ``assistant`` line with usage, starts a grandchild that ignores
SIGTERM, writes both pids to a file and sleeps: nothing of it may outlive a
stopped run.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testkit.script_provider import process_alive

TACROUTE = Path(sys.executable).parent / "tacroute"

WORKER = """\
import json, os, subprocess, sys, time
sys.stdin.read()
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
print(json.dumps({"type": "assistant", "message": {"id": "m1", "model": "m",
      "usage": {"input_tokens": 7, "output_tokens": 3}}}), flush=True)
with open(os.environ["PIDFILE"] + ".tmp", "w") as fh:
    fh.write(f"{os.getpid()} {child.pid}")
os.rename(os.environ["PIDFILE"] + ".tmp", os.environ["PIDFILE"])
time.sleep(600)
"""


def _setup(tmp_path: Path) -> tuple[list[str], dict[str, str], Path, Path]:
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER, encoding="utf-8")
    config = tmp_path / "tacroute.toml"
    config.write_text(
        f'[providers.w]\ntype = "claude-cli"\ncommand_template = {json.dumps([sys.executable, str(worker)])}\n'
        '[routing]\nenabled = true\ndefault_provider = "w"\ndefault_model = "m"\n'
        "[runner]\nkill_grace = 1\n", encoding="utf-8")
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("work\n", encoding="utf-8")
    history = tmp_path / "history.db"
    pidfile = tmp_path / "pids"
    env = {**os.environ, "TACROUTE_HISTORY": str(history), "PIDFILE": str(pidfile)}
    argv = [str(TACROUTE), "run", str(prompt), "--json", "--config", str(config),
            "--output-file", str(tmp_path / "out.jsonl")]
    return argv, env, history, pidfile


def _started(proc: subprocess.Popen[str], pidfile: Path) -> list[int]:
    """The worker's and the grandchild's pids, once the worker is running (bounded wait)."""
    end = time.monotonic() + 60
    while not pidfile.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "the worker never started"
        time.sleep(0.05)
    return [int(p) for p in pidfile.read_text().split()]


def _kill_leftovers(pids: list[int]) -> None:
    for pid in pids:
        if process_alive(pid, settle_s=0):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129),
                                           (signal.SIGINT, 130)])
def test_a_stop_signal_ends_the_group_records_cancelled_and_exits_128_plus_signal(
        tmp_path: Path, sig: signal.Signals, code: int) -> None:
    argv, env, history, pidfile = _setup(tmp_path)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pids: list[int] = []
    try:
        pids = _started(proc, pidfile)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == code, err
        assert "Traceback" not in err
        data = json.loads(out)
        assert data["success"] is False and data["error_class"] == "cancelled"
        assert [a["error_class"] for a in data["attempts"]] == ["cancelled"]
        # Tokens the worker reported before the stop are kept.
        assert data["usage"]["input_tokens"] == 7 and data["usage"]["output_tokens"] == 3
        for pid in pids:
            assert not process_alive(pid, settle_s=10), f"pid {pid} of the worker's group survived"
        conn = sqlite3.connect(history)
        try:
            runs = conn.execute("SELECT run_id, success, error FROM runs").fetchall()
            attempts = conn.execute("SELECT run_id, error_class, input_tokens FROM attempts").fetchall()
            open_slots = conn.execute("SELECT count(*) FROM slots WHERE ended_at IS NULL").fetchone()[0]
        finally:
            conn.close()
        assert [(r[0], r[1]) for r in runs] == [(data["run_id"], 0)] and "cancelled" in runs[0][2]
        assert attempts == [(data["run_id"], "cancelled", 7)]
        assert open_slots == 0  # the provider's max_concurrent slot was given back
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        _kill_leftovers(pids)


def test_sigkill_of_tacroute_takes_the_worker_and_its_children_along(tmp_path: Path) -> None:
    argv, env, _, pidfile = _setup(tmp_path)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pids: list[int] = []
    try:
        end = time.monotonic() + 60
        while not pidfile.exists() and time.monotonic() < end:
            time.sleep(0.05)
        pids = [int(p) for p in pidfile.read_text().split()]
        proc.kill()
        proc.wait(timeout=60)
        for pid in pids:
            assert not process_alive(pid, settle_s=10), f"pid {pid} outlived a SIGKILLed tacroute"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _kill_leftovers(pids)


def test_timeout_command_stops_tacroute_and_the_worker(tmp_path: Path) -> None:
    """``timeout 5 tacroute run ...``: the usual way a supervisor bounds a run."""
    argv, env, history, pidfile = _setup(tmp_path)
    proc = subprocess.run(["timeout", "5", *argv], env=env, capture_output=True, text=True, timeout=120)
    # On a very slow machine the TERM may come before the worker started: then no pids.
    pids = [int(p) for p in pidfile.read_text().split()] if pidfile.exists() else []
    try:
        assert proc.returncode == 124, proc.stderr  # timeout's own code once its child ended on TERM
        assert json.loads(proc.stdout)["error_class"] == "cancelled"
        for pid in pids:
            assert not process_alive(pid, settle_s=10)
        conn = sqlite3.connect(history)
        try:
            assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
            classes = conn.execute("SELECT error_class FROM attempts").fetchall()
        finally:
            conn.close()
        if pids:
            assert classes == [("cancelled",)]
        else:
            assert set(classes) <= {("cancelled",)}
    finally:
        _kill_leftovers(pids)
