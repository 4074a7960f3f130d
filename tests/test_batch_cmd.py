"""``tacroute batch``: results file, skipping what succeeded, stopping every worker on a signal."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from testkit.batch_worker import batch_config
from testkit.script_provider import process_alive

TACROUTE = Path(sys.executable).parent / "tacroute"


def _results(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write_tasks(path: Path, tasks: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks), encoding="utf-8")


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "TACROUTE_HISTORY": str(tmp_path / "history.db"), "PID_DIR": str(tmp_path / "pids")}


def test_results_file_and_a_rerun_skips_what_succeeded(tmp_path: Path) -> None:
    config = batch_config(tmp_path)
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "c.txt").write_text("from a file\n", encoding="utf-8")
    tasks = tmp_path / "tasks.jsonl"
    _write_tasks(tasks, [{"id": "a", "prompt": "alpha", "priority": "high"}, {"id": "b", "prompt": "fail"},
                         {"id": 3, "prompt_file": "prompts/c.txt", "labels": ["x"]}])
    results = tmp_path / "out" / "results.jsonl"
    results.parent.mkdir()
    argv = [str(TACROUTE), "batch", str(tasks), "--concurrency", "2", "--results", str(results),
            "--config", str(config)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=_env(tmp_path))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = {r["id"]: r for r in _results(results)}
    assert sorted(lines) == ["3", "a", "b"]
    assert lines["a"]["success"] and lines["a"]["result"] == "alpha" and lines["a"]["session_id"] == "s-alpha"
    assert lines["a"]["task"] == {"priority": "high"}
    assert lines["3"]["success"] and lines["3"]["result"] == "from a file"
    assert not lines["b"]["success"] and lines["b"]["error_class"] == "crash"
    assert proc.stderr.count("tacroute batch: [") == 3  # one plain progress line per task (not a tty)

    (tmp_path / "prompts" / "c.txt").write_text("changed\n", encoding="utf-8")
    again = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=_env(tmp_path))
    assert again.returncode == 1
    rows = _results(results)
    assert [r["id"] for r in rows[3:]] == ["b"]  # a and 3 succeeded before: not run again
    assert "skipped 2" in again.stderr


def test_bad_tasks_file_is_a_usage_error(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"id": "a", "prompt": "x"}\n{"id": "b"}\n', encoding="utf-8")
    proc = subprocess.run([str(TACROUTE), "batch", str(tasks), "--config", str(batch_config(tmp_path))],
                          capture_output=True, text=True, timeout=120, env=_env(tmp_path))
    assert proc.returncode == 2 and "tasks.jsonl:2" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_stops_every_worker_records_them_cancelled_and_exits_128_plus_signal(
        tmp_path: Path, sig: signal.Signals, code: int) -> None:
    config = batch_config(tmp_path)
    (tmp_path / "pids").mkdir()
    tasks = tmp_path / "tasks.jsonl"
    _write_tasks(tasks, [{"id": f"t{i}", "prompt": "hang"} for i in range(5)])
    results = tmp_path / "results.jsonl"
    proc = subprocess.Popen([str(TACROUTE), "batch", str(tasks), "--concurrency", "3", "--results",
                             str(results), "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path))
    pids: list[int] = []
    try:
        end = time.monotonic() + 120
        while len(pids := [int(p.name) for p in (tmp_path / "pids").iterdir()]) < 3:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < end, "the workers never started"
            time.sleep(0.05)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == code, err
        assert "Traceback" not in err
        rows = _results(results)
        assert len(rows) == 3 and all(r["error_class"] == "cancelled" and not r["success"] for r in rows)
        for pid in pids:
            assert not process_alive(pid, settle_s=10)
        conn = sqlite3.connect(tmp_path / "history.db")
        try:
            assert conn.execute("SELECT error_class, count(*) FROM attempts GROUP BY 1").fetchall() == [
                ("cancelled", 3)]
            assert conn.execute("SELECT count(*), sum(success) FROM runs").fetchone() == (3, 0)
        finally:
            conn.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        for pid in pids:
            if process_alive(pid, settle_s=0):
                os.kill(pid, signal.SIGKILL)


def test_an_empty_tasks_file_does_nothing_and_succeeds(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("\n", encoding="utf-8")
    proc = subprocess.run([str(TACROUTE), "batch", str(tasks), "--config", str(batch_config(tmp_path))],
                          capture_output=True, text=True, timeout=120, env=_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "tasks.results.jsonl").read_text() == ""


def test_on_a_terminal_the_progress_is_one_line_kept_up_to_date(tmp_path: Path) -> None:
    import pty

    tasks = tmp_path / "tasks.jsonl"
    _write_tasks(tasks, [{"id": f"t{i}", "prompt": f"p{i}"} for i in range(3)])
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([str(TACROUTE), "batch", str(tasks), "--config", str(batch_config(tmp_path))],
                                stdout=subprocess.DEVNULL, stderr=slave, env=_env(tmp_path))
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the other end closed
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(timeout=120) == 0
    finally:
        os.close(master)
    text = b"".join(chunks).decode()
    assert "\r\x1b[Ktacroute batch: 3/3 done (ok 3, failed 0, skipped 0), 0 running" in text
    assert "[" + "3/3" not in text  # not the plain per-task lines


def test_a_results_file_that_cannot_be_written_stops_the_batch_with_a_clear_error(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    _write_tasks(tasks, [{"id": f"t{i}", "prompt": f"p{i}"} for i in range(4)])
    proc = subprocess.run([str(TACROUTE), "batch", str(tasks), "--concurrency", "1", "--results", "/dev/full",
                           "--config", str(batch_config(tmp_path))],
                          capture_output=True, text=True, timeout=120, env=_env(tmp_path))
    assert proc.returncode == 1
    assert "cannot write the results file '/dev/full'" in proc.stderr and "Traceback" not in proc.stderr
    conn = sqlite3.connect(tmp_path / "history.db")
    try:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1  # no task after the failed write
    finally:
        conn.close()
