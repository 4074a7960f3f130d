"""Plugins: discovery, the registry of what they provide, and the hooks.

- :mod:`tacroute.plugins.discovery`: the ``tacroute`` entry points, cached.
- :mod:`tacroute.plugins.registry`: :class:`Registry`, loading each plugin on
  its own and recording who registered what.
- :mod:`tacroute.plugins.hooks`: :class:`Hooks`, the typed calls of the hooks
  through pluggy (its order, its wrappers), each plugin isolated.
- :mod:`tacroute.plugins.commandcache`: the plugins' commands for ``tacroute --help``, cached.

Loading is lazy (the first :func:`get_registry` call), idempotent, and never a
side effect of importing tacroute. The package's names are imported on first
use, so its light modules (discovery, the command cache) do not pull in pluggy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tacroute.lazy import lazy_exports

if TYPE_CHECKING:
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
    "loaded",
    "make_plugin_manager",
    "reset_registry",
    "set_registry",
]

__getattr__ = lazy_exports(__name__, {
    "ENTRY_POINT_GROUP": "tacroute.plugins.discovery",
    "discover_entry_points": "tacroute.plugins.discovery",
    "Hooks": "tacroute.plugins.hooks",
    "make_plugin_manager": "tacroute.plugins.hooks",
    "PluginInfo": "tacroute.plugins.info",
    "Registry": "tacroute.plugins.registry",
})

_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, loading plugins on first use."""
    global _registry
    if _registry is None:
        from tacroute.plugins.registry import Registry

        _registry = Registry.load()
    return _registry


def loaded() -> bool:
    """Whether the process-wide registry is loaded (or set) already."""
    return _registry is not None


def set_registry(registry: Registry | None) -> None:
    """Replace the process-wide registry (tests and embedding)."""
    global _registry
    _registry = registry


def reset_registry() -> None:
    """Forget the loaded plugins; the next :func:`get_registry` loads them again."""
    set_registry(None)
