"""Building one attempt's command: argv, standard input and environment.

What a command provider (:class:`tacroute.runner.attempt.CommandProvider`)
runs; availability, which routing needs, is :mod:`tacroute.providers.availability`.
No shell is involved anywhere: placeholders are substituted into single
arguments, so a model name full of shell metacharacters reaches the program
unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tacroute.errors import ProviderError, UsageError

if TYPE_CHECKING:
    from tacroute.config.model import ProviderConfig
    from tacroute.providers.availability import ProviderManager

__all__ = ["build_command", "build_env", "build_stdin", "read_prompt"]


def build_command(providers: ProviderManager, name: str, prompt_file: str | Path, model: str,
                  output_file: str | Path | None = None, prompt: str | None = None) -> list[str]:
    """The argv list for one run of provider ``name``, its program resolved to a path.

    ``{prompt}`` reads the prompt file when ``prompt`` is not given.
    """
    pc = providers.get_provider(name)
    if not pc.command_template:
        raise ProviderError(f"provider {name!r} has no command_template")
    values = _values(pc, prompt_file, model, output_file, prompt)
    argv = [item.format_map(values) for item in pc.command_template]
    resolved = providers.resolve_command(argv[0])
    if resolved is not None:
        argv[0] = resolved
    return argv


def build_stdin(providers: ProviderManager, name: str, prompt_file: str | Path, model: str,
                output_file: str | Path | None = None, prompt: str | None = None) -> str | None:
    """The ``stdin`` template substituted (e.g. the prompt file's path), or None."""
    pc = providers.get_provider(name)
    if pc.stdin is None:
        return None
    return pc.stdin.format_map(_values(pc, prompt_file, model, output_file, prompt))


def build_env(providers: ProviderManager, name: str) -> dict[str, str]:
    """The environment for the provider's process.

    The base environment, then what the provider type adds
    (:meth:`ProviderType.command_env`, e.g. its options), then the table's
    ``env``; the API key stripped of surrounding whitespace (a
    :class:`ProviderError` if it cannot be used).
    """
    pc = providers.get_provider(name)
    env = dict(providers.env)
    ptype = providers.registry.providers.get(pc.type)
    if ptype is not None:
        env.update(ptype.command_env(pc))
    env.update(pc.env)
    if pc.api_key_env and pc.api_key_env in env:
        try:
            env[pc.api_key_env] = providers.api_key(name) or ""
        except UsageError as exc:
            raise ProviderError(str(exc)) from None
        alias = getattr(ptype, "program_key_env", None)
        if alias and alias != pc.api_key_env:
            env[alias] = env[pc.api_key_env]
    return env


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


def _values(pc: ProviderConfig, prompt_file: str | Path, model: str, output_file: str | Path | None,
            prompt: str | None) -> _Values:
    return _Values(prompt_file=str(prompt_file), model=model,
                   output_file="" if output_file is None else str(output_file), prompt=prompt)


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
