"""Plugin manifests: what each plugin registered when last loaded (see :mod:`tacroute.plugins.deferred`).

A manifest holds the names a plugin registered of each kind, the hooks it
implements, and the size and mtime of its entry-point module and of its
packages' ``__init__``: it still holds while those files are unchanged.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tacroute.plugins.discovery import EntryPointInfo

__all__ = ["KINDS", "LAZY_HOOKS", "Manifest", "deferrable", "stamp"]

#: The kinds of things a plugin registers, as the registry's attributes name them.
KINDS = ("providers", "conditions", "output_parsers", "config_sections", "state_backends")

#: The hooks a deferred plugin may implement: each only registers things the registry looks
#: up by name (or, for commands, that the CLI adds after loading every plugin).
LAZY_HOOKS = frozenset({"register_providers", "register_conditions", "register_output_parsers",
                        "register_state_backends", "register_commands"})


class Manifest:
    """One plugin's manifest: its entry point's value, what it registered, its hooks, its files."""

    __slots__ = ("files", "hooks", "provides", "value")

    def __init__(self, value: str, provides: Mapping[str, list[str]], hooks: Iterable[str],
                 files: list[list[Any]]) -> None:
        self.value = value
        self.provides = {kind: list(names) for kind, names in provides.items() if names}
        self.hooks = sorted(hooks)
        self.files = files

    def row(self) -> dict[str, Any]:
        """The manifest as the cache file keeps it (JSON)."""
        return {"value": self.value, "provides": self.provides, "hooks": self.hooks, "files": self.files}

    @classmethod
    def from_row(cls, row: Any) -> Manifest | None:
        """A manifest read back from the cache; None for anything malformed."""
        if not isinstance(row, dict):
            return None
        value, provides, hooks, files = (row.get(k) for k in ("value", "provides", "hooks", "files"))
        if not (isinstance(value, str) and isinstance(provides, dict) and isinstance(hooks, list)
                and isinstance(files, list)):
            return None
        if not all(kind in KINDS and isinstance(names, list) and all(isinstance(n, str) for n in names)
                   for kind, names in provides.items()):
            return None
        if not all(isinstance(h, str) for h in hooks) or not all(
                isinstance(f, list) and len(f) == 3 and isinstance(f[0], str) for f in files):
            return None
        return cls(value, provides, hooks, files)

    def may_wait(self) -> bool:
        """Whether the plugin only registers things looked up by name (no config sections)."""
        return set(self.hooks) <= LAZY_HOOKS and "config_sections" not in self.provides

    def holds(self) -> bool:
        """Whether every stamped file is still the one the manifest was made from."""
        for path, mtime_ns, size in self.files:
            try:
                st = os.stat(path)
            except OSError:
                return False
            if st.st_mtime_ns != mtime_ns or st.st_size != size:
                return False
        return True


def stamp(value: str) -> list[list[Any]]:
    """``[path, mtime_ns, size]`` of the entry point ``value``'s module and of each package
    above it (their ``__init__``), as imported now: what a manifest is checked against."""
    parts = value.partition(":")[0].strip().split(".")
    out: list[list[Any]] = []
    for i in range(len(parts), 0, -1):
        path = getattr(sys.modules.get(".".join(parts[:i])), "__file__", None)
        if isinstance(path, str):
            try:
                st = os.stat(path)
            except OSError:
                continue
            out.append([path, st.st_mtime_ns, st.st_size])
    return out


def deferrable(entry_points: Iterable[EntryPointInfo], rows: Mapping[str, Any]) -> dict[str, Manifest]:
    """The manifests (by entry-point name) of the plugins of ``entry_points`` (those enabled)
    that may be loaded when first used.

    Empty unless every one of them has a manifest (a plugin new since the last
    start, or one that failed, could register any name: loading everything
    keeps the first plugin's claim on it, as always), and empty when two share
    an entry-point name or two manifests claim the same name of a kind (the
    clash is then reported as before).
    """
    manifests: dict[str, Manifest] = {}
    for ep in entry_points:
        found = Manifest.from_row(rows.get(ep.name))
        if ep.name in manifests or found is None or found.value != ep.value:
            return {}
        manifests[ep.name] = found
    claimed: set[tuple[str, str]] = set()
    for manifest in manifests.values():
        for kind, provided in manifest.provides.items():
            for name in provided:
                if (kind, name) in claimed:
                    return {}
                claimed.add((kind, name))
    return {name: m for name, m in manifests.items() if m.may_wait() and m.holds()}
