"""Random rule tables on the seed config's providers, for property tests of edits and what-ifs."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["MODELS", "PRIORITIES", "SEED_HEAD", "rules_config"]

_EXAMPLE = (Path(__file__).resolve().parent.parent / "examples" / "config.toml").read_text(encoding="utf-8")
#: The seed config without its rules (providers, default model, ...).
SEED_HEAD = _EXAMPLE.split("[[routing.rules]]")[0].rsplit("\n# ", 1)[0] + "\n"
MODELS = ["claude-haiku-4", "claude-opus-4", "claude-sonnet-4-5"]
PRIORITIES = ["low", "normal", "high", "critical"]


def rules_config(rnd: random.Random, rules: int, conditions: Callable[[random.Random], dict[str, Any]]) -> str:
    """:data:`SEED_HEAD` and ``rules`` rules ``r0``, ``r1``... with random priorities and models,
    ``conditions(rnd)`` each; a fifth of them disabled, a fifth on openrouter."""
    from tacroute.config.textedit import toml_value

    out = [SEED_HEAD]
    for i in range(rules):
        out.append(f'[[routing.rules]]\nname = "r{i}"\npriority = {rnd.randrange(10)}\n'
                   f"conditions = {toml_value(conditions(rnd))}\n"
                   f'model = "{rnd.choice(MODELS)}"\n')
        if rnd.random() < 0.2:
            out.append("enabled = false\n")
        if rnd.random() < 0.2:
            out.append('provider = "openrouter"\n')
        out.append("\n")
    return "".join(out)
