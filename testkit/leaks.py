"""Look for a secret in what tacroute wrote: any run of 6 or more of its characters counts."""

from __future__ import annotations

from pathlib import Path

__all__ = ["RUN", "file_bytes", "leaked_runs"]

#: The shortest run of a secret's characters that must never appear.
RUN = 6


def leaked_runs(secret: str, data: str | bytes) -> list[str]:
    """Every 6-character piece of ``secret`` found in ``data`` (empty: nothing leaked)."""
    blob = data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")
    raw = secret.encode("utf-8")
    return sorted({raw[i:i + RUN].decode("utf-8", "replace") for i in range(len(raw) - RUN + 1)
                   if raw[i:i + RUN] in blob})


def file_bytes(*paths: Path) -> bytes:
    """The raw bytes of these files and their SQLite companions (``-wal``, ``-journal``), if present."""
    out = b""
    for path in paths:
        for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")):
            if candidate.is_file():
                out += candidate.read_bytes()
    return out
