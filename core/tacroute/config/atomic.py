"""Edit a config file safely: one editor at a time, and never a half-written file.

:func:`locked_file` resolves a symlinked config to its target (the link stays
a link), takes an exclusive ``flock`` on a lock file beside the target
(``.NAME.lock``, left in place: removing it would let two editors lock two
different files) and yields the target, so the caller reads it *under* the
lock. :func:`replace_text` writes a temporary file in the target's directory,
fsyncs it, gives it the target's permission bits and renames it over the
target, so a reader sees the old file or the new one, nothing in between.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tacroute.errors import TacrouteError

__all__ = ["locked_file", "replace_text"]


def _fail(action: str, path: Path, exc: OSError) -> TacrouteError:
    return TacrouteError(f"cannot {action} {path}: {exc.strerror or exc}")


@contextmanager
def locked_file(path: Path) -> Iterator[Path]:
    """Hold the edit lock of ``path``'s target; yields the target's path."""
    target = Path(os.path.realpath(path))
    lock_path = target.with_name(f".{target.name}.lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise _fail("create the lock file", lock_path, exc) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield target
    finally:
        os.close(fd)  # closing releases the lock


def replace_text(target: Path, text: str) -> None:
    """Atomically replace ``target`` (not a symlink: see :func:`locked_file`) with ``text``."""
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    except OSError as exc:
        raise _fail("read", target, exc) from exc
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise _fail("write a temporary file beside", target, exc) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _fail("write", target, exc) from exc
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
