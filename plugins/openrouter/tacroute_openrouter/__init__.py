"""tacroute provider plugin for OpenRouter (and any OpenAI-compatible chat API).

Two parts: the plugin (:mod:`tacroute_openrouter.plugin`: the ``openrouter``
provider type, ``tacroute openrouter`` and ``tacroute pricing refresh``) and
the wrapper program ``tacroute-openrouter`` (:mod:`tacroute_openrouter.wrapper`),
which the provider runs as a subprocess and which prints the Claude CLI's
stream-json. This package root imports nothing, so the wrapper starts fast.
"""

from __future__ import annotations

__all__: list[str] = []
