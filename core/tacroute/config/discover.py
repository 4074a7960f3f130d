"""Which config file to use.

Order: ``--config``, then ``TACROUTE_CONFIG``, then ``./adws/config.toml``
(the coordinator's usual place), then ``./tacroute.toml``, then
``tacroute/config.toml`` in the user config dir.
"""

from __future__ import annotations

import os
from pathlib import Path

from tacroute.errors import ConfigError

__all__ = ["candidate_paths", "find_config", "user_config_path"]


def user_config_path() -> Path:
    """``$XDG_CONFIG_HOME/tacroute/config.toml`` (``~/.config`` by default)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "tacroute" / "config.toml"


def candidate_paths(start: Path | None = None) -> list[tuple[str, Path]]:
    """The implicit places, in order, with how each was found."""
    cwd = start or Path.cwd()
    out: list[tuple[str, Path]] = []
    env = os.environ.get("TACROUTE_CONFIG")
    if env:
        out.append(("TACROUTE_CONFIG", Path(env)))
    out.append(("./adws/config.toml", cwd / "adws" / "config.toml"))
    out.append(("./tacroute.toml", cwd / "tacroute.toml"))
    out.append(("user config dir", user_config_path()))
    return out


def find_config(explicit: str | Path | None = None, start: Path | None = None) -> Path:
    """The config file to use; a ConfigError when there is none."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}", path)
        return path
    env = os.environ.get("TACROUTE_CONFIG")
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"TACROUTE_CONFIG names a file that does not exist: {path}", path)
        return path
    for _, path in candidate_paths(start)[0 if not env else 1:]:
        if path.is_file():
            return path
    tried = ", ".join(str(p) for _, p in candidate_paths(start))
    raise ConfigError(f"no config file found (tried {tried}); pass --config PATH or run "
                      "'tacroute config init'")


def describe_source(explicit: str | Path | None = None, start: Path | None = None) -> str:
    """How :func:`find_config` chose its file, for ``tacroute config path``."""
    if explicit is not None:
        return "--config"
    if os.environ.get("TACROUTE_CONFIG"):
        return "TACROUTE_CONFIG"
    for how, path in candidate_paths(start):
        if path.is_file():
            return how
    return "none"


__all__.append("describe_source")
