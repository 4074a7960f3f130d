"""Providers: which can run now (routing), and how one attempt runs (the runner).

- :mod:`~tacroute.providers.availability`: :class:`ProviderManager`, availability for routing;
- :mod:`~tacroute.providers.command`: a command provider's argv, stdin and environment;
- :mod:`~tacroute.providers.execute`: the seam, :class:`Attempt` and the :class:`Provider` protocol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tacroute.lazy import lazy_exports
from tacroute.providers.availability import ProviderManager, ProviderStatus, executes_in_process

if TYPE_CHECKING:
    from tacroute.providers.execute import Attempt, Provider

# The run's side loads when a run needs it: routing (the config loader) only asks availability.
__getattr__ = lazy_exports(__name__, {"Attempt": "tacroute.providers.execute",
                                      "Provider": "tacroute.providers.execute"})

__all__ = ["Attempt", "Provider", "ProviderManager", "ProviderStatus", "executes_in_process"]
