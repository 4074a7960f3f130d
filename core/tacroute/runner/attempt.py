"""One attempt: one candidate's command, spawned, streamed, parsed and classified."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from tacroute.bounds import bound_outcome
from tacroute.errors import ProviderError
from tacroute.providers import ProviderManager
from tacroute.redact import MESSAGE_LIMIT, Redactor
from tacroute.runner.guard import GuardedParser
from tacroute.runner.plain import PlainOutputParser
from tacroute.runner.process import OutputWriteError, SpawnError, stream_process
from tacroute.runner.settings import RunnerSettings
from tacroute.runner.status import StatusLine
from tacroute.types import (
    AttemptRecord,
    Candidate,
    ErrorClass,
    Outcome,
    OutputParser,
    ParserSignal,
    Task,
)

__all__ = ["AttemptContext", "run_attempt"]


class AttemptContext:
    """What every attempt of one run shares (one per run: nothing is shared across runs).

    A plain class, not a dataclass: creating a dataclass costs ~0.6 ms at
    import, on ``tacroute run``'s path to spawning the command.
    """

    __slots__ = ("cancel", "cwd", "prompt_file", "providers", "redact", "registry", "run_id",
                 "settings", "status", "task", "timeout")

    def __init__(self, run_id: str, task: Task, prompt_file: Path, providers: ProviderManager,
                 registry: Any, settings: RunnerSettings, redact: Redactor, timeout: float | None = None,
                 cwd: Path | None = None, cancel: threading.Event | None = None,
                 status: StatusLine | None = None) -> None:
        self.run_id = run_id
        self.task = task
        self.prompt_file = prompt_file
        self.providers = providers
        self.registry = registry
        self.settings = settings
        self.redact = redact
        self.timeout = timeout
        self.cwd = cwd
        self.cancel = cancel if cancel is not None else threading.Event()
        self.status = status if status is not None else StatusLine(enabled=False)


def run_attempt(ctx: AttemptContext, number: int, cand: Candidate, output_file: Path
                ) -> tuple[AttemptRecord, Outcome]:
    """Run ``cand`` once; never raises for a failure of the command itself."""
    started = time.time()
    t0 = time.monotonic()
    pc = ctx.providers.get_provider(cand.provider)
    try:
        parser = _parser(ctx, pc.output_parser)
        argv = ctx.providers.build_command(cand.provider, ctx.prompt_file, cand.model, output_file)
        stdin_path = ctx.providers.build_stdin(cand.provider, ctx.prompt_file, cand.model, output_file)
        env = ctx.providers.build_env(cand.provider)
    except (ProviderError, OSError) as exc:
        outcome = Outcome(False, ErrorClass.SPAWN_FAILED, f"cannot build the command: {exc}")
        return _record(ctx, number, cand, pc.type, outcome, None, started, t0, None), outcome
    writes_own_file = any("{output_file}" in item for item in pc.command_template)
    timeout = ctx.timeout or pc.timeout or ctx.settings.timeout
    signal_box: list[ParserSignal] = []

    def on_line(line: str) -> bool:
        sig = parser.feed(line)
        if sig is not None:
            signal_box.append(sig)
            return True
        return False

    ctx.status.start(number, cand.provider, cand.model)
    tee: IO[str] | None = None
    try:
        output_file.parent.mkdir(parents=True, exist_ok=True)
        if not writes_own_file:
            tee = open(output_file, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        # Not the provider's fault, and the next attempt's file is beside this one:
        # a crash, which does not fail over unless runner.failover says so.
        outcome = Outcome(False, ErrorClass.CRASH, f"cannot write the output file "
                          f"{str(output_file)!r}: {exc.strerror or exc}; the command was not started")
        return _record(ctx, number, cand, pc.type, outcome, None, started, t0, output_file), outcome
    try:
        proc = stream_process(argv, on_line=on_line, stdin_path=stdin_path, env=env, cwd=ctx.cwd,
                              timeout=timeout, tee=tee, cancel=ctx.cancel,
                              on_tick=lambda: ctx.status.update(parser.progress()),
                              kill_grace=ctx.settings.kill_grace, on_spawn=_warm_up)
    except SpawnError as exc:
        outcome = Outcome(False, ErrorClass.SPAWN_FAILED, str(exc))
        return _record(ctx, number, cand, pc.type, outcome, None, started, t0, output_file), outcome
    except OutputWriteError as exc:
        outcome = parser.finish(None, "")
        outcome = Outcome(False, ErrorClass.CRASH, f"cannot write the output file "
                          f"{str(output_file)!r}: {exc}; the process group was stopped",
                          usage=outcome.usage, cost_usd=outcome.cost_usd, models=outcome.models,
                          diagnostics=outcome.diagnostics)
        return _record(ctx, number, cand, pc.type, outcome, None, started, t0, output_file), outcome
    finally:
        if tee is not None:
            with contextlib.suppress(OSError):  # a full disk fails the flush on close too
                tee.close()
    if writes_own_file and proc.stdout_lines == 0 and proc.stopped is None:
        _feed_file(output_file, on_line)
    # Masked before the parser cuts it to a tail: a cut must never split a secret.
    outcome = parser.finish(proc.exit_code, ctx.redact(proc.stderr_tail))
    if proc.stopped == "timeout":
        outcome = outcome._replace(success=False, error_class=ErrorClass.TIMEOUT,
                          message=f"no result within {timeout:g} s: the process group was killed")
    elif proc.stopped == "signal" and signal_box:
        sig = signal_box[0]
        outcome = outcome._replace(success=False, error_class=sig.error_class, message=sig.message,
                          retry_after_s=sig.retry_after_s, api_error_status=sig.api_error_status)
    elif proc.stopped == "cancelled":
        # Usage and cost the parser saw before the stop are kept: they were spent.
        outcome = outcome._replace(success=False, error_class=ErrorClass.CANCELLED,
                          message="stopped on request: the process group was ended")
    outcome = _bounded(outcome, cand)
    return _record(ctx, number, cand, pc.type, outcome, proc.exit_code, started, t0, output_file), outcome


def _bounded(outcome: Outcome, cand: Candidate) -> Outcome:
    """The worker's figures within bounds (see :mod:`tacroute.bounds`); a warning per change."""
    outcome, notes = bound_outcome(outcome)
    for note in notes:
        print(f"tacroute: warning: {cand.provider}/{cand.model} reported {note}", file=sys.stderr)
    return outcome


def _warm_up() -> None:
    """Import now what is needed once the command exits, while it starts up.

    The command (a coding agent's CLI) takes hundreds of milliseconds before its
    first output; the history plugin's record helpers would otherwise load after
    the exit, on the path between the command's end and ours.
    """
    import tacroute.history.records  # noqa: F401


def _parser(ctx: AttemptContext, name: str | None) -> GuardedParser:
    if name is None:
        return GuardedParser(PlainOutputParser(), "plain")
    parser_type = ctx.registry.output_parsers.get(name)
    if parser_type is None:
        raise ProviderError(f"output parser {name!r} is not installed (installed: "
                            f"{', '.join(sorted(ctx.registry.output_parsers)) or 'none'})")
    try:
        parser: OutputParser = parser_type.create()
    except Exception as exc:
        raise ProviderError(f"output parser {name!r} could not be created: "
                            f"{type(exc).__name__}: {exc}") from exc
    return GuardedParser(parser, name)


def _feed_file(path: Path, on_line: Any) -> None:
    """The command wrote its output to the file, not stdout: parse the file."""
    with contextlib.suppress(OSError), open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if on_line(line.rstrip("\r\n")):
                break


def _record(ctx: AttemptContext, number: int, cand: Candidate, ptype: str, outcome: Outcome,
            exit_code: int | None, started: float, t0: float, output_file: Path | None) -> AttemptRecord:
    return AttemptRecord(
        run_id=ctx.run_id, attempt=number, task=ctx.task, provider=cand.provider, provider_type=ptype,
        model=cand.model, rule=cand.rule, success=outcome.success,
        error_class=None if outcome.success else outcome.error_class,
        message=ctx.redact.cut(outcome.message, MESSAGE_LIMIT), exit_code=exit_code, started_at=started,
        duration_ms=int((time.monotonic() - t0) * 1000), usage=outcome.usage, cost_usd=outcome.cost_usd,
        output_file=str(output_file) if output_file is not None else None,
        retry_after_s=None if outcome.success else outcome.retry_after_s,
    )
