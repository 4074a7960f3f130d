"""Where tacroute keeps files of its own outside the project, and how it writes them."""

from __future__ import annotations

import contextlib
import os

__all__ = ["cache_dir", "write_cache_file"]


def cache_dir() -> str:
    """tacroute's folder in the user cache: ``$XDG_CACHE_HOME/tacroute`` (default ``~/.cache``).

    A plain string (no pathlib), since plugin discovery reads it at every start.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tacroute")


def write_cache_file(path: str, data: bytes) -> bool:
    """Replace the cache file ``path`` with ``data`` atomically (a reader sees the old file or
    the new one); False when it cannot be written: an unwritable cache only costs speed."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True
