"""The ``openrouter`` provider type and the plugin's hooks.

Registered through the ``tacroute`` entry point ``openrouter``. The type runs
in-process (:meth:`OpenRouterProvider.execute`, see
:mod:`tacroute_openrouter.inprocess`): no program is started per attempt. A
table that sets ``command_template`` (the seed's ``tools/openrouter-cli.py``,
or ``tacroute-openrouter`` itself) runs that command instead, and its output
is read with ``openrouter-stream-json``: the Claude plugin's
``claude-stream-json`` parser plus the wrapper's exit codes; the table's
options then reach the wrapper through :meth:`OpenRouterProvider.command_env`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from tacroute import OutputParserType, ProviderType, RegisterOutputParser, RegisterProvider, hookimpl
from tacroute_openrouter.options import (
    DEFAULT_KEY_ENV,
    ENV_KEY_NAME,
    ENV_OPTIONS,
    OPTION_TYPES,
    base_url_for,
    check_options,
)

if TYPE_CHECKING:
    import click

    from tacroute.config.model import ProviderConfig
    from tacroute.providers import Attempt
    from tacroute.types import Outcome, OutputParser

__all__ = ["OpenRouterProvider", "OpenRouterStreamJson", "register_commands", "register_output_parsers",
           "register_providers"]


class OpenRouterProvider(ProviderType):
    """OpenRouter, or any OpenAI-compatible chat API (``base_url``)."""

    name = "openrouter"
    description = "OpenRouter (or any OpenAI-compatible API), streamed in-process"
    default_api_key_env = DEFAULT_KEY_ENV
    #: ``claude-stream-json`` (from tacroute-claude-cli) plus the wrapper's exit codes.
    output_parser = "openrouter-stream-json"
    options: ClassVar[Mapping[str, type | tuple[type, ...]]] = OPTION_TYPES

    def lint(self, config: ProviderConfig) -> list[str]:
        return [f"providers.{config.name}: {p}" for p in check_options(config.options)]

    def availability(self, config: ProviderConfig) -> tuple[bool, str | None]:
        problems = check_options(config.options)
        return (False, problems[0]) if problems else (True, None)

    def execute(self, attempt: Attempt) -> Outcome:
        from tacroute_openrouter.inprocess import execute

        return execute(attempt)

    def command_env(self, config: ProviderConfig) -> Mapping[str, str]:
        env = {ENV_KEY_NAME: config.api_key_env or DEFAULT_KEY_ENV}
        if config.options:
            env[ENV_OPTIONS] = json.dumps(dict(config.options), separators=(",", ":"))
        return env

    def check(self, config: ProviderConfig, env: Mapping[str, str]) -> dict[str, Any] | None:
        from tacroute.redact import BadKeyError, clean_key
        from tacroute_openrouter.api import ApiError, key_info

        key_env = config.api_key_env or DEFAULT_KEY_ENV
        try:
            key = clean_key(key_env, config.env.get(key_env, env.get(key_env)))
        except BadKeyError as exc:
            return {"ok": False, "message": str(exc)}
        if not key:
            return {"ok": False, "message": f"{key_env} not set"}
        try:
            info = key_info(base_url_for(config, env), key)
        except ApiError as exc:
            return {"ok": False, "message": f"key rejected or API unreachable: {exc}"}
        remaining = info.get("limit_remaining")
        credits = "unlimited credits" if remaining is None else f"{remaining} credits left"
        if info.get("limit") is not None:
            credits += f" of {info['limit']}"
        rate = info.get("rate_limit")
        rate_text = (f"; rate limit {rate.get('requests')} requests / {rate.get('interval')}"
                     if isinstance(rate, dict) else "")
        free = "; free tier" if info.get("is_free_tier") else ""
        return {"ok": True, "message": f"key valid; {credits}; used {info.get('usage', 0)}{rate_text}{free}",
                **info}


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    register(OpenRouterProvider())


@hookimpl
def register_output_parsers(register: RegisterOutputParser) -> None:
    register(OpenRouterStreamJson())


class OpenRouterStreamJson(OutputParserType):
    name = "openrouter-stream-json"
    description = "the tacroute-openrouter wrapper's stream-json output and exit codes"

    def create(self) -> OutputParser:
        """A new parser; its module (and the Claude parser it extends) loads only
        when a task runs, so routing does not pay for it."""
        from tacroute_openrouter.parser import OpenRouterStreamJsonParser

        return OpenRouterStreamJsonParser()


@hookimpl
def register_commands(cli: click.Group) -> None:
    from tacroute.cli._groups import add_subcommand
    from tacroute_openrouter.commands import openrouter, refresh

    cli.add_command(openrouter)
    add_subcommand(cli, "pricing", refresh)
