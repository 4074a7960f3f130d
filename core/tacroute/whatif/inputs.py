"""What ``simulate`` and ``replay`` both start from.

A router that assumes every provider the config enables is available (the
question is what the rules would do, not what this machine can run now),
the baseline every task is compared with, and a price for every model.
"""

from __future__ import annotations

import random

from tacroute.config.model import Config
from tacroute.errors import UsageError
from tacroute.preferences import has_preferences, preferences
from tacroute.pricing import PricingTable
from tacroute.providers import ProviderManager
from tacroute.routing import ModelRouter
from tacroute.types import Decision
from tacroute.whatif.tally import Target, missing_prices

__all__ = ["AssumeAvailable", "TaskFileError", "config_models", "parse_baseline", "require_prices",
           "target_of", "what_if_router"]


class AssumeAvailable(ProviderManager):
    """Every provider the config enables counts as available (simulation, replay)."""

    def is_available(self, name: str) -> tuple[bool, str | None]:
        pc = self.config.providers.get(name)
        if pc is None:
            return False, f"provider {name!r} is not configured"
        return (True, None) if pc.enabled else (False, "disabled in config (enabled = false)")


def what_if_router(config: Config, seed: int | None = None) -> ModelRouter:
    """A router for what-if questions: no cooldowns or limits, all enabled providers available."""
    return ModelRouter(config, AssumeAvailable(config), rng=random.Random(seed))


def target_of(d: Decision) -> Target:
    return (d.provider, d.model, d.rule)


def parse_baseline(text: str | None, config: Config) -> tuple[str, str]:
    """``PROVIDER/MODEL`` (the model may hold more slashes); default: the config's default."""
    if text is None:
        return config.default_provider, config.default_model
    provider, sep, model = text.partition("/")
    if not sep or not model or provider not in config.providers:
        raise UsageError(f"--baseline must be PROVIDER/MODEL with a configured provider "
                         f"({', '.join(config.providers)}), e.g. {config.default_provider}/claude-opus-4; "
                         f"got {text!r}")
    return provider, model


def config_models(config: Config) -> list[str]:
    """Every model the config can route to (rules' targets, then the default; then the
    ``[projects]`` / ``[users]`` entries' rules, defaults and budget downgrades)."""
    rules = list(config.rules)
    extra: list[str] = []
    if has_preferences(config):
        for e in (*(prefs := preferences(config)).projects, *prefs.users):
            rules.extend(e.rules)
            if e.default_model:
                extra.append(e.default_model)
            if e.budget is not None and e.budget.to is not None:
                extra.append(e.budget.to[1])
    models: list[str] = []
    for r in rules:
        if r.targets:
            models.extend(t.model for t in r.targets)
        else:
            models.append(r.model)
    models.append(config.default_model)
    return models + extra


def require_prices(pricing: PricingTable, models: list[str], config: Config) -> None:
    missing = missing_prices(pricing, models)
    if missing:
        raise UsageError(f"no price known for {', '.join(repr(m) for m in missing)} (used by "
                         f"{config.path or 'the config'}): add [pricing.\"MODEL\"] tables with input "
                         "and output in USD per million tokens")


class TaskFileError(UsageError):
    """A line of a tasks file that cannot be used; the message names the file and line."""

    def __init__(self, name: str, line: int, detail: str) -> None:
        self.name, self.line, self.detail = name, line, detail
        super().__init__(f"{name}:{line}: {detail}")
