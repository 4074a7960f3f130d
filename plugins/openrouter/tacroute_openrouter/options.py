"""Provider options for the OpenRouter wrapper (kept free of heavy imports:
the plugin reads them on the routing path).

What the wrapper needs to make a request, and how it gets there.

The provider type turns its config table's options into two environment
variables for the wrapper process (never argv, so nothing leaks into process
listings, and never the key itself):

``TACROUTE_OPENROUTER_OPTIONS``
    a JSON object of the table's options (``base_url``, ``http_referer``,
    ``x_title``, ``provider``, ``models``, ``extra_body``, ...);
``TACROUTE_OPENROUTER_KEY_ENV``
    the *name* of the variable that holds the API key (the table's
    ``api_key_env``; default ``OPENROUTER_API_KEY``).

Command-line flags win over options, options over ``OPENROUTER_BASE_URL``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tacroute.config.model import ProviderConfig

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_KEY_NAME",
    "ENV_OPTIONS",
    "OPTION_TYPES",
    "OptionsError",
    "base_url_for",
    "check_options",
    "options_from_env",
]

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
ENV_OPTIONS = "TACROUTE_OPENROUTER_OPTIONS"
ENV_KEY_NAME = "TACROUTE_OPENROUTER_KEY_ENV"
DEFAULT_KEY_ENV = "OPENROUTER_API_KEY"

#: The ``[providers.X]`` keys of type ``openrouter`` beyond the core's, with
#: their TOML types (the core checks them before the plugin sees them).
OPTION_TYPES: Mapping[str, type | tuple[type, ...]] = {
    "base_url": str,
    "http_referer": str,
    "x_title": str,
    "provider": dict,
    "models": list,
    "extra_body": dict,
    "system": str,
    "max_tokens": int,
    "temperature": (int, float),
    "request_timeout": (int, float),
    "max_retries": int,
    "retry_budget": (int, float),
}

#: OpenRouter's provider-preference keys (its schema rejects any other).
PROVIDER_KEYS = frozenset({
    "allow_fallbacks", "data_collection", "enforce_distillable_text", "ignore", "max_price", "only",
    "order", "preferred_max_latency", "preferred_min_throughput", "quantizations",
    "require_parameters", "sort", "zdr",
})


class OptionsError(ValueError):
    """The options handed to the wrapper are not usable (says which and why)."""


def options_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The provider's options from ``TACROUTE_OPENROUTER_OPTIONS`` (empty when unset)."""
    raw = env.get(ENV_OPTIONS)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise OptionsError(f"{ENV_OPTIONS} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OptionsError(f"{ENV_OPTIONS} must be a JSON object")
    problems = check_options(data)
    if problems:
        raise OptionsError("; ".join(problems))
    return data


def check_options(options: Mapping[str, Any]) -> list[str]:
    """Problems with option values that TOML types alone do not catch."""
    problems: list[str] = []
    for key, value in options.items():
        want = OPTION_TYPES.get(key)
        if want is None:
            problems.append(f"unknown option {key!r}; valid: {', '.join(sorted(OPTION_TYPES))}")
        elif not isinstance(value, want) or (isinstance(value, bool) and want is not bool):
            problems.append(f"option {key!r} has the wrong type ({type(value).__name__})")
    models = options.get("models")
    if isinstance(models, list) and not all(isinstance(m, str) and m for m in models):
        problems.append("option 'models' must be a list of model ids (strings)")
    provider = options.get("provider")
    if isinstance(provider, dict):
        unknown = sorted(set(provider) - PROVIDER_KEYS)
        if unknown:
            problems.append(f"provider preferences: unknown key(s) {', '.join(unknown)}; OpenRouter "
                            f"accepts {', '.join(sorted(PROVIDER_KEYS))}")
    for key in ("request_timeout", "retry_budget"):
        value = options.get(key)
        if isinstance(value, int | float) and value <= 0:
            problems.append(f"option {key!r} must be a positive number of seconds")
    retries = options.get("max_retries")
    if isinstance(retries, int) and retries < 0:
        problems.append("option 'max_retries' must be 0 or more")
    return problems


def base_url_for(config: ProviderConfig | None, env: Mapping[str, str]) -> str:
    """The API base URL: the table's ``base_url``, ``$OPENROUTER_BASE_URL``, or OpenRouter's."""
    option = config.options.get("base_url") if config is not None else None
    if isinstance(option, str) and option:
        return option
    if config is not None and config.env.get("OPENROUTER_BASE_URL"):
        return config.env["OPENROUTER_BASE_URL"]
    return env.get("OPENROUTER_BASE_URL") or DEFAULT_BASE_URL
