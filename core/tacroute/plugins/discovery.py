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

__all__ = ["ENTRY_POINT_GROUP", "EntryPointInfo", "cache_file", "discover_entry_points"]

ENTRY_POINT_GROUP = "tacroute"


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

    use_cache = os.environ.get("TACROUTE_NO_PLUGIN_CACHE", "") in ("", "0")
    fingerprint = _fingerprint()
    path = cache_file("entry-points")
    known: dict[str, list[list[str | None]]] = {}
    if use_cache:
        try:
            with open(path, encoding="utf-8") as fh:
                known = json.load(fh)["fingerprints"]
            rows = known.get(fingerprint)
            if rows is not None:
                return [EntryPointInfo(*row) for row in rows]  # type: ignore[arg-type]
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            known = {}
    from importlib import metadata

    seen: set[tuple[str, str]] = set()
    found: list[EntryPointInfo] = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        item = EntryPointInfo.of(ep)
        if (item.name, item.value) not in seen:  # a distribution seen twice on sys.path
            seen.add((item.name, item.value))
            found.append(item)
    if use_cache:
        from tacroute.paths import write_cache_file

        # One entry per sys.path layout (a console script and ``python -m``
        # differ in sys.path[0]); keep the most recent few.
        known.pop(fingerprint, None)
        known[fingerprint] = [[e.name, e.value, e.dist, e.version] for e in found]
        known = dict(list(known.items())[-8:])
        write_cache_file(path, json.dumps({"fingerprints": known}).encode())
    return found
