"""A config when there is one: for commands that also work without any."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tacroute.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from tacroute.config.model import Config

__all__ = ["optional_config"]


def optional_config(path: Path | None) -> Config | None:
    """The config at ``path``, else the discovered one; None when there is none at all.

    An explicit ``path`` must exist; a config that is found but broken is an
    error either way (a :class:`~tacroute.errors.ConfigError`).
    """
    from tacroute.config.discover import find_config
    from tacroute.config.loader import load_config

    try:
        found = find_config(path)
    except ConfigError:
        if path is not None:
            raise
        return None
    return load_config(found)
