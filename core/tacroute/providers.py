"""ProviderManager: which providers can run now, and their commands.

Availability is: enabled in config, a plugin provides the type, the command
is found (an absolute path, a path relative to the config's folder or the
working directory, or a name on PATH), the API key variable is set (in the
provider's ``env`` table or the environment; its value is never read into
anything printed), and the type's own checks pass. The key reaches the command
with surrounding whitespace stripped (:func:`tacroute.redact.clean_key`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from tacroute.errors import ProviderError, UsageError

if TYPE_CHECKING:
    from tacroute.config.model import Config, ProviderConfig
    from tacroute.types import ProviderType

__all__ = ["ProviderManager", "ProviderStatus", "read_prompt"]


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

    def _check(self, pc: ProviderConfig) -> ProviderStatus:
        def result(ok: bool, reason: str | None, command: str | None = None) -> ProviderStatus:
            return ProviderStatus(pc.name, pc.type, ok, reason, command)

        if not pc.enabled:
            return result(False, "disabled in config (enabled = false)")
        ptype = self.registry.providers.get(pc.type)
        if ptype is None:
            return result(False, f"no installed plugin provides provider type {pc.type!r}")
        if not pc.command_template:
            return result(False, "no command_template")
        command = self.resolve_command(pc.command_template[0])
        if command is None:
            return result(False, f"command {pc.command_template[0]!r} not found "
                          "(not on PATH, nor relative to the config's folder)")
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

    # ---------------------------------------------------------------- commands
    def build_command(self, name: str, prompt_file: str | Path, model: str,
                      output_file: str | Path | None = None, prompt: str | None = None) -> list[str]:
        """The argv list for one run: placeholders substituted into single arguments.

        No shell is involved: a model name full of shell metacharacters reaches
        the program unchanged. ``{prompt}`` reads the prompt file when
        ``prompt`` is not given.
        """
        pc = self.get_provider(name)
        if not pc.command_template:
            raise ProviderError(f"provider {name!r} has no command_template")
        values = self._values(pc, prompt_file, model, output_file, prompt)
        argv = [item.format_map(values) for item in pc.command_template]
        resolved = self.resolve_command(argv[0])
        if resolved is not None:
            argv[0] = resolved
        return argv

    def build_stdin(self, name: str, prompt_file: str | Path, model: str,
                    output_file: str | Path | None = None, prompt: str | None = None) -> str | None:
        """The ``stdin`` template substituted (e.g. the prompt file's path), or None."""
        pc = self.get_provider(name)
        if pc.stdin is None:
            return None
        return pc.stdin.format_map(self._values(pc, prompt_file, model, output_file, prompt))

    def build_env(self, name: str) -> dict[str, str]:
        """The environment for the provider's process.

        Ours, then what the provider type adds (:meth:`ProviderType.command_env`,
        e.g. its options), then the table's ``env``; the API key stripped of
        surrounding whitespace (a :class:`ProviderError` if it cannot be used).
        """
        pc = self.get_provider(name)
        env = dict(self.env)
        ptype = self.registry.providers.get(pc.type)
        if ptype is not None:
            env.update(ptype.command_env(pc))
        env.update(pc.env)
        if pc.api_key_env and pc.api_key_env in env:
            try:
                env[pc.api_key_env] = self.api_key(name) or ""
            except UsageError as exc:
                raise ProviderError(str(exc)) from None
        return env

    @staticmethod
    def _values(pc: ProviderConfig, prompt_file: str | Path, model: str,
                output_file: str | Path | None, prompt: str | None) -> _Values:
        return _Values(prompt_file=str(prompt_file), model=model,
                       output_file="" if output_file is None else str(output_file),
                       prompt=prompt)


def _which(program: str, path: str) -> str | None:
    """``shutil.which`` for a bare name, without importing shutil (and its
    compression modules) on the routing path."""
    for folder in path.split(os.pathsep):
        candidate = os.path.join(folder or os.curdir, program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    return None


def read_prompt(path: str | Path) -> str:
    """The prompt file's text, for ``{prompt}``.

    Raises :class:`UsageError` when it is not UTF-8 text (a binary file) and
    :class:`ProviderError` when it cannot be read.
    """
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"prompt file {str(path)!r} is not UTF-8 text (byte {exc.start} cannot be "
                         "decoded): a command template using {prompt} needs its text") from None
    except OSError as exc:
        raise ProviderError(f"cannot read prompt file {str(path)!r}: {exc.strerror or exc}") from exc


class _Values(dict[str, str]):
    """Placeholder values; ``{prompt}`` reads the prompt file only if used."""

    def __init__(self, prompt_file: str, model: str, output_file: str, prompt: str | None) -> None:
        super().__init__(prompt_file=prompt_file, model=model, output_file=output_file)
        self._prompt = prompt

    def __missing__(self, key: str) -> str:
        if key == "prompt":
            if self._prompt is None:
                self._prompt = read_prompt(self["prompt_file"])
            return self._prompt
        raise ProviderError(f"unknown placeholder {{{key}}}")
