"""Providers: which can run now (routing), and how one attempt runs (the runner).

- :mod:`~tacroute.providers.availability`: :class:`ProviderManager`, availability for routing;
- :mod:`~tacroute.providers.command`: a command provider's argv, stdin and environment;
- :mod:`~tacroute.providers.execute`: the seam, :class:`Attempt` and the :class:`Provider` protocol.
"""

from __future__ import annotations

from tacroute.providers.availability import ProviderManager, ProviderStatus
from tacroute.providers.execute import Attempt, Provider, executes_in_process

__all__ = ["Attempt", "Provider", "ProviderManager", "ProviderStatus", "executes_in_process"]
