"""Finding the ``tacroute`` entry points of the installed distributions.

Scanning every distribution's metadata is slow for a command as quick as
``tacroute route``, so the result is cached per environment (see
:func:`discover_entry_points`); loading the plugins is the registry's job.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib import metadata

__all__ = ["ENTRY_POINT_GROUP", "EntryPointInfo", "cache_file", "cached_manifests", "discover_entry_points",
           "save_manifests"]

ENTRY_POINT_GROUP = "tacroute"

#: The cache file's path, the fingerprint and the content the last discovery used (None: the
#: cache is off), so the plugins' manifests are read from the same file without reading it again.
_last: tuple[str, str, dict[str, Any]] | None = None


class EntryPointInfo:
    """The part of an entry point tacroute needs; cheap to cache as JSON."""

    __slots__ = ("dist", "name", "value", "version")

    def __init__(self, name: str, value: str, dist: str | None, version: str | None) -> None:
        self.name, self.value, self.dist, self.version = name, value, dist, version

    @classmethod
    def of(cls, ep: metadata.EntryPoint) -> EntryPointInfo:
        dist = getattr(ep, "dist", None)
        return cls(ep.name, ep.value, dist.metadata["Name"] if dist is not None else None,
                   dist.version if dist is not None else None)

    def load(self) -> Any:
        import importlib

        module_name, _, attrs = self.value.partition(":")
        obj: Any = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


def _fingerprint() -> str:
    """Changes whenever a distribution is installed or removed on ``sys.path``.

    A folder's mtime changes when an entry is added or removed, which is what
    installing does. The working directory (``""`` on ``sys.path`` for
    ``python -c`` and ``-m``) changes all the time for unrelated reasons, so
    for it the names of the distributions it holds are used instead.
    """
    parts = [sys.prefix]
    cwd = os.getcwd()
    for entry in sys.path:
        try:
            if entry in ("", ".") or entry == cwd:
                names = sorted(e.name for e in os.scandir(entry or ".")
                               if e.name.endswith((".dist-info", ".egg-info", ".egg-link")))
                parts.append(f"{entry}={','.join(names)}")
            else:
                parts.append(f"{entry}={os.stat(entry).st_mtime_ns}")
        except OSError:
            continue
    return "|".join(parts)


def cache_file(kind: str) -> str:
    """One cache file of ``kind`` per environment, named after its prefix."""
    from tacroute.paths import cache_dir

    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in sys.prefix.strip(os.sep))[-150:]
    return os.path.join(cache_dir(), f"{kind}-{name}.json")


def discover_entry_points() -> list[EntryPointInfo]:
    """The ``tacroute`` entry points of the installed distributions.

    Scanning every distribution's metadata costs tens of milliseconds, a lot
    for ``tacroute route``; the result is cached (in the user cache dir, per
    environment) and used while no folder on ``sys.path`` has changed, which
    is what installing or removing a distribution does.
    ``TACROUTE_NO_PLUGIN_CACHE=1`` always scans.
    """
    import json

    global _last
    use_cache = os.environ.get("TACROUTE_NO_PLUGIN_CACHE", "") in ("", "0")
    fingerprint = _fingerprint()
    path = cache_file("entry-points")
    doc: dict[str, Any] = {}
    _last = None
    if use_cache:
        try:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
            rows = doc["fingerprints"].get(fingerprint)
            if rows is not None:
                found = [EntryPointInfo(*row) for row in rows]
                _last = (path, fingerprint, doc)
                return found
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            doc = {}
    from importlib import metadata

    seen: set[tuple[str, str]] = set()
    found = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        item = EntryPointInfo.of(ep)
        if (item.name, item.value) not in seen:  # a distribution seen twice on sys.path
            seen.add((item.name, item.value))
            found.append(item)
    if use_cache:
        # One entry per sys.path layout (a console script and ``python -m``
        # differ in sys.path[0]); keep the most recent few.
        old = doc.get("fingerprints")
        known: dict[str, Any] = old if isinstance(old, dict) else {}
        known.pop(fingerprint, None)
        known[fingerprint] = [[e.name, e.value, e.dist, e.version] for e in found]
        known = dict(list(known.items())[-8:])
        # Other layouts' manifests stay; this one's are learned again.
        doc = {"fingerprints": known, "manifests": _other_manifests(doc, known, fingerprint)}
        _write(path, doc)
        _last = (path, fingerprint, doc)
    return found


def cached_manifests() -> dict[str, Any] | None:
    """What each plugin provided when it was last loaded with the entry points the last
    :func:`discover_entry_points` found (see :mod:`tacroute.plugins.manifest`): raw rows by
    entry-point name (empty when none are kept yet); None when the cache is off."""
    if _last is None:
        return None
    rows = _last[2].get("manifests", {})
    found = rows.get(_last[1]) if isinstance(rows, dict) else None
    return found if isinstance(found, dict) else {}


def save_manifests(rows: dict[str, Any]) -> None:
    """Keep ``rows`` as the manifests of the entry points the last discovery found (no-op
    when the cache is off); the cache file is read again first, so another process's
    newer entry points are not lost."""
    import json

    global _last
    if _last is None:
        return
    path, fingerprint, doc = _last
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        pass
    if not isinstance(doc, dict) or not isinstance(doc.get("fingerprints"), dict) \
            or fingerprint not in doc["fingerprints"]:
        return
    known = doc["fingerprints"]
    manifests = _other_manifests(doc, known, fingerprint)
    manifests[fingerprint] = rows
    doc = {"fingerprints": known, "manifests": manifests}
    _write(path, doc)
    _last = (path, fingerprint, doc)


def _other_manifests(doc: dict[str, Any], known: dict[str, Any], fingerprint: str) -> dict[str, Any]:
    """The cache file's manifests of the other layouts it still keeps entry points for."""
    kept = doc.get("manifests")
    if not isinstance(kept, dict):
        return {}
    return {fp: rows for fp, rows in kept.items() if fp in known and fp != fingerprint}


def _write(path: str, doc: dict[str, Any]) -> None:
    import json

    from tacroute.paths import write_cache_file

    write_cache_file(path, json.dumps(doc).encode())
