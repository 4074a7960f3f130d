"""Ending a console script's process without the interpreter's module teardown.

Shared by ``tacroute`` and ``tacroute-claude`` (kept free of click).
"""

from __future__ import annotations

import sys

__all__ = ["fast_exit"]


def fast_exit(exc: SystemExit) -> None:
    """End the process now, skipping only the interpreter's teardown of modules and objects.

    What a normal exit does that anyone could rely on still happens: the
    ``atexit`` handlers run and stdout/stderr are flushed; the exit code is
    the one ``sys.exit`` would give. Returns (so the caller exits the normal
    way) when another thread is alive, the code is not an integer or None, or
    flushing fails (a closed pipe is then reported as usual). Not done any
    more: finalizers of objects still alive, so a file a plugin opened and never
    closed (or registered no ``atexit`` handler for) is not flushed; the history
    store closes its database from an ``atexit`` handler for this reason.
    """
    import os
    import threading

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
    os._exit(code & 0xFF)
