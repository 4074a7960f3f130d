"""Plugins: discovery, the registry of what they provide, and the hooks.

- :mod:`tacroute.plugins.discovery`: the ``tacroute`` entry points, cached.
- :mod:`tacroute.plugins.registry`: :class:`Registry`, loading each plugin on
  its own and recording who registered what.
- :mod:`tacroute.plugins.hooks`: :class:`Hooks`, the typed calls of the hooks
  through pluggy (its order, its wrappers), each plugin isolated.

Loading is lazy (the first :func:`get_registry` call), idempotent, and never a
side effect of importing tacroute.
"""

from __future__ import annotations

from tacroute.plugins.discovery import ENTRY_POINT_GROUP, discover_entry_points
from tacroute.plugins.hooks import Hooks, make_plugin_manager
from tacroute.plugins.registry import PluginInfo, Registry

__all__ = [
    "ENTRY_POINT_GROUP",
    "Hooks",
    "PluginInfo",
    "Registry",
    "discover_entry_points",
    "get_registry",
    "make_plugin_manager",
    "reset_registry",
    "set_registry",
]

_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, loading plugins on first use."""
    global _registry
    if _registry is None:
        _registry = Registry.load()
    return _registry


def set_registry(registry: Registry | None) -> None:
    """Replace the process-wide registry (tests and embedding)."""
    global _registry
    _registry = registry


def reset_registry() -> None:
    """Forget the loaded plugins; the next :func:`get_registry` loads them again."""
    set_registry(None)
