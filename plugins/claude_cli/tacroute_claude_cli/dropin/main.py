"""The ``tacroute-claude`` program (see the package's description and the README).

Exit codes as the Claude CLI's: 0 success, 1 failure (a one-line reason on
stderr), 2 usage or config errors; 128 + N when signal N stopped the run.
Imports stay lazy: a coordinator pays this program's start-up on every call.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from tacroute.config.model import Config
    from tacroute.types.run import RunResult
    from tacroute_claude_cli.dropin.argv import Call

__all__ = ["NESTED_MARKER", "main"]

PROG = "tacroute-claude"
#: Set in the worker's environment: a tacroute-claude started below one refuses to run.
NESTED_MARKER = "TACROUTE_CLAUDE_NESTED"
CLAUDE_TYPE = "claude-cli"

_HELP = f"""Usage: {PROG} -p [options] [prompt]

A drop-in for the Claude CLI in print mode: the task is routed by tacroute
(rules, failover, history) and the output is what `claude -p` prints.

  -p, --print                 print mode (required); the prompt is the argument or stdin
  --model <model>             the requested model (task attribute requested_model)
  --output-format <format>    text (default), json or stream-json (needs --verbose)
  --verbose                   needed for stream-json
  -v, --version               tacroute-claude's and the Claude CLI's versions
  Every other `claude -p` option is passed to claude-cli providers as given.

Task attributes: $TACROUTE_TASK (a JSON object), else the prompt's slash command
(command), an embedded GitHub issue (labels, issue) and --model (requested_model).
Config: as for tacroute (--config is not read here: $TACROUTE_CONFIG, ./adws/config.toml, ...).
"""


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point of the console script (run as one, the process ends without module teardown)."""
    if argv is not None:
        _main(argv)
    from tacroute.fastexit import fast_exit, note_writes

    sys.addaudithook(note_writes)  # a file a plugin left open is flushed at the fast exit
    try:
        _main(sys.argv[1:])
    except SystemExit as exc:
        fast_exit(exc)
        raise


def _main(args: list[str]) -> NoReturn:
    from tacroute_claude_cli.dropin.argv import UsageProblem, parse

    try:
        call = parse(args)
    except UsageProblem as exc:
        _fail(2, f"error: {exc}")
    if call.help:
        sys.stdout.write(_HELP)
        sys.exit(0)
    if call.version:
        sys.exit(_version())
    if os.environ.get(NESTED_MARKER):
        _fail(2, f"error: refusing to run inside itself: this call comes from a worker that "
                 f"{PROG} started (${NESTED_MARKER} is set); a provider's command must be the real "
                 "Claude CLI, not tacroute-claude")
    if not call.print_mode:
        _fail(2, "error: only print mode is supported: add -p (--print)")
    if call.output_format == "stream-json" and not call.verbose:
        _fail(2, "Error: When using --print, --output-format=stream-json requires --verbose")
    try:
        sys.exit(_run(call))
    except UsageProblem as exc:
        _fail(2, f"error: {exc}")


def _fail(code: int, message: str) -> NoReturn:
    print(f"{PROG}: {message}", file=sys.stderr)
    sys.exit(code)


def _version() -> int:
    from importlib.metadata import PackageNotFoundError, version

    def of(dist: str) -> str:
        try:
            return version(dist)
        except PackageNotFoundError:
            return "unknown"

    print(f"{of('tacroute-claude-cli')} ({PROG}; tacroute {of('tacroute')})")
    claude = _real_claude()
    if claude is not None:
        import subprocess

        try:
            out = subprocess.run([claude, "--version"], capture_output=True, text=True, timeout=30,
                                 stdin=subprocess.DEVNULL)
            line = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else ""
        except (OSError, subprocess.SubprocessError):
            line = ""
        if line:
            print(f"{line} (claude-cli provider: {claude})")
    return 0


def _real_claude() -> str | None:
    """The command of the config's first claude-cli provider, when a config is found."""
    try:
        from tacroute.config.loader import load_config
        from tacroute.errors import TacrouteError
        from tacroute.providers import ProviderManager
    except ImportError:
        return None
    try:
        config = load_config()
        providers = ProviderManager(config)
        for pc in config.providers.values():
            if pc.type == CLAUDE_TYPE and pc.enabled and pc.command_template:
                found = providers.resolve_command(pc.command_template[0])
                if found is not None and not _is_self(found):
                    return found
    except (TacrouteError, OSError):
        return None
    return None


def _is_self(path: str) -> bool:
    """Whether ``path`` is this program (directly, or through a symlink)."""
    real = os.path.realpath(path)
    if os.path.basename(real) == PROG:
        return True
    me = sys.argv[0]
    return bool(me) and os.path.exists(me) and real == os.path.realpath(me)


def _run(call: Call) -> int:
    from tacroute.errors import ConfigError, NoAvailableProviderError, TacrouteError, UsageError
    from tacroute.runner.claude_stream import ClaudeStream, error_object, failure_text
    from tacroute_claude_cli.dropin.attrs import task_for_call

    prompt = call.prompt if call.prompt is not None else _stdin()
    if not prompt.strip():
        raise _usage("Input must be provided either through stdin or as a prompt argument when using --print")
    task = task_for_call(prompt, call.model, os.environ)
    try:
        config, registry = _config(call)
    except (ConfigError, UsageError) as exc:
        _fail(2, str(exc))
    stream = ClaudeStream(sys.stdout, call.output_format)
    try:
        outcome = _execute(prompt, task, config, registry, call, stream)
    except NoAvailableProviderError as exc:
        stream.finish_with(error_object(f"tacroute: {exc}"))
        _fail(1, " ".join(str(exc).split()))
    except (ConfigError, UsageError) as exc:
        _fail(2, str(exc))
    except TacrouteError as exc:
        _fail(1, str(exc))
    result, signum = outcome
    stream.finish(result)
    _note_dropped(result, call)
    if signum is not None:
        return 128 + signum
    if not result.success:
        print(f"{PROG}: {failure_text(result).removeprefix('tacroute: ')}", file=sys.stderr)
        return 1
    return 0


def _usage(message: str) -> Exception:
    from tacroute_claude_cli.dropin.argv import UsageProblem

    return UsageProblem(message)


def _stdin() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        return ""
    return sys.stdin.read()


def _config(call: Call) -> tuple[Config, Any]:
    """The config (found as tacroute finds it), checked not to call this program, and the registry."""
    from tacroute.config.loader import load_config
    from tacroute.errors import UsageError
    from tacroute.plugins import get_registry
    from tacroute.providers import ProviderManager

    registry = get_registry()
    config = load_config(registry=registry)
    providers = ProviderManager(config, registry)
    for pc in config.providers.values():
        if pc.enabled and pc.command_template:
            found = providers.resolve_command(pc.command_template[0])
            if found is not None and _is_self(found):
                raise UsageError(f"provider {pc.name!r} runs {found!r}, which is {PROG} itself: it would "
                                 "call itself; point its command_template at the real Claude CLI")
    if call.session_bound:
        kept = {name: pc for name, pc in config.providers.items() if pc.type == CLAUDE_TYPE}
        if not kept:
            raise UsageError(f"{', '.join(call.session_bound)} needs a {CLAUDE_TYPE} provider (a Claude "
                             "CLI session), and the config has none")
        config = config._replace(providers=kept)
    return config, registry


def _execute(prompt: str, task: dict[str, Any], config: Config, registry: Any, call: Call,
             stream: Any) -> tuple[RunResult, int | None]:
    from tacroute.runner import run_task
    from tacroute.runner.signals import StopSignals

    # The text goes to run_task, which writes it (owner-only) into the run's own
    # folder and removes it at the end: no temporary folder of ours (tempfile and
    # shutil were ~4 ms of the start, before the CLI's).
    env = {**os.environ, NESTED_MARKER: "1"}
    stop = StopSignals()
    stop.install()
    try:
        result = stop.run(lambda: run_task(prompt=prompt, task=task, config=config, registry=registry,
                                           env=env, cancel=stop.cancel, status=False,
                                           on_line=stream.on_line,
                                           extra_args={CLAUDE_TYPE: call.forward}))
    finally:
        stop.restore()
    return result, stop.signum


def _note_dropped(result: RunResult, call: Call) -> None:
    if not call.forward_names:
        return
    for a in result.attempts:
        if a.provider_type != CLAUDE_TYPE:
            print(f"{PROG}: note: attempt {a.attempt} ({a.provider}/{a.model}, type {a.provider_type}) ran "
                  f"without {', '.join(call.forward_names)}: its provider type cannot honour them",
                  file=sys.stderr)
