"""Provider limits hold exactly across real ``tacroute run`` processes sharing one history file.

Every process is held at a start line until all of them are ready, so they
route in the same instant; each worker appends ``start``/``end`` lines to one
log (``O_APPEND``), and the overlap is computed from the order of those lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

# What the console script does, after waiting for the go file (imports done first,
# so every process reaches routing at about the same moment).
_WRAPPER = """
import os, sys, time
from tacroute.cli import main
import tacroute.runner, tacroute.history.gate
ready, go = sys.argv[1], sys.argv[2]
del sys.argv[1:3]
open(ready, "w").close()
end = time.monotonic() + 300
while not os.path.exists(go) and time.monotonic() < end:
    time.sleep(0.005)
sys.argv[0] = "tacroute"
sys.exit(main())
"""

# The worker: notes its start, holds until the release file exists (or "-": no
# hold), notes its end, then prints a successful claude stream-json result.
_WORKER = """
import json, os, sys, time
log, release = sys.argv[1], sys.argv[2]
def note(word):
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, ("%s %d %.6f\\n" % (word, os.getpid(), time.time())).encode())
    os.close(fd)
note("start")
end = time.monotonic() + 300
while release != "-" and not os.path.exists(release) and time.monotonic() < end:
    time.sleep(0.02)
note("end")
print(json.dumps({"type": "result", "subtype": "success", "is_error": False, "result": "ok"}))
"""


def _setup(tmp_path: Path, limit: str, hold: bool) -> tuple[Path, Path, Path, Path]:
    worker = tmp_path / "worker.py"
    worker.write_text(_WORKER, encoding="utf-8")
    log, release, db = tmp_path / "log.txt", tmp_path / "release", tmp_path / "h.db"
    argv = [sys.executable, str(worker), str(log), str(release) if hold else "-"]
    config = tmp_path / "tacroute.toml"
    config.write_text(f"""
[providers.capped]
type = "claude-cli"
command_template = {json.dumps(argv)}
{limit}

[routing]
enabled = true
default_provider = "capped"
default_model = "m"

[history]
path = {json.dumps(str(db))}
""", encoding="utf-8")
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("do it\n", encoding="utf-8")
    return config, prompt, log, release


def _start(tmp_path: Path, n: int, config: Path, prompt: Path) -> list[subprocess.Popen[str]]:
    go = tmp_path / "go"
    procs = []
    for i in range(n):
        ready = tmp_path / f"ready-{i}"
        procs.append(subprocess.Popen(
            [sys.executable, "-c", _WRAPPER, str(ready), str(go), "run", str(prompt), "--config", str(config),
             "--output-file", str(tmp_path / f"out-{i}.jsonl")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path))
    _wait_for(lambda: all((tmp_path / f"ready-{i}").exists() for i in range(n)), "every process ready")
    go.touch()
    return procs


def _wait_for(cond: object, what: str, limit_s: float = 240.0) -> None:
    end = time.monotonic() + limit_s
    while not cond():  # type: ignore[operator]
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for: {what}")
        time.sleep(0.02)


def _log(log: Path) -> list[tuple[str, int, float]]:
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        word, pid, at = line.split()
        out.append((word, int(pid), float(at)))
    return out


def _max_overlap(events: list[tuple[str, int, float]]) -> int:
    running = peak = 0
    for word, _, _ in events:
        running += 1 if word == "start" else -1
        peak = max(peak, running)
    return peak


def _finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    results = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        results.append((p.returncode, out, err))
    return results


def _check_refused(results: list[tuple[int, str, str]], what: str) -> int:
    """Every run either succeeded or failed cleanly with the limit message; returns the successes."""
    ok = 0
    for code, out, err in results:
        assert "Traceback" not in out + err, err
        assert "warning" not in err, err  # e.g. routing without limits: the history file failed
        if code == 0:
            ok += 1
            continue
        assert code == 1, (code, err)
        assert "no available provider" in err and "limit:" in err and what in err, err
    return ok


#: Rounds per test: one round races only a handful of processes at once, so one
#: lucky round could hide a broken limit.
ROUNDS = 4


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_max_concurrent_one_holds_across_ten_processes(tmp_path: Path, round_: int) -> None:
    config, prompt, log, release = _setup(tmp_path, "max_concurrent = 1", hold=True)
    procs = _start(tmp_path, 10, config, prompt)
    # Nobody finishes an attempt before the release: a process that ended was refused.
    _wait_for(lambda: sum(p.poll() is not None for p in procs) + _starts(log) >= 10,
              "every process refused or running")
    release.touch()
    results = _finish(procs)
    events = _log(log)
    assert _max_overlap(events) == 1, (events, [err[-300:] for _, _, err in results])
    successes = _check_refused(results, "max_concurrent = 1")
    assert successes == _starts(log) >= 1
    assert successes < 10


def _starts(log: Path) -> int:
    return sum(1 for word, _, _ in _log(log) if word == "start")


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_rpm_holds_across_processes(tmp_path: Path, round_: int) -> None:
    import sqlite3

    config, prompt, log, _ = _setup(tmp_path, "rpm = 2", hold=False)
    procs = _start(tmp_path, 8, config, prompt)
    results = _finish(procs)
    successes = _check_refused(results, "rpm = 2")
    assert successes == _starts(log) >= 1
    conn = sqlite3.connect(tmp_path / "h.db")
    starts = sorted(at for (at,) in conn.execute("SELECT started_at FROM slots WHERE provider = 'capped'"))
    conn.close()
    assert len(starts) == successes
    # At most 2 starts in any 60 s window (by the clock the limit is kept with).
    assert max(sum(1 for t in starts if s <= t < s + 60) for s in starts) <= 2, starts


def test_a_lone_run_under_the_limit_is_not_refused(tmp_path: Path) -> None:
    config, prompt, log, _ = _setup(tmp_path, "max_concurrent = 1\nrpm = 5", hold=False)
    results = _finish(_start(tmp_path, 1, config, prompt))
    assert [code for code, _, _ in results] == [0], results
    assert _starts(log) == 1
    assert os.path.exists(tmp_path / "h.db")


_OPENER = """
import os, sys, time
from tacroute.history.store import HistoryError, HistoryStore
go = sys.argv[2]
end = time.monotonic() + 300
while not os.path.exists(go) and time.monotonic() < end:
    time.sleep(0.002)
try:
    store = HistoryStore(sys.argv[1])
    store.attempt_started(str(os.getpid()), 1, "p", "m")
    store.close()
except HistoryError as exc:
    print(exc)
"""


def test_processes_opening_a_new_history_file_together_all_get_it(tmp_path: Path) -> None:
    # A process that cannot open the file routes without limits, so none may fail here.
    # SQLite refuses the switch to WAL at once, busy handler or not, while others hold
    # the new file: the store has to wait that out itself.
    for round_ in range(16):
        folder = tmp_path / str(round_)
        folder.mkdir()
        go = folder / "go"
        procs = [subprocess.Popen([sys.executable, "-c", _OPENER, str(folder / "h.db"), str(go)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
        time.sleep(0.3)  # not an assertion: only lets the interpreters start before the go
        go.touch()
        for p in procs:
            out, err = p.communicate(timeout=240)
            assert p.returncode == 0 and out == "" and err == "", (out, err)
