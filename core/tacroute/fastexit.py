"""Ending a console script's process without the interpreter's module teardown.

Shared by ``tacroute`` and ``tacroute-claude`` (kept free of click). A console
script installs :func:`note_writes` as an audit hook at start and ends with
:func:`fast_exit`.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import IO, Any

__all__ = ["fast_exit", "note_writes", "open_own"]


def fast_exit(exc: SystemExit) -> None:
    """End the process now, skipping only the interpreter's teardown of modules and objects.

    What a normal exit does that anyone could rely on still happens: the
    ``atexit`` handlers run, stdout/stderr are flushed, and so is every other
    file still open for writing (a plugin's log it never closed reaches the
    disk, as the file object's finalizer would have written it); the exit code
    is the one ``sys.exit`` would give. Returns (so the caller exits the normal
    way) when another thread is alive, the code is not an integer or None, or
    flushing stdout/stderr fails (a closed pipe is then reported as usual).
    Not done any more: other ``__del__`` methods of objects still alive (the
    history store closes its database from an ``atexit`` handler for this).
    The teardown skipped costs ~13 ms, more than a ``tacroute route`` decision.
    """
    code = exc.code
    if code is None:
        code = 0
    if not isinstance(code, int) or threading.active_count() != 1:
        return
    import atexit

    atexit._run_exitfuncs()
    try:
        for stream in {id(s): s for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
                       if s is not None}.values():
            stream.flush()
    except (OSError, ValueError, AttributeError):
        return
    if _opened_for_writing:
        _flush_open_files()
    os._exit(code & 0xFF)


#: Whether this process opened a file object for writing that it may not have closed
#: (the console script's audit hook says).
_opened_for_writing = False
#: Set (per thread) while :func:`open_own` opens a file its caller closes itself.
_own = threading.local()


def note_writes(event: str, args: tuple[Any, ...]) -> None:
    """Audit hook: note an ``open`` of a file object for writing, so only then
    :func:`fast_exit` looks for files to flush.

    ``os.open`` (the event's mode is None) makes a bare descriptor, with no
    buffer to flush, and a file opened through :func:`open_own` is closed by
    its opener: neither counts. The walk they would cost is ~5 ms of a run's
    exit (``tacroute run``, ``tacroute-claude``), after the worker's own end.
    """
    global _opened_for_writing
    if event == "open" and not _opened_for_writing and len(args) == 3 and args[1] is not None \
            and isinstance(args[2], int) and args[2] & 3 \
            and not getattr(_own, "active", False):  # O_WRONLY or O_RDWR
        _opened_for_writing = True


def open_own(file: int | str | os.PathLike[str], mode: str, encoding: str | None = None) -> IO[Any]:
    """``open(file, mode, encoding=encoding)`` for a file the caller always closes
    (``with``, ``finally``): the fast exit need not look for it."""
    _own.active = True
    try:
        return open(file, mode, encoding=encoding)  # the caller closes it
    finally:
        _own.active = False


def _flush_open_files() -> None:
    """Flush every open file object in the process (text wrappers first, then their buffers).

    Found through the garbage collector's list (a few ms at ``route``'s size),
    so only done when the process opened a file for writing. A file that cannot be flushed (its disk
    is full, its pipe closed) is left as a finalizer would leave it: silently.
    """
    import gc
    import io

    texts: list[io.TextIOWrapper] = []
    buffers: list[io.BufferedWriter | io.BufferedRandom] = []
    for obj in gc.get_objects():
        if isinstance(obj, io.TextIOWrapper):
            texts.append(obj)
        elif isinstance(obj, (io.BufferedWriter, io.BufferedRandom)):
            buffers.append(obj)
    for f in (*texts, *buffers):
        try:
            if not f.closed:
                f.flush()
        except (OSError, ValueError):
            pass
