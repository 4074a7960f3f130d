"""tacroute provider plugin for OpenRouter's chat completions API."""

from __future__ import annotations

from typing import Any, ClassVar

from tacroute import ProviderType, hookimpl


class OpenRouterProvider(ProviderType):
    name = "openrouter"
    description = "OpenRouter (or any OpenAI-compatible API) through the tacroute-openrouter wrapper"
    default_command: ClassVar[tuple[str, ...]] = (
        "tacroute-openrouter", "-p", "{prompt_file}", "--model", "{model}",
        "--output-file", "{output_file}", "--output-format", "stream-json",
    )
    default_api_key_env = "OPENROUTER_API_KEY"


@hookimpl
def register_providers(register: Any) -> None:
    register(OpenRouterProvider())
