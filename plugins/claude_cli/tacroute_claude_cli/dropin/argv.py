"""The Claude CLI's print-mode command line, as ``tacroute-claude`` reads it.

The flags are those of ``claude --help`` (2.1.x) plus the hidden ones the
official SDK passes (``--max-turns``, ``--max-thinking-tokens``, ...), read
the way the CLI's option parser (commander) reads them: ``--flag value`` or
``--flag=value``; a list option (``--allowedTools A B``) takes every following
argument up to the next one starting with ``-``; an optional value
(``--resume [id]``, ``--debug [filter]``) takes the next argument unless it
starts with ``-``. The one positional argument is the prompt (``-p`` is a
flag: ``claude -p "text"`` has ``text`` as its positional).
"""

from __future__ import annotations

from tacroute.tuples import NamedTuple

__all__ = ["ALIASES", "SESSION_FLAGS", "Call", "UsageProblem", "parse"]

#: Options that take exactly one value.
_ONE = frozenset({
    "--agent", "--agents", "--append-system-prompt", "--append-system-prompt-file", "--effort",
    "--fallback-model", "--input-format", "--json-schema", "--max-budget-usd", "--max-thinking-tokens",
    "--max-turns", "--model", "--output-format", "--permission-mode", "--permission-prompt-tool",
    "--session-id", "--setting-sources", "--settings", "--system-prompt", "--system-prompt-file",
    "--thinking",
})
#: Options that take one or more values (commander's ``<values...>``).
_MANY = frozenset({
    "--add-dir", "--allowedTools", "--allowed-tools", "--betas", "--disallowedTools",
    "--disallowed-tools", "--mcp-config", "--plugin-dir", "--tools",
})
#: Options whose value is optional (``[value]``).
_OPTIONAL = frozenset({"--debug", "-d", "--resume", "-r"})
#: Options without a value.
_FLAGS = frozenset({
    "-p", "--print", "--verbose", "--dangerously-skip-permissions", "--allow-dangerously-skip-permissions",
    "--chrome", "--no-chrome", "-c", "--continue", "--disable-slash-commands", "--fork-session", "--ide",
    "--include-partial-messages", "--include-hook-events", "--mcp-debug", "--no-session-persistence",
    "--replay-user-messages", "--strict-mcp-config", "-h", "--help", "-v", "--version",
})
#: What tacroute-claude handles itself; never passed on.
_OWN = frozenset({"-p", "--print", "--verbose", "--model", "--output-format", "-h", "--help", "-v",
                  "--version"})
#: Options whose meaning needs the Claude CLI's own sessions: only claude-cli providers can run them.
SESSION_FLAGS = frozenset({"--resume", "-r", "--continue", "-c", "--session-id", "--fork-session",
                           "--replay-user-messages"})
#: Model aliases the CLI accepts (their case and a ``[1m]``-style suffix do not matter).
ALIASES = ("sonnet", "opus", "haiku", "opusplan", "default", "best")
FORMATS = ("text", "json", "stream-json")


class UsageProblem(Exception):
    """A command line the Claude CLI would refuse too (exit code 2)."""


class Call(NamedTuple):
    """One parsed call."""

    print_mode: bool
    prompt: str | None
    model: str | None
    output_format: str
    verbose: bool
    help: bool
    version: bool
    #: Arguments for a claude-cli worker, verbatim and in order.
    forward: tuple[str, ...]
    #: The option names among ``forward`` (for the note when a provider cannot honour them).
    forward_names: tuple[str, ...]
    #: Options in the call that only a claude-cli provider can keep the meaning of.
    session_bound: tuple[str, ...]


def parse(argv: list[str]) -> Call:
    """Read ``argv`` (without the program name); raises :class:`UsageProblem`."""
    values: dict[str, str] = {}
    seen: set[str] = set()
    forward: list[str] = []
    names: list[str] = []
    positional: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            positional += argv[i:]
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        name, eq, inline = arg.partition("=")
        taken = [arg]
        if name in _FLAGS and not eq:
            pass
        elif name in _ONE:
            if eq:
                values[name] = inline
            elif i < len(argv):
                values[name] = argv[i]
                taken.append(argv[i])
                i += 1
            else:
                raise UsageProblem(f"option '{name} <value>' argument missing")
        elif name in _MANY:
            if not eq:
                start = i
                while i < len(argv) and not argv[i].startswith("-"):
                    i += 1
                if i == start:
                    raise UsageProblem(f"option '{name} <values...>' argument missing")
                taken += argv[start:i]
        elif name in _OPTIONAL:
            if not eq and i < len(argv) and not argv[i].startswith("-"):
                taken.append(argv[i])
                i += 1
        else:
            raise UsageProblem(f"unknown option '{arg}'")
        seen.add(name)
        if name == "--input-format":
            if values[name] not in ("text", "stream-json"):
                raise UsageProblem(f"option '--input-format' argument '{values[name]}' is invalid; "
                                   "allowed choices are text, stream-json")
            if values[name] == "text":
                continue  # the default: nothing to pass on
        if name not in _OWN:
            forward += taken
            names.append(name)
    if len(positional) > 1:
        raise UsageProblem(f"too many arguments: expected one prompt, got {len(positional)} "
                           "(quote the prompt)")
    fmt = values.get("--output-format", "text")
    if fmt not in FORMATS:
        raise UsageProblem(f"option '--output-format <format>' argument '{fmt}' is invalid; allowed "
                           f"choices are {', '.join(FORMATS)}")
    bound = [n for n in names if n in SESSION_FLAGS]
    if values.get("--input-format") == "stream-json":
        bound.append("--input-format")
    return Call(
        print_mode=bool(seen & {"-p", "--print"}), prompt=positional[0] if positional else None,
        model=values.get("--model"), output_format=fmt, verbose="--verbose" in seen,
        help=bool(seen & {"-h", "--help"}), version=bool(seen & {"-v", "--version"}),
        forward=tuple(forward), forward_names=tuple(dict.fromkeys(names)), session_bound=tuple(bound),
    )
