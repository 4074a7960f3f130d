"""Parsed config documents kept on disk, so a start whose config file did not change skips
the TOML parser (``tomllib``'s import and parse: ~2 ms of a ~55 ms ``tacroute route``).

One file per config path in ``<user cache dir>/config-docs/``: a ``marshal`` of (format,
the file's absolute path, its exact text, the parsed document). A load uses the document
only when the text it just read from the config file equals the cached text, character for
character: no mtime or size is trusted, so the cache can never be stale. Anything else (no
cache file, another path, a truncated or corrupted file, another format) is a miss: the
text is parsed as before and the cache rewritten once the config has validated.

Not cached: documents ``marshal`` cannot hold (TOML dates and times), text that is not
valid TOML or a config that does not validate (their errors always come from parsing and
checking the text), and everything when ``TACROUTE_NO_CONFIG_CACHE=1``. Validation runs on
every load, cached document or not, so errors and warnings are the same. ``marshal.loads``
builds new objects on every call: no two loads share a document. At most
:data:`MAX_FILES` files are kept (the oldest written go first).
"""

from __future__ import annotations

import marshal
import os
from typing import Any

__all__ = ["FORMAT", "MAX_FILES", "cached_doc", "doc_file", "dump_doc", "enabled", "save_doc"]

#: Bumped whenever what a cache file holds changes; files of another format are misses.
FORMAT = 1
#: Cache files kept; writing one more removes the oldest.
MAX_FILES = 32


def enabled() -> bool:
    """False when ``TACROUTE_NO_CONFIG_CACHE`` is set (to anything but ``0``)."""
    return os.environ.get("TACROUTE_NO_CONFIG_CACHE", "") in ("", "0")


def doc_file(key: str) -> str:
    """The cache file of the config at the absolute path ``key``."""
    from tacroute.paths import cache_dir

    # The path made a file name (its end, when long): two paths that end up with one name
    # only take turns (the path is in the file and checked), and no hash module is imported.
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in key.strip(os.sep))[-200:]
    return os.path.join(cache_dir(), "config-docs", f"{name}.marshal")


def cached_doc(text: str, key: str) -> dict[str, Any] | None:
    """The cached document of ``text`` read from ``key``, or None (a miss)."""
    try:
        with open(doc_file(key), "rb") as fh:
            entry = marshal.loads(fh.read())
    except (OSError, EOFError, ValueError, TypeError):  # none, unreadable, truncated, corrupted
        return None
    if (type(entry) is tuple and len(entry) == 4 and entry[0] == FORMAT and entry[1] == key
            and entry[2] == text and type(entry[3]) is dict):
        doc: dict[str, Any] = entry[3]
        return doc
    return None


def dump_doc(text: str, key: str, doc: dict[str, Any]) -> bytes | None:
    """What :func:`save_doc` writes for ``doc`` parsed from ``text``, or None when ``marshal``
    cannot hold it (a TOML date or time, or nesting deeper than it goes)."""
    try:
        return marshal.dumps((FORMAT, key, text, doc))
    except ValueError:
        return None


def save_doc(key: str, data: bytes) -> None:
    """Write a cache file made by :func:`dump_doc` (silently not, when it cannot be written),
    removing the oldest files beyond :data:`MAX_FILES`."""
    from tacroute.paths import write_cache_file

    path = doc_file(key)
    if not write_cache_file(path, data):
        return
    try:
        with os.scandir(os.path.dirname(path)) as it:
            files = [(e.stat().st_mtime_ns, e.path) for e in it if e.name.endswith(".marshal")]
        files.sort()
        for _, old in files[:max(0, len(files) - MAX_FILES)]:
            if old != path:
                os.unlink(old)
    except OSError:
        pass  # another process pruned it first, or the folder went away
