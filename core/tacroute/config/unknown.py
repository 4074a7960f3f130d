"""Names a config may use, and "did you mean" hints for the ones it misspells.

A misspelt top-level table (``[routng]``, ``[provider.x]``, ``[runer]``) used to
be ignored without a word. It is now a warning, with the closest valid name,
and the config still loads (a newer plugin's table must not break an older
core). Unknown keys inside a known table are errors; they get the same hint.

The top-level tables are listed in one place, :data:`KNOWN_TABLES`, including
the ones other layers own (``[runner]``, ``[history]``, ``[pricing]``,
``[estimate]``). Plugins cannot declare a table of their own yet; one that
needs a table must be added here until they can.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = ["KNOWN_TABLES", "LLM_KEYS", "did_you_mean", "warn_unknown_tables"]

#: Every top-level table tacroute reads, and who reads it.
KNOWN_TABLES: Mapping[str, str] = {
    "providers": "provider definitions (tacroute.config.loader)",
    "routing": "rules and defaults (tacroute.config.loader)",
    "llm": "the seed's default provider and model (tacroute.config.loader)",
    "runner": "timeouts and failover (tacroute.runner.settings)",
    "history": "the history database and cooldowns (tacroute.history.settings)",
    "state": "where limits, cooldowns and fleet aggregates live (tacroute.state.settings)",
    "pricing": "model prices (tacroute.config.tables, tacroute.pricing)",
    "estimate": "a typical task's token counts (tacroute.config.tables)",
}

#: Keys of the seed's ``[llm]`` table.
LLM_KEYS = ("provider", "model_default")

Warn = Callable[[Sequence[str | int], str], None]


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean `routing`?)`` for the closest choice, or "" when none is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    if not close and name.lower() != name:
        close = difflib.get_close_matches(name.lower(), list(choices), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def warn_unknown_tables(doc: Mapping[str, Any], warn: Warn) -> None:
    """Warn about top-level names no part of tacroute reads, and unknown ``[llm]`` keys."""
    for name in doc:
        if name not in KNOWN_TABLES:
            warn([name], f"unknown top-level table or key, ignored{did_you_mean(name, KNOWN_TABLES)}; "
                 f"known tables: {', '.join(KNOWN_TABLES)}")
    llm = doc.get("llm")
    if isinstance(llm, dict):
        for key in llm:
            if key not in LLM_KEYS:
                warn(["llm", key], f"unknown key in [llm], ignored{did_you_mean(key, LLM_KEYS)}; "
                     f"valid keys are: {', '.join(LLM_KEYS)}")
