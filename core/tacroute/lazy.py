"""Names a package exports but imports only when first used.

A package lists ``{name: module}`` and sets
``__getattr__ = lazy_exports(__name__, {...})``: the first access imports the
module, takes the name from it and keeps it in the package (later accesses
are plain attribute reads). So ``import tacroute`` stays cheap, and routing
never pays for what only running or the history layer needs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` for ``package`` resolving ``table``'s names."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
