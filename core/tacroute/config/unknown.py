"""Names a config may use, and "did you mean" hints for the ones it misspells.

A misspelt top-level table (``[routng]``, ``[provider.x]``, ``[runer]``) used to
be ignored without a word. It is now a warning, with the closest valid name,
and the config still loads (a newer plugin's table must not break an older
core). Unknown keys inside a known table are errors; they get the same hint.

The known top-level tables are those the loader reads and every registered
config section (:func:`tacroute.config.sections.known_tables`), so a
plugin's own table is known as soon as the plugin registers it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = ["LLM_KEYS", "did_you_mean", "warn_unknown_tables"]

#: Keys of the seed's ``[llm]`` table.
LLM_KEYS = ("provider", "model_default")

Warn = Callable[[Sequence[str | int], str], None]


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean `routing`?)`` for the closest choice, or "" when none is close."""
    import difflib  # only for a name that is not known

    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    if not close and name.lower() != name:
        close = difflib.get_close_matches(name.lower(), list(choices), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def warn_unknown_tables(doc: Mapping[str, Any], warn: Warn, known: Iterable[str]) -> None:
    """Warn about top-level names not in ``known`` (no part of tacroute reads them), and
    unknown ``[llm]`` keys."""
    known = list(known)
    for name in doc:
        if name not in known:
            warn([name], f"unknown top-level table or key, ignored{did_you_mean(name, known)}; "
                 f"known tables: {', '.join(known)}")
    llm = doc.get("llm")
    if isinstance(llm, dict):
        for key in llm:
            if key not in LLM_KEYS:
                warn(["llm", key], f"unknown key in [llm], ignored{did_you_mean(key, LLM_KEYS)}; "
                     f"valid keys are: {', '.join(LLM_KEYS)}")
