"""The router ``tacroute route`` and ``run_task`` use, assembled from the config.

Above both :mod:`tacroute.routing.router` and :mod:`tacroute.preferences`:
a config with preferences gets the preference router around the plain one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tacroute.routing.router import ModelRouter

if TYPE_CHECKING:
    from pathlib import Path

    from tacroute.config.model import Config
    from tacroute.preferences.router import PreferenceRouter
    from tacroute.providers import ProviderManager

__all__ = ["router_with_history"]


def router_with_history(config: Config, *, providers: ProviderManager | None = None,
                        registry: Any = None, state: dict[str, Any] | None = None,
                        cwd: Path | None = None) -> ModelRouter | PreferenceRouter:
    """The router ``tacroute route`` and ``run_task`` use: what the history records
    feeds it, the cooldowns and provider limits (as its gate) and, when a rule
    uses ``cheapest``, the recorded success rates and durations (read once).
    ``state``: the run's ``RunContext.state`` (see :func:`tacroute.history.open_gate`).
    A config with ``[projects]`` or ``[users]`` tables gets the
    :class:`~tacroute.preferences.router.PreferenceRouter` around it (``cwd``:
    where a repository's ``.tacroute.toml`` is looked for); other configs a plain ModelRouter."""
    from tacroute.history.routing import open_gate
    from tacroute.preferences import has_preferences

    if has_preferences(config):
        from tacroute.preferences.router import preference_router

        return preference_router(config, providers=providers, registry=registry,
                                 gate=open_gate(config, state, registry), cwd=cwd)
    stats = None
    if any(r.strategy == "cheapest" and r.enabled for r in config.rules):
        from tacroute.routing.stats import history_stats

        stats = history_stats(config, registry)
    return ModelRouter(config, providers=providers, registry=registry,
                       gate=open_gate(config, state, registry), stats=stats)
