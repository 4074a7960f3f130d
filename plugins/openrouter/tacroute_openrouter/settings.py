"""One wrapper request's settings, merged from flags, options and environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tacroute_openrouter.options import (
    DEFAULT_BASE_URL,
    DEFAULT_KEY_ENV,
    OptionsError,
)

__all__ = ["Settings", "settings_for"]


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


def settings_for(model: str, options: Mapping[str, Any], env: Mapping[str, str], api_key_env: str,
                 **flags: Any) -> Settings:
    """One request's settings: ``flags`` (not None) win over ``options``, options over ``env``.

    The one place both paths merge them: the in-process provider (options from
    the config table) and the wrapper (options from its environment, flags
    from its command line). Raises :class:`OptionsError` for unusable values.
    """
    def pick(key: str, option: str, default: Any) -> Any:
        flag = flags.get(key)
        return flag if flag is not None else options.get(option, default)

    base_url = (flags.get("base_url") or options.get("base_url") or env.get("OPENROUTER_BASE_URL")
                or DEFAULT_BASE_URL)
    settings = Settings(
        model=model, base_url=base_url, api_key_env=api_key_env,
        system=pick("system", "system", None), max_tokens=pick("max_tokens", "max_tokens", None),
        temperature=pick("temperature", "temperature", None),
        timeout=float(pick("timeout", "request_timeout", 120.0)),
        http_referer=options.get("http_referer"), x_title=options.get("x_title"),
        provider=options.get("provider"), models=options.get("models"),
        extra_body=options.get("extra_body", {}),
        max_retries=int(pick("max_retries", "max_retries", 3)),
        retry_budget=float(pick("retry_budget", "retry_budget", 60.0)),
    )
    if settings.timeout <= 0 or settings.retry_budget < 0 or settings.max_retries < 0:
        raise OptionsError("--timeout must be positive; --retry-budget and --max-retries 0 or more")
    return settings
