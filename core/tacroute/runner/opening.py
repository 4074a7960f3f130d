"""What a run (or a preview of its decision) starts from: the loaded config, the
plugin registry, the base environment, the provider manager and the router.

One place for :func:`tacroute.runner.run.run_task` and :func:`tacroute.open_router`,
so a previewed decision comes from the very router the run would have used.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tacroute.config.model import Config
    from tacroute.preferences.router import PreferenceRouter
    from tacroute.providers import ProviderManager
    from tacroute.routing.router import ModelRouter

__all__ = ["loaded", "router_parts"]

_REGISTRY_LOCK = threading.Lock()


def loaded(config: Config | str | Path | None, registry: Any) -> tuple[Config, Any]:
    """The loaded config and the plugin registry (the default one when None)."""
    from tacroute.config.model import Config

    if registry is None:
        from tacroute.plugins import get_registry

        with _REGISTRY_LOCK:  # the first, lazy load must happen once when threads race
            registry = get_registry()
    if not isinstance(config, Config):
        from tacroute.config.loader import load_config

        config = load_config(config, registry=registry)
    return config, registry


def router_parts(config: Config, registry: Any, env: Mapping[str, str] | None, cwd: str | Path | None,
                 state: dict[str, Any]) -> tuple[Mapping[str, str], ProviderManager,
                                                 ModelRouter | PreferenceRouter]:
    """The base environment, the provider manager and the router of one run (or preview)."""
    from tacroute.providers import ProviderManager
    from tacroute.routing import router_with_history
    from tacroute.secrets import with_env_file

    base_env = with_env_file(config, os.environ if env is None else env)
    providers = ProviderManager(config, registry, env=base_env)
    return base_env, providers, router_with_history(config, providers=providers, registry=registry,
                                                    state=state, cwd=Path(cwd) if cwd is not None else None)
