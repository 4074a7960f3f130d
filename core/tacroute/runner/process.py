"""Spawn a provider's command and stream its output, line by line.

The command runs in its own session (so its own process group). When the
attempt ends, for whatever reason (exit, timeout, a stop signal from the output
parser, a cancel request), whatever is left of the group is ended (SIGTERM,
then SIGKILL after a grace period): a background child the command left
behind does not outlive the attempt. If our own process is killed outright
(SIGKILL, no chance to clean up) a small watcher ends the group instead (see
:func:`tacroute.runner.group.start_watcher`). No shell runs the command.
Stdout lines go to a callback as they arrive (and to an optional file,
flushed per line, so the raw output survives a crash); stderr is kept as a
bounded tail for error messages.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from tacroute.runner.group import kill_group, start_watcher, stop_watcher
from tacroute.tuples import NamedTuple

__all__ = ["OutputWriteError", "ProcessResult", "SpawnError", "kill_group", "stream_process"]


_STDERR_TAIL = 8192
_READ = 65536
#: How long the pipes may stay open after the command itself exited (a
#: background child it left behind still holds them) before reading stops.
_LINGER_S = 2.0


class SpawnError(Exception):
    """The command could not be started (missing binary, not executable, ...)."""


class OutputWriteError(Exception):
    """The output file (``tee``) could not be written (disk full, read-only, ...).

    Raised by :func:`stream_process` after the process group was stopped.
    """


class ProcessResult(NamedTuple):
    """How a streamed process ended."""

    #: The exit code; None when we stopped it (``stopped`` says why).
    exit_code: int | None
    #: ``"timeout"``, ``"signal"`` (the line callback asked), ``"cancelled"`` or None.
    stopped: str | None
    stderr_tail: str
    started_at: float
    duration_s: float
    stdout_lines: int


def stream_process(
    argv: list[str],
    *,
    on_line: Callable[[str], bool],
    stdin_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float | None = None,
    tee: IO[str] | None = None,
    cancel: threading.Event | None = None,
    on_tick: Callable[[], None] | None = None,
    tick_s: float = 0.25,
    kill_grace: float = 3.0,
    on_spawn: Callable[[], None] | None = None,
) -> ProcessResult:
    """Run ``argv`` until it exits, times out, or ``on_line`` returns True.

    ``on_line`` receives each stdout line without its line ending; returning
    True stops the process group at once. ``on_tick`` is called at least every
    ``tick_s`` seconds (for a live status line). ``on_spawn`` is called once,
    right after the process started and before its output is read: work done
    there overlaps with the command's own start-up. Raises
    :class:`SpawnError` when the command cannot be started, and
    :class:`OutputWriteError` (the group stopped first) when ``tee`` cannot be written.
    """
    started_at = time.time()
    t0 = time.monotonic()
    try:
        stdin: IO[bytes] | int = open(stdin_path, "rb") if stdin_path is not None else subprocess.DEVNULL  # noqa: SIM115
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise SpawnError(f"cannot open the standard input file {str(stdin_path)!r}: {why}") from exc
    try:
        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=dict(env) if env is not None else None, cwd=cwd,
                                start_new_session=True)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in an argument or the environment
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise SpawnError(f"cannot start {argv[0]!r}: {why}") from exc
    finally:
        if not isinstance(stdin, int):
            stdin.close()
    assert proc.stdout is not None and proc.stderr is not None
    watcher = start_watcher(proc.pid)
    reader = _Reader(proc, on_line, tee)
    deadline = t0 + timeout if timeout is not None else None
    try:
        if on_spawn is not None:
            on_spawn()
        stopped = reader.pump(deadline, cancel, on_tick, tick_s)
        if stopped is None and not reader.orphans and not _wait_rest(proc, deadline):
            stopped = "timeout"
        # Every case, a clean exit included: what is left of the group (a
        # background child the command started) goes with the attempt.
        kill_group(proc, kill_grace)
    except BaseException:
        # Ctrl-C (or a failing callback): the group is in its own session, so the
        # terminal's SIGINT never reached it; end it before leaving.
        kill_group(proc, kill_grace)
        raise
    finally:
        reader.close()
        stop_watcher(watcher)
    exit_code = None if stopped is not None else proc.returncode
    return ProcessResult(exit_code, stopped, reader.stderr_tail(), started_at,
                         time.monotonic() - t0, reader.lines)


class _Reader:
    """Reads stdout (split into lines) and stderr (a bounded tail) without threads."""

    def __init__(self, proc: subprocess.Popen[bytes], on_line: Callable[[str], bool],
                 tee: IO[str] | None) -> None:
        assert proc.stdout is not None and proc.stderr is not None
        self.proc = proc
        self.on_line = on_line
        self.tee = tee
        self.lines = 0
        self.orphans = False
        self._buf = bytearray()
        self._err = bytearray()
        self._sel = selectors.DefaultSelector()
        self._sel.register(proc.stdout, selectors.EVENT_READ, "out")
        self._sel.register(proc.stderr, selectors.EVENT_READ, "err")

    def pump(self, deadline: float | None, cancel: threading.Event | None,
             on_tick: Callable[[], None] | None, tick_s: float) -> str | None:
        next_tick = time.monotonic() + tick_s
        leader_gone: float | None = None
        while self._sel.get_map():
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return "timeout"
            if cancel is not None and cancel.is_set():
                self._read(0.0)  # what the command printed before the stop still counts (its tokens)
                return "cancelled"
            if leader_gone is None and self.proc.poll() is not None:
                leader_gone = now
            elif leader_gone is not None and now - leader_gone > _LINGER_S:
                # The command exited but something it started keeps the pipes
                # open: without a timeout we would wait for it forever.
                self.orphans = True
                return None
            wait = tick_s if deadline is None else max(0.0, min(tick_s, deadline - now))
            if self._read(wait):
                return "signal"
            if on_tick is not None and time.monotonic() >= next_tick:
                next_tick = time.monotonic() + tick_s
                on_tick()
        return None

    def _read(self, wait: float) -> bool:
        """Read what the pipes have within ``wait`` seconds; True when a line's callback said stop."""
        for key, _ in self._sel.select(wait):
            data = os.read(key.fd, _READ)
            if not data:
                self._sel.unregister(key.fileobj)
                if key.data == "out" and self._buf:
                    rest = bytes(self._buf)
                    self._buf.clear()
                    if self._line(rest):
                        return True
                continue
            if key.data == "err":
                self._err += data
                del self._err[:-_STDERR_TAIL]
                continue
            self._buf += data
            while True:
                nl = self._buf.find(b"\n")
                if nl < 0:
                    break
                line = bytes(self._buf[:nl])
                del self._buf[:nl + 1]
                if self._line(line):
                    return True
        return False

    def _line(self, raw: bytes) -> bool:
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        self.lines += 1
        if self.tee is not None:
            try:
                self.tee.write(text + "\n")
                self.tee.flush()
            except OSError as exc:  # the caller stops the group (stream_process's except)
                raise OutputWriteError(exc.strerror or str(exc)) from exc
        return self.on_line(text)

    def stderr_tail(self) -> str:
        return bytes(self._err).decode("utf-8", errors="replace")

    def close(self) -> None:
        self._sel.close()
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


def _wait_rest(proc: subprocess.Popen[bytes], deadline: float | None) -> bool:
    """Both pipes closed: wait for the exit (bounded by the deadline); False on timeout."""
    remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
    try:
        proc.wait(timeout=remaining)
    except subprocess.TimeoutExpired:
        return False
    return True
