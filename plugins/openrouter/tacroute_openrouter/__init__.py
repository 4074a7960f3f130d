"""tacroute provider plugin for OpenRouter (and any OpenAI-compatible chat API).

The plugin (:mod:`tacroute_openrouter.plugin`: the ``openrouter`` provider
type, ``tacroute openrouter`` and ``tacroute pricing refresh``) runs each
attempt in-process (:mod:`tacroute_openrouter.inprocess`). The wrapper program
``tacroute-openrouter`` (:mod:`tacroute_openrouter.wrapper`) is a thin CLI over
the same request code (:mod:`tacroute_openrouter.chat`) printing the Claude
CLI's stream-json, for tables that name it in ``command_template``. This
package root imports nothing, so the wrapper starts fast.
"""

from __future__ import annotations

__all__: list[str] = []
