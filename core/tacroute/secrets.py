"""The ``[secrets]`` table: variables read from an env file.

A coordinator that passes its worker a whitelisted environment (no
``OPENROUTER_API_KEY``, no ``TACROUTE_*``) strips the keys other providers
need. ``[secrets] env_file = ".env"`` (relative to the config's folder) names
a dotenv file (parsed by python-dotenv) whose variables are added to the
environment tacroute runs providers in. A variable already set is never
overridden. The values go through the one redactor like any other: a value
whose name looks secret, or that an ``api_key_env`` names, is masked wherever
tacroute writes text (the runner builds its redactor from this environment).

A missing file is not an error (a machine that sets the keys itself needs
none); a file that cannot be read is a config error when it is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacroute.errors import ConfigError

if TYPE_CHECKING:
    from tacroute.config.checker import Checker
    from tacroute.config.model import Config
    from tacroute.config.schema import SectionContext

__all__ = ["check_secrets", "env_file_path", "with_env_file"]

def check_secrets(table: Any, chk: Checker, ctx: SectionContext) -> Mapping[str, str]:
    """Validate ``[secrets]``: the :class:`~tacroute.config.schema.ConfigSection` check."""
    good = chk.table(table, ["secrets"], {"env_file": (str,)}, "[secrets]")
    name = good.get("env_file")
    if name is not None and (not name.strip() or "\0" in name):
        chk.add(["secrets", "env_file"],
                'must be a file name, e.g. ".env" (relative to the config\'s folder)')
        good.pop("env_file")
    return good


def env_file_path(config: Config) -> Path | None:
    """The env file ``[secrets] env_file`` names, resolved against the config's folder."""
    name = config.section("secrets").get("env_file")
    if not isinstance(name, str):
        return None
    return config.base_dir / Path(name).expanduser()


def with_env_file(config: Config, env: Mapping[str, str]) -> Mapping[str, str]:
    """``env`` plus the env file's variables that ``env`` does not set (``env`` itself without one)."""
    path = env_file_path(config)
    if path is None or not path.exists():
        return env
    from dotenv import dotenv_values

    try:
        with open(path, encoding="utf-8") as fh:
            values = dotenv_values(stream=fh, interpolate=False)
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"secrets.env_file: cannot read {str(path)!r}: {why}", config.path) from None
    added = {k: v for k, v in values.items() if v is not None and k not in env}
    return {**env, **added} if added else env
