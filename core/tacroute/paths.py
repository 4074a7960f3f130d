"""Where tacroute keeps files of its own outside the project."""

from __future__ import annotations

import os

__all__ = ["cache_dir"]


def cache_dir() -> str:
    """tacroute's folder in the user cache: ``$XDG_CACHE_HOME/tacroute`` (default ``~/.cache``).

    A plain string (no pathlib), since plugin discovery reads it at every start.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tacroute")
