"""``tacroute-openrouter``: one prompt to an OpenAI-compatible chat API, Claude stream-json out.

Usage::

    tacroute-openrouter -p PROMPT_FILE --model MODEL [--output-file FILE]
        [--output-format stream-json|json|text] [--base-url URL] [--system TEXT]
        [--max-tokens N] [--temperature T] [--timeout SECONDS]

The API key is read from the environment variable named by
``TACROUTE_OPENROUTER_KEY_ENV`` (default ``OPENROUTER_API_KEY``), surrounding
whitespace stripped; it is never accepted on the command line. A key with a
control character inside is a usage error (exit 2; the message names the
variable, not the value). Everything written has the secrets of the
environment masked (:mod:`tacroute.redact`). Exit codes: see
:mod:`tacroute_openrouter.errors`.

This module uses argparse, not click, and imports httpx only once the prompt is
read: the wrapper's start-up time is part of every OpenRouter run.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from tacroute_openrouter.claude_stream_writer import FORMATS, StreamJsonWriter
from tacroute_openrouter.errors import EXIT_ERROR, EXIT_USAGE
from tacroute_openrouter.options import (
    DEFAULT_BASE_URL,
    DEFAULT_KEY_ENV,
    ENV_KEY_NAME,
    OptionsError,
    options_from_env,
)
from tacroute_openrouter.settings import Settings, settings_for

__all__ = ["build_parser", "main", "run"]


def build_parser(prog: str = "tacroute-openrouter") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Send one prompt to OpenRouter (or any OpenAI-compatible chat API) and print the "
                    "answer in the Claude CLI's stream-json shape. The API key comes from the "
                    f"variable named by ${ENV_KEY_NAME} (default ${DEFAULT_KEY_ENV}).")
    p.add_argument("-p", "--prompt", metavar="FILE", required=True,
                   help="File holding the prompt ('-' for standard input).")
    p.add_argument("--model", required=True, help="Model id, e.g. anthropic/claude-3.5-haiku.")
    p.add_argument("--output-file", metavar="FILE", default=None,
                   help="Also write the output here, line by line as it arrives.")
    p.add_argument("--output-format", choices=FORMATS, default="stream-json")
    p.add_argument("--include-partial-messages", action="store_true",
                   help="stream-json: also emit a stream_event line per text delta.")
    p.add_argument("--base-url", default=None,
                   help=f"API base URL (default: option base_url, $OPENROUTER_BASE_URL, {DEFAULT_BASE_URL}).")
    p.add_argument("--system", default=None, help="System prompt.")
    p.add_argument("--max-tokens", type=int, default=None)
    p.add_argument("--temperature", type=float, default=None)
    p.add_argument("--timeout", type=float, default=None,
                   help="Seconds without any data from the server before giving up (default 120).")
    p.add_argument("--max-retries", type=int, default=None, help="Retries of 408/429/502/503 (default 3).")
    p.add_argument("--retry-budget", type=float, default=None,
                   help="Seconds all retries together may take (default 60).")
    return p


def _settings(args: argparse.Namespace, env: Mapping[str, str]) -> Settings:
    return settings_for(args.model, options_from_env(env), env, env.get(ENV_KEY_NAME) or DEFAULT_KEY_ENV,
                        base_url=args.base_url, system=args.system, max_tokens=args.max_tokens,
                        temperature=args.temperature, timeout=args.timeout,
                        max_retries=args.max_retries, retry_budget=args.retry_budget)


def _read_prompt(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def run(argv: Sequence[str] | None = None, *, env: Mapping[str, str] | None = None,
        stdout: TextIO | None = None, stderr: TextIO | None = None, prog: str = "tacroute-openrouter",
        transport: Any = None) -> int:
    """Run the wrapper; returns the exit code (for tests and ``tacroute openrouter``)."""
    env = os.environ if env is None else env
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    parser = build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        settings = _settings(args, env)
        prompt = _read_prompt(args.prompt)
    except OptionsError as exc:
        print(f"{prog}: {exc}", file=stderr)
        return EXIT_USAGE
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{prog}: cannot read the prompt file {args.prompt!r}: {exc}", file=stderr)
        return EXIT_USAGE
    try:
        out = StreamJsonWriter(stdout, args.output_file or None, args.output_format,
                               partial=args.include_partial_messages)
    except OSError as exc:
        print(f"{prog}: cannot write the output file {args.output_file!r}: {exc}", file=stderr)
        return EXIT_USAGE
    from tacroute.redact import BadKeyError, Redactor, clean_key
    from tacroute_openrouter.chat import run_chat

    try:
        try:
            api_key = clean_key(settings.api_key_env, env.get(settings.api_key_env))
        except BadKeyError as exc:
            print(f"{prog}: {exc}", file=stderr)
            return EXIT_USAGE
        redact = Redactor.from_env(env, [settings.api_key_env])
        code = run_chat(settings, prompt, api_key, out, transport=transport, redact=redact)
    finally:
        out.close()
    return EXIT_ERROR if code is None else code  # None only when a stop callback asked for it


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        code = run(argv)
    except KeyboardInterrupt:
        code = 130
    raise SystemExit(code)
