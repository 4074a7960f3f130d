"""tacroute provider plugin for the Claude Code CLI.

The CLI treats ``-p`` as a flag (print mode) and reads the prompt from its
positional argument or standard input, so the default template sends the
prompt file on standard input. The seed's template (``-p {prompt_file}``)
still loads; ``tacroute config validate`` warns that it sends the file's path
as the prompt. The ``claude-stream-json`` output parser (see
:mod:`tacroute_claude_cli.stream_json`) reads its stdout while it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tacroute import OutputParserType, ProviderType, RegisterOutputParser, RegisterProvider, hookimpl

if TYPE_CHECKING:
    from tacroute.config.model import ProviderConfig
    from tacroute.types import OutputParser


class ClaudeCLIProvider(ProviderType):
    name = "claude-cli"
    description = "Claude Code CLI in print mode with stream-json output"
    default_command: ClassVar[tuple[str, ...]] = (
        "claude", "-p", "--model", "{model}", "--output-format", "stream-json", "--verbose",
    )
    default_stdin = "{prompt_file}"
    output_parser = "claude-stream-json"

    def lint(self, config: ProviderConfig) -> list[str]:
        warnings: list[str] = []
        argv = list(config.command_template)
        for i, item in enumerate(argv[:-1]):
            if item in ("-p", "--print") and "{prompt_file}" in argv[i + 1]:
                warnings.append(
                    f"providers.{config.name}.command_template: '{item}' is a flag and the next "
                    f"argument ({argv[i + 1]!r}) becomes the prompt text, so the CLI would receive "
                    "the file's path, not its content; drop it from the template and add "
                    'stdin = "{prompt_file}" (or pass "{prompt}")')
        if ("--dangerously-skip-permissions" in argv and _is_root()
                and config.env.get("IS_SANDBOX") is None):
            warnings.append(
                f"providers.{config.name}.command_template: running as root, the CLI refuses "
                "--dangerously-skip-permissions (the run fails with error class 'permission') "
                'unless its environment has IS_SANDBOX=1: add env = { IS_SANDBOX = "1" } to '
                "the provider (only inside a sandbox)")
        return warnings


    def cost_source(self, config: ProviderConfig) -> str:
        """``estimated`` when ``ANTHROPIC_BASE_URL`` leads elsewhere than Anthropic (OpenRouter, say).

        The CLI's ``total_cost_usd`` is Anthropic's price list applied to the
        tokens, wrong for another vendor's endpoint. A loopback address (a local
        proxy or test double) counts as Anthropic's; ``cost_source`` decides otherwise.
        """
        if config.cost_source:
            return config.cost_source
        url = config.env.get("ANTHROPIC_BASE_URL")
        return "estimated" if url and not _anthropic_host(url) else "reported"


def _anthropic_host(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return (host == "anthropic.com" or host.endswith(".anthropic.com")
            or host in ("localhost", "127.0.0.1", "::1"))


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    register(ClaudeCLIProvider())


@hookimpl
def register_output_parsers(register: RegisterOutputParser) -> None:
    register(ClaudeStreamJson())


class ClaudeStreamJson(OutputParserType):
    name = "claude-stream-json"
    description = "the CLI's --output-format stream-json events: result, usage, cost, errors"

    def create(self) -> OutputParser:
        """A new parser; its module loads only when a task runs, so routing does not pay for it."""
        from tacroute_claude_cli.stream_json import ClaudeStreamJsonParser

        return ClaudeStreamJsonParser()
