"""One attempt: one candidate run through its provider, then recorded.

A table with a command runs through :class:`CommandProvider` (spawned,
streamed, parsed and classified); an in-process type's ``execute`` runs
through :class:`~tacroute.runner.inprocess.InProcessProvider`. Both return an
:class:`Outcome`; the record is made the same way for either.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from tacroute.errors import ProviderError
from tacroute.fastexit import open_own
from tacroute.providers import ProviderManager
from tacroute.providers.command import build_command, build_env, build_stdin
from tacroute.providers.execute import Attempt, Provider, executes_in_process, stopped_by
from tacroute.redact import MESSAGE_LIMIT, Redactor
from tacroute.runner.costing import REPORTED, settle_cost
from tacroute.runner.guard import GuardedParser
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

__all__ = ["AttemptContext", "CommandProvider", "run_attempt"]


class AttemptContext:
    """What every attempt of one run shares (one per run: nothing is shared across runs).

    A plain class, not a dataclass: creating a dataclass costs ~0.6 ms at
    import, on ``tacroute run``'s path to spawning the command.
    """

    __slots__ = ("_pricing", "cancel", "cwd", "extra_args", "on_line", "prompt_file", "providers", "redact",
                 "registry", "run_id", "settings", "status", "task", "timeout")

    def __init__(self, run_id: str, task: Task, prompt_file: Path, providers: ProviderManager,
                 registry: Any, settings: RunnerSettings, redact: Redactor, timeout: float | None = None,
                 cwd: Path | None = None, cancel: threading.Event | None = None,
                 status: StatusLine | None = None, on_line: Callable[[int, str], None] | None = None,
                 extra_args: Mapping[str, Sequence[str]] | None = None) -> None:
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
        #: Receives (attempt number, line) for every raw output line (see ``run_task``).
        self.on_line = on_line
        #: Arguments appended to the commands of providers of a type (see ``run_task``).
        self.extra_args: Mapping[str, Sequence[str]] = extra_args or {}
        self._pricing: Any = None

    def pricing(self) -> Any:
        """The run's pricing table, loaded on first use (an estimated cost needs it)."""
        if self._pricing is None:
            from tacroute.pricing import PricingTable

            self._pricing = PricingTable.load(self.providers.config.raw)
        return self._pricing


def run_attempt(ctx: AttemptContext, number: int, cand: Candidate, output_file: Path
                ) -> tuple[AttemptRecord, Outcome]:
    """Run ``cand`` once through its provider; never raises for a failure of the provider."""
    started = time.time()
    t0 = time.monotonic()
    pc = ctx.providers.get_provider(cand.provider)
    timeout = ctx.timeout or pc.timeout or ctx.settings.timeout
    ctx.status.start(number, cand.provider, cand.model)
    try:
        output_file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        outcome = _unwritable(output_file, exc)
        return _record(ctx, number, cand, pc.type, outcome, None, started, t0, output_file), outcome
    sink = ctx.on_line
    attempt = Attempt(pc, cand.model, ctx.prompt_file, output_file, env=_attempt_env(ctx, pc.env),
                      timeout=timeout, progress=ctx.status.progress, redact=ctx.redact, run_id=ctx.run_id,
                      number=number, on_line=None if sink is None else (lambda line: sink(number, line)))
    ptype = ctx.providers.provider_type(cand.provider)
    provider: Provider
    if pc.command_template or ptype is None or not executes_in_process(ptype):
        provider = command = CommandProvider(ctx, cand.provider)
    else:
        from tacroute.runner.inprocess import InProcessProvider

        provider, command = InProcessProvider(ptype, ctx.cancel, ctx.settings.kill_grace), None
    outcome = _bounded(provider.execute(attempt), cand)
    source = ptype.cost_source(pc) if ptype is not None else (pc.cost_source or REPORTED)
    outcome = settle_cost(outcome, source, cand.model, ctx.pricing)
    wrote = command is None or command.wrote_output
    return _record(ctx, number, cand, pc.type, outcome, attempt.exit_code, started, t0,
                   output_file if wrote else None), outcome


def _unwritable(output_file: Path, exc: OSError) -> Outcome:
    # Not the provider's fault, and the next attempt's file is beside this one:
    # a crash, which does not fail over unless runner.failover says so.
    return Outcome(False, ErrorClass.CRASH, f"cannot write the output file "
                   f"{str(output_file)!r}: {exc.strerror or exc}; the command was not started")


def _attempt_env(ctx: AttemptContext, table_env: Mapping[str, str]) -> Mapping[str, str]:
    if not table_env:
        return ctx.providers.env
    return {**ctx.providers.env, **table_env}


class CommandProvider:
    """The command kind of provider: spawn the argv, stream its output to the parser, classify.

    One per attempt; ``wrote_output`` says whether the output file was written
    (False when the command could not even be built).
    """

    def __init__(self, ctx: AttemptContext, name: str) -> None:
        self.ctx = ctx
        self.name = name
        self.wrote_output = False

    def execute(self, attempt: Attempt) -> Outcome:
        ctx, name, output_file = self.ctx, self.name, attempt.output_file
        pc = attempt.config
        try:
            parser = _parser(ctx, pc.output_parser)
            argv = build_command(ctx.providers, name, attempt.prompt_file, attempt.model, output_file)
            argv += ctx.extra_args.get(pc.type, ())
            stdin_path = build_stdin(ctx.providers, name, attempt.prompt_file, attempt.model, output_file)
            env = build_env(ctx.providers, name)
        except (ProviderError, OSError) as exc:
            return Outcome(False, ErrorClass.SPAWN_FAILED, f"cannot build the command: {exc}")
        writes_own_file = any("{output_file}" in item for item in pc.command_template)
        timeout = attempt.timeout
        signal_box: list[ParserSignal] = []

        def on_line(line: str) -> bool:
            attempt.line(line)
            sig = parser.feed(line)
            if sig is not None:
                signal_box.append(sig)
                return True
            return False

        tee: IO[str] | None = None
        try:
            if not writes_own_file:
                tee = open_own(output_file, "w", encoding="utf-8")  # closed below
        except OSError as exc:
            return _unwritable(output_file, exc)
        self.wrote_output = True
        try:
            proc = stream_process(argv, on_line=on_line, stdin_path=stdin_path, env=env, cwd=ctx.cwd,
                                  timeout=timeout, tee=tee, cancel=ctx.cancel,
                                  on_tick=lambda: ctx.status.update(parser.progress()),
                                  kill_grace=ctx.settings.kill_grace, on_spawn=_warm_up)
        except SpawnError as exc:
            return Outcome(False, ErrorClass.SPAWN_FAILED, str(exc))
        except OutputWriteError as exc:
            seen = parser.finish(None, "")
            return Outcome(False, ErrorClass.CRASH, f"cannot write the output file "
                           f"{str(output_file)!r}: {exc}; the process group was stopped",
                           usage=seen.usage, cost_usd=seen.cost_usd, models=seen.models,
                           diagnostics=seen.diagnostics)
        finally:
            if tee is not None:
                with contextlib.suppress(OSError):  # a full disk fails the flush on close too
                    tee.close()
        attempt.exit_code = proc.exit_code
        if writes_own_file and proc.stdout_lines == 0 and proc.stopped is None:
            _feed_file(output_file, on_line)
        # Masked before the parser cuts it to a tail: a cut must never split a secret.
        outcome = parser.finish(proc.exit_code, ctx.redact(proc.stderr_tail))
        if proc.stopped == "timeout":
            outcome = outcome._replace(success=False, error_class=ErrorClass.TIMEOUT,
                              message=f"no result within {timeout:g} s: the process group was killed")
        elif proc.stopped == "signal" and signal_box:
            outcome = stopped_by(signal_box[0], outcome)
        elif proc.stopped == "cancelled":
            # Usage and cost the parser saw before the stop are kept: they were spent.
            outcome = outcome._replace(success=False, error_class=ErrorClass.CANCELLED,
                              message="stopped on request: the process group was ended")
        return outcome


def _bounded(outcome: Outcome, cand: Candidate) -> Outcome:
    """The worker's figures within bounds (see :mod:`tacroute.bounds`); a warning per change."""
    from tacroute.bounds import bound_outcome

    outcome, notes = bound_outcome(outcome)
    for note in notes:
        print(f"tacroute: warning: {cand.provider}/{cand.model} reported {note}", file=sys.stderr)
    return outcome


def _warm_up() -> None:
    """Import now what is needed once the command exits, while it starts up.

    The command (a coding agent's CLI) takes hundreds of milliseconds before its
    first output; the history plugin's record helpers, the bounds on the
    worker's figures and the pricing table (a CLI that reports no cost) would
    otherwise load after the exit, on the path between the command's end and
    ours. Before the spawn they would delay the command's start instead.
    """
    import tacroute.bounds
    import tacroute.history.records
    import tacroute.pricing  # noqa: F401


def _parser(ctx: AttemptContext, name: str | None) -> GuardedParser:
    if name is None:
        from tacroute.runner.plain import PlainOutputParser

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
        session_id=outcome.session_id, cost_source=outcome.cost_source,
    )
