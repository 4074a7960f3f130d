"""What the wrapper needs to make a request, and how it gets there.

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
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_KEY_NAME",
    "ENV_OPTIONS",
    "OPTION_TYPES",
    "OptionsError",
    "Settings",
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


@dataclass
class Settings:
    """One request's settings, merged from flags, options and environment."""

    model: str
    base_url: str = DEFAULT_BASE_URL
    api_key_env: str = DEFAULT_KEY_ENV
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    timeout: float = 120.0
    http_referer: str | None = None
    x_title: str | None = None
    provider: dict[str, Any] | None = None
    models: list[str] | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    max_retries: int = 3
    retry_budget: float = 60.0

    @property
    def chat_url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    def body(self, prompt: str) -> dict[str, Any]:
        """The JSON body of the streamed chat-completions request."""
        messages: list[dict[str, str]] = []
        if self.system:
            messages.append({"role": "system", "content": self.system})
        messages.append({"role": "user", "content": prompt})
        body: dict[str, Any] = {"model": self.model, "messages": messages, "stream": True,
                                # OpenRouter always sends usage; OpenAI-compatible servers need this.
                                "stream_options": {"include_usage": True}}
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.provider:
            body["provider"] = self.provider
        if self.models:
            body["models"] = self.models
        body.update(self.extra_body)
        return body

    def headers(self, api_key: str | None) -> dict[str, str]:
        """Request headers; ``Authorization`` only when a key is set."""
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if self.http_referer:
            headers["HTTP-Referer"] = self.http_referer
        if self.x_title:
            headers["X-Title"] = self.x_title
            headers["X-OpenRouter-Title"] = self.x_title
        return headers


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
