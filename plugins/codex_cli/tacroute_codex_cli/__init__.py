"""tacroute provider plugin for OpenAI's Codex CLI (``codex exec --json``).

The default command reads the prompt on standard input (``-``), runs without
approvals or sandbox (``--dangerously-bypass-approvals-and-sandbox``: tacroute
runs it where the task's folder is meant to be changed) and outside a git
repository too. Each provider table gets its own ``CODEX_HOME``
(:func:`tacroute.providers.agentcli.provider_home`) holding a ``config.toml``
that names the endpoint (``base_url``) and the key's variable
(``api_key_env``), so a run never reads or changes the user's own Codex
login and settings. The ``codex-json`` parser (:mod:`tacroute_codex_cli.events`)
reads the events while the CLI runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from tacroute import OutputParserType, ProviderType, RegisterOutputParser, RegisterProvider, hookimpl

if TYPE_CHECKING:
    from tacroute.config.model import ProviderConfig
    from tacroute.types.run import OutputParser

__all__ = ["CodexCLIProvider", "CodexJson", "codex_config"]

#: Where the CLI sends requests when the table has no ``base_url``.
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class CodexCLIProvider(ProviderType):
    name = "codex-cli"
    description = "OpenAI Codex CLI (codex exec --json), prompt on stdin, own CODEX_HOME"
    default_command: ClassVar[tuple[str, ...]] = (
        "codex", "exec", "--json", "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox", "-m", "{model}", "-",
    )
    default_stdin = "{prompt_file}"
    default_api_key_env = "OPENAI_API_KEY"
    output_parser = "codex-json"
    #: The CLI reports no cost: tokens are priced with tacroute's pricing table.
    default_cost_source = "estimated"
    options: ClassVar[Mapping[str, type | tuple[type, ...]]] = {"base_url": str}

    def lint(self, config: ProviderConfig) -> list[str]:
        url = config.options.get("base_url")
        if isinstance(url, str) and not url.startswith(("http://", "https://")):
            return [f"providers.{config.name}.base_url: {url!r} is not an http(s) URL"]
        return []

    def command_env(self, config: ProviderConfig) -> Mapping[str, str]:
        """``CODEX_HOME``: the table's own folder, its ``config.toml`` written now."""
        from tacroute.providers.agentcli import provider_home, write_private

        home = provider_home(config.name, "codex-home")
        write_private(home / "config.toml", codex_config(config))
        return {"CODEX_HOME": str(home)}

    def check(self, config: ProviderConfig, env: Mapping[str, str]) -> dict[str, Any] | None:
        from tacroute.providers.agentcli import version_check

        return version_check(config, env)


def codex_config(config: ProviderConfig) -> str:
    """The ``config.toml`` of the table's ``CODEX_HOME``: one model provider, no secrets."""
    url = config.options.get("base_url") or DEFAULT_BASE_URL
    key_env = config.api_key_env or CodexCLIProvider.default_api_key_env
    lines = [
        "# Written by tacroute for provider " + json.dumps(config.name) + "; rewritten on each run.",
        'model_provider = "tacroute"',
        "",
        "[model_providers.tacroute]",
        'name = "tacroute"',
        f"base_url = {json.dumps(url)}",
        f"env_key = {json.dumps(key_env)}",
        'wire_api = "responses"',
        "",
    ]
    return "\n".join(lines)


class CodexJson(OutputParserType):
    name = "codex-json"
    description = "codex exec --json events: agent messages, turn usage, errors and retries"

    def create(self) -> OutputParser:
        from tacroute_codex_cli.events import CodexJsonParser

        return CodexJsonParser()


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    register(CodexCLIProvider())


@hookimpl
def register_output_parsers(register: RegisterOutputParser) -> None:
    register(CodexJson())
