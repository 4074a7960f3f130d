"""What ``tacroute plugins`` shows for one plugin, and the CLI's log of added sub-commands."""

from __future__ import annotations

import threading
from typing import Any, Protocol

__all__ = ["CommandLog", "PluginInfo", "RunningPlugin"]


class PluginInfo:
    """What ``tacroute plugins`` shows for one plugin."""

    __slots__ = ("commands", "conditions", "config_sections", "disabled", "distribution", "error",
                 "name", "output_parsers", "providers", "state_backends", "version")

    def __init__(self, name: str, distribution: str | None = None, version: str | None = None) -> None:
        self.name = name
        self.distribution = distribution
        self.version = version
        self.providers: list[str] = []
        self.conditions: list[str] = []
        self.output_parsers: list[str] = []
        self.config_sections: list[str] = []
        self.state_backends: list[str] = []
        self.commands: list[str] = []
        self.error: str | None = None
        self.disabled = False

    def __repr__(self) -> str:
        return f"PluginInfo({self.name!r}, distribution={self.distribution!r}, error={self.error!r})"

    def skip_line(self) -> str:
        """The line on stderr saying this plugin failed (:attr:`error`) and is skipped."""
        dist = f" (distribution {self.distribution})" if self.distribution else ""
        return f"tacroute: skipping plugin {self.name!r}{dist}: {self.error}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "providers": self.providers,
            "conditions": self.conditions,
            "output_parsers": self.output_parsers,
            "state_backends": self.state_backends,
            "commands": self.commands,
            "error": self.error,
            "disabled": self.disabled,
        }


class CommandLog(Protocol):
    """Sub-commands added to built-in CLI groups (the CLI's record of them)."""

    def mark(self) -> int: ...
    def added_since(self, mark: int) -> list[str]: ...
    def remove_added(self, mark: int) -> None: ...


class RunningPlugin(threading.local):
    """Which plugin's hook implementation is running, per thread, as a ``ContextVar`` would
    keep it (a hook call is synchronous: no other task runs on the thread meanwhile), without
    importing ``contextvars``, which nothing else on ``tacroute route``'s path needs."""

    info: PluginInfo | None = None
