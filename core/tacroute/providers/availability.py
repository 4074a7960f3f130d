"""ProviderManager: which providers can run now (what routing asks).

Availability is: enabled in config, a plugin provides the type, the command
is found (an absolute path, a path relative to the config's folder or the
working directory, or a name on PATH) unless the type executes in-process and
the table names no command, the API key variable is set (its value is never
read into anything printed), and the type's own checks pass. Building a
command to run is :mod:`tacroute.providers.command`'s business.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from tacroute.errors import ProviderError
from tacroute.providers.execute import executes_in_process

if TYPE_CHECKING:
    from tacroute.config.model import Config, ProviderConfig
    from tacroute.types import ProviderType

__all__ = ["ProviderManager", "ProviderStatus"]


class ProviderStatus(NamedTuple):
    name: str
    type: str
    available: bool
    reason: str | None
    command: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "available": self.available,
                "reason": self.reason, "command": self.command}


class ProviderManager:
    """The providers of one config, with their availability worked out once."""

    def __init__(self, config: Config, registry: Any = None,
                 env: Mapping[str, str] | None = None) -> None:
        if registry is None:
            from tacroute.plugins import get_registry

            registry = get_registry()
        self.config = config
        self.registry = registry
        self.env: Mapping[str, str] = os.environ if env is None else env
        self._status: dict[str, ProviderStatus] = {}

    # ----------------------------------------------------------------- lookup
    def get_provider(self, name: str) -> ProviderConfig:
        try:
            return self.config.providers[name]
        except KeyError:
            raise ProviderError(f"unknown provider {name!r}; configured: "
                                f"{', '.join(self.config.providers) or '(none)'}") from None

    def provider_type(self, name: str) -> ProviderType | None:
        pc = self.get_provider(name)
        ptype: ProviderType | None = self.registry.providers.get(pc.type)
        return ptype

    # ----------------------------------------------------------- availability
    def status(self, name: str) -> ProviderStatus:
        cached = self._status.get(name)
        if cached is None:
            cached = self._status[name] = self._check(self.get_provider(name))
        return cached

    def statuses(self) -> list[ProviderStatus]:
        return [self.status(name) for name in self.config.providers]

    def is_available(self, name: str) -> tuple[bool, str | None]:
        if name not in self.config.providers:
            return False, f"provider {name!r} is not configured"
        st = self.status(name)
        return st.available, st.reason

    def refresh(self) -> None:
        """Forget cached availability (after PATH or environment changes)."""
        self._status.clear()

    def _check(self, pc: ProviderConfig) -> ProviderStatus:
        def result(ok: bool, reason: str | None, command: str | None = None) -> ProviderStatus:
            return ProviderStatus(pc.name, pc.type, ok, reason, command)

        if not pc.enabled:
            return result(False, "disabled in config (enabled = false)")
        ptype = self.registry.providers.get(pc.type)
        if ptype is None:
            return result(False, f"no installed plugin provides provider type {pc.type!r}")
        command: str | None = None
        if pc.command_template:
            command = self.resolve_command(pc.command_template[0])
            if command is None:
                return result(False, f"command {pc.command_template[0]!r} not found "
                              "(not on PATH, nor relative to the config's folder)")
        elif not executes_in_process(ptype):
            return result(False, "no command_template")
        if pc.requires_api_key and pc.api_key_env and not self.env.get(pc.api_key_env):
            return result(False, f"{pc.api_key_env} not set", command)
        try:
            ok, reason = ptype.availability(pc)
        except Exception as exc:  # noqa: BLE001 - a plugin bug makes the provider unavailable
            ok, reason = False, f"availability check failed: {type(exc).__name__}: {exc}"
        return result(ok, reason, command)

    def resolve_command(self, program: str) -> str | None:
        """Absolute path of ``program``, or None when it cannot be found."""
        if os.sep in program or (os.altsep and os.altsep in program):
            path = Path(program).expanduser()
            tries = [path] if path.is_absolute() else [self.config.base_dir / path, Path.cwd() / path]
            for candidate in tries:
                if candidate.is_file() and os.access(candidate, os.X_OK):
                    return str(candidate.resolve())
            return None
        return _which(program, self.env.get("PATH", os.defpath))


def _which(program: str, path: str) -> str | None:
    """``shutil.which`` for a bare name, without importing shutil (and its
    compression modules) on the routing path."""
    for folder in path.split(os.pathsep):
        candidate = os.path.join(folder or os.curdir, program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    return None
