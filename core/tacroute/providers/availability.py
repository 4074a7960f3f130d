"""ProviderManager: which providers can run now (what routing asks).

Availability is: enabled in config, a plugin provides the type, the command
is found (an absolute path, a path relative to the config's folder or the
working directory, or a name on PATH) unless the type executes in-process and
the table names no command, the API key variable is set (in the provider's
``env`` table or the environment; its value is never read into anything
printed), and the type's own checks pass. The key reaches the provider with
surrounding whitespace stripped (:func:`tacroute.redact.clean_key`). Building a
command to run is :mod:`tacroute.providers.command`'s business.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacroute.errors import ProviderError, UsageError
from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    from tacroute.config.model import Config, ProviderConfig
    from tacroute.types import ProviderType

__all__ = ["ProviderManager", "ProviderStatus", "executes_in_process"]


def executes_in_process(ptype: Any) -> bool:
    """Whether a provider type implements ``execute`` itself (needs no command)."""
    from tacroute.types import ProviderType

    impl = getattr(type(ptype), "execute", None)
    return impl is not None and impl is not ProviderType.execute


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
        #: The base environment, with ``[secrets] env_file``'s variables it lacks.
        self.env: Mapping[str, str] = os.environ if env is None else env
        if "secrets" in config.raw:  # without the table there is no env file (nor its module to load)
            from tacroute.secrets import with_env_file

            self.env = with_env_file(config, self.env)
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
        if pc.requires_api_key and pc.api_key_env and not self._raw_key(pc).strip():
            return result(False, f"{pc.api_key_env} not set", command)
        try:
            ok, reason = ptype.availability(pc)
        except Exception as exc:  # noqa: BLE001 - a plugin bug makes the provider unavailable
            from tacroute.redact import MESSAGE_LIMIT, Redactor

            # A plugin's text: it may quote anything it was given, the key included.
            redact = Redactor.from_env(self.env, [pc.api_key_env] if pc.api_key_env else [], [pc.env])
            ok, reason = False, redact.cut(f"availability check failed: {type(exc).__name__}: {exc}",
                                           MESSAGE_LIMIT)
        return result(ok, reason, command)

    def _raw_key(self, pc: ProviderConfig) -> str:
        if not pc.api_key_env:
            return ""
        value = pc.env.get(pc.api_key_env)
        return value if value is not None else self.env.get(pc.api_key_env, "")

    def api_key(self, name: str) -> str | None:
        """The provider's API key (its ``env`` table first, then ours), whitespace stripped.

        Raises :class:`UsageError` naming the variable (never the value) when
        the key holds a control character: no request could carry it.
        """
        from tacroute.redact import BadKeyError, clean_key

        pc = self.get_provider(name)
        if not pc.api_key_env:
            return None
        try:
            return clean_key(pc.api_key_env, self._raw_key(pc))
        except BadKeyError as exc:
            raise UsageError(f"provider {name!r}: {exc}") from None

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
