"""The process group of one attempt: ending it, and a watcher that ends it if we die.

:func:`kill_group` ends whatever is left of a command's group when its attempt
ends; :func:`start_watcher` starts a tiny ``/bin/sh`` that ends the group if
our own process is killed outright (SIGKILL) before it could.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

from tacroute.tuples import NamedTuple

__all__ = ["Watcher", "group_has_live", "kill_group", "start_watcher", "stop_watcher"]


def kill_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    """End the process group: SIGTERM, then SIGKILL for whatever outlives ``grace``.

    The grace covers the whole group, not only the leader (a background child
    the command left behind gets the same chance to clean up). An empty group
    costs one system call.
    """
    pgid = proc.pid  # start_new_session: the leader's pid is the group id
    if _signal_group(pgid, signal.SIGTERM):
        end = time.monotonic() + grace
        if proc.returncode is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=grace)
        while _signal_group(pgid, 0) and group_has_live(pgid) and time.monotonic() < end:
            time.sleep(0.02)
        _signal_group(pgid, signal.SIGKILL)
    if proc.returncode is None:
        proc.wait()


def group_has_live(pgid: int) -> bool:
    """Whether group ``pgid`` has a process that is not a zombie (True when it cannot tell).

    A zombie has ended: it holds no pipe and no signal moves it, it only waits
    for its parent (often init, once the command exited) to reap it. Codex
    leaves a ``git`` child unreaped; an init that reaps slowly (or never, in a
    container without one) would otherwise hold every attempt for the whole grace.
    """
    try:
        names = os.listdir("/proc")
    except OSError:
        return True
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 2 and fields[2] == str(pgid).encode() and fields[0] != b"Z":
            return True
    return False


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to the group; False when it has no process left."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: Ends the group unless told ``done``: reads one line from its standard input,
#: which only our process can write to. When our process dies without ending
#: the group (SIGKILL), the pipe closes, ``read`` sees end-of-file and the
#: group is killed.
_WATCH = 'read -r line; [ "$line" = done ] || kill -s KILL -- "-$1"'


class Watcher(NamedTuple):
    proc: subprocess.Popen[bytes]
    fd: int


def start_watcher(pgid: int) -> Watcher | None:
    """A ``/bin/sh`` in its own session that kills group ``pgid`` if we die first.

    Why not a parent-death signal (``prctl(PR_SET_PDEATHSIG)``) in the command:
    it would need ``preexec_fn``, which runs Python code between ``fork`` and
    ``exec`` (unsafe when other threads run, as in ``run_task`` from threads,
    and it loses ``vfork``), it fires when the spawning *thread* ends, not the
    process, and it reaches only the direct child, never the tools it started.
    The watcher ends the whole group and runs beside the command (~1 ms to
    spawn while the command starts up). Its own session keeps it out of
    signals sent to our process group (Ctrl-C in a terminal). Best effort:
    without ``/bin/sh`` the attempt runs unwatched.
    """
    read_end, write_end = os.pipe()
    try:
        proc = subprocess.Popen(["/bin/sh", "-c", _WATCH, "tacroute-watch", str(pgid)], stdin=read_end,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
    except OSError:
        os.close(write_end)
        return None
    finally:
        os.close(read_end)
    return Watcher(proc, write_end)


def stop_watcher(watcher: Watcher | None) -> None:
    """The group is ended: release the watcher without letting it kill anything."""
    if watcher is None:
        return
    with contextlib.suppress(OSError):
        os.write(watcher.fd, b"done\n")
    os.close(watcher.fd)
    watcher.proc.wait()
