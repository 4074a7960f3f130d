"""stream_process edge cases with real processes."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from tacroute.runner.process import stream_process
from testkit.script_provider import process_alive


def test_background_child_holding_the_pipes_does_not_hang_the_run(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = (
        "import subprocess, sys\n"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "print('done', flush=True)\n"
    )
    lines: list[str] = []
    # The timeout is only a guard: the run must end long before it, on its own.
    result = stream_process([sys.executable, "-c", script], on_line=lambda s: lines.append(s) is not None,
                            timeout=45, kill_grace=1)
    assert result.stopped is None, result
    assert result.exit_code == 0
    assert lines == ["done"]
    child = int(pidfile.read_text())
    # The orphan was ended with the rest of the process group (a zombie
    # waiting for init to reap it counts as ended).
    for _ in range(50):  # signal delivery is asynchronous: give it up to 5 s
        state = _state(child)
        if state in (None, "Z", "X"):
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        raise AssertionError(f"the background child outlived the run (state {state})")


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def test_background_child_left_after_a_clean_exit_is_ended_with_the_attempt(tmp_path: Path) -> None:
    """Like ``sh -c 'sleep 1000 > /dev/null & echo result'``: the pipes close, the leader
    exits 0, and the child (same process group, SIGTERM ignored) must not live on."""
    pidfile = tmp_path / "child.pid"
    script = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)'],"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "print('result-line', flush=True)\n"
    )
    lines: list[str] = []
    result = stream_process([sys.executable, "-c", script], on_line=lambda s: lines.append(s) is not None,
                            timeout=60, kill_grace=0.5)
    assert (result.stopped, result.exit_code, lines) == (None, 0, ["result-line"])
    child = int(pidfile.read_text())
    try:
        assert not process_alive(child, settle_s=10), "the background child outlived the attempt"
    finally:
        if process_alive(child, settle_s=0):
            os.kill(child, signal.SIGKILL)


def test_a_group_of_zombies_only_counts_as_ended() -> None:
    """Codex leaves an unreaped ``git`` behind; waiting for a zombie to go only waits for init."""
    import os
    import subprocess
    import time

    from tacroute.runner.group import group_has_live

    live = subprocess.Popen(["sleep", "30"], start_new_session=True)
    dead = subprocess.Popen(["true"], start_new_session=True)
    try:
        assert group_has_live(live.pid)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until `true` has exited (unreaped: a zombie)
            with open(f"/proc/{dead.pid}/stat", "rb") as fh:
                if fh.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    break
            time.sleep(0.01)
        os.killpg(dead.pid, 0)  # the group still "exists" for signals...
        assert not group_has_live(dead.pid)  # ...but nothing in it is alive
    finally:
        live.kill()
        live.wait()
        dead.wait()
