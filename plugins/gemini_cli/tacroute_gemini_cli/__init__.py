"""tacroute provider plugin for Google's Gemini CLI (``gemini --output-format stream-json``).

The default command reads the prompt on standard input and approves every
tool call (``--yolo``). Each provider table gets its own ``HOME``
(:func:`tacroute.providers.agentcli.provider_home`) whose
``.gemini/settings.json`` selects API-key auth, turns folder trust off (or the
CLI would drop ``--yolo`` in an untrusted folder), turns off update checks and
usage statistics, and caps the CLI's own retries of a request
(``general.maxAttempts``, the ``max_attempts`` option, 1 by default: tacroute
fails over instead of waiting through up to ten back-offs of 5-30 s). So a run
never reads or changes the user's own Gemini login and settings.
``base_url`` becomes ``GOOGLE_GEMINI_BASE_URL``; the CLI reads its key from
``GEMINI_API_KEY`` only, so a table naming another ``api_key_env`` gets the key
copied there for the process.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from tacroute import OutputParserType, ProviderType, RegisterOutputParser, RegisterProvider, hookimpl

if TYPE_CHECKING:
    from tacroute.config.model import ProviderConfig
    from tacroute.types.run import OutputParser

__all__ = ["GeminiCLIProvider", "GeminiStreamJson", "gemini_settings"]

#: The CLI's own attempts per request unless ``max_attempts`` says otherwise (it allows 1-10).
DEFAULT_MAX_ATTEMPTS = 1


class GeminiCLIProvider(ProviderType):
    name = "gemini-cli"
    description = "Google Gemini CLI (stream-json), prompt on stdin, own HOME with API-key auth"
    default_command: ClassVar[tuple[str, ...]] = (
        "gemini", "-m", "{model}", "--output-format", "stream-json", "--yolo",
    )
    default_stdin = "{prompt_file}"
    default_api_key_env = "GEMINI_API_KEY"
    program_key_env = "GEMINI_API_KEY"
    output_parser = "gemini-stream-json"
    #: The CLI reports no cost: tokens are priced with tacroute's pricing table.
    default_cost_source = "estimated"
    options: ClassVar[Mapping[str, type | tuple[type, ...]]] = {"base_url": str, "max_attempts": int}

    def lint(self, config: ProviderConfig) -> list[str]:
        out: list[str] = []
        url = config.options.get("base_url")
        if isinstance(url, str) and not url.startswith(("http://", "https://")):
            out.append(f"providers.{config.name}.base_url: {url!r} is not an http(s) URL")
        attempts = config.options.get("max_attempts")
        if isinstance(attempts, int) and not 1 <= attempts <= 10:
            out.append(f"providers.{config.name}.max_attempts: {attempts} is outside 1-10; "
                       f"the CLI's own limit is used")
        return out

    def command_env(self, config: ProviderConfig) -> Mapping[str, str]:
        """``HOME``: the table's own folder, its ``.gemini/settings.json`` written now."""
        from tacroute.providers.agentcli import provider_home, write_private

        home = provider_home(config.name, "home")
        write_private(home / ".gemini" / "settings.json", gemini_settings(config))
        env = {"HOME": str(home)}
        url = config.options.get("base_url")
        if isinstance(url, str) and url:
            env["GOOGLE_GEMINI_BASE_URL"] = url.rstrip("/")
        return env

    def check(self, config: ProviderConfig, env: Mapping[str, str]) -> dict[str, Any] | None:
        from tacroute.providers.agentcli import version_check

        return version_check(config, env)


def gemini_settings(config: ProviderConfig) -> str:
    """The ``settings.json`` of the table's ``HOME``: API-key auth, no trust prompt, few retries."""
    attempts = config.options.get("max_attempts", DEFAULT_MAX_ATTEMPTS)
    attempts = min(max(attempts, 1), 10) if isinstance(attempts, int) else DEFAULT_MAX_ATTEMPTS
    settings = {
        "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}},
        "general": {"maxAttempts": attempts, "enableAutoUpdate": False,
                    "enableAutoUpdateNotification": False},
        "privacy": {"usageStatisticsEnabled": False},
    }
    return json.dumps(settings, indent=2) + "\n"


class GeminiStreamJson(OutputParserType):
    name = "gemini-stream-json"
    description = "gemini --output-format stream-json events: messages, tools, result, stats"

    def create(self) -> OutputParser:
        from tacroute_gemini_cli.events import GeminiStreamJsonParser

        return GeminiStreamJsonParser()


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    register(GeminiCLIProvider())


@hookimpl
def register_output_parsers(register: RegisterOutputParser) -> None:
    register(GeminiStreamJson())
