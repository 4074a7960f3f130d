"""``run_task``: route a task, then try its candidates until one succeeds.

Every call builds its own router, provider manager, attempt plan and output
files, so several tasks can run at once from threads; the plugin registry is
only read. Observers hear ``observe_decision`` before the first attempt,
``observe_attempt_start`` and ``observe_attempt`` around each one and
``observe_run`` at the end, each with the run's :class:`RunContext`. The
router skips candidates the history layer has on cooldown or at a provider
limit (:func:`tacroute.history.open_gate`); each attempt then takes its
provider's slot atomically before it starts (and gives it back when it ends),
so a candidate whose last slot another process took in the meantime is
skipped too (:mod:`tacroute.history.slots`).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tacroute.config.bounds import seconds_problem
from tacroute.config.model import Config
from tacroute.context import RunContext
from tacroute.errors import NoAvailableProviderError, UsageError
from tacroute.history.slots import BudgetRefused, SlotRefused, report_attempt
from tacroute.providers import ProviderManager
from tacroute.redact import MESSAGE_LIMIT, Redactor
from tacroute.runner.attempt import AttemptContext, run_attempt
from tacroute.runner.budget import after_refusal, holds_for, settle
from tacroute.runner.costing import run_cost_source
from tacroute.runner.events import AttemptFinished, AttemptStarted, Event, EventSink, RunFinished
from tacroute.runner.opening import loaded, router_parts
from tacroute.runner.outputs import attempt_output_file, attempts_beside, publish_output, run_folder
from tacroute.runner.policy import AttemptPlan
from tacroute.runner.preflight import check_output_files, check_prompt_text
from tacroute.runner.prompt import PromptFile
from tacroute.runner.settings import RunnerSettings, load_runner_settings
from tacroute.runner.status import StatusLine
from tacroute.runner.wait import Waiter, slot_freed
from tacroute.taskattrs import check_task
from tacroute.types import AttemptRecord, Candidate, Decision, Outcome, RunResult, Task, attempt_totals

__all__ = ["attempt_output_file", "run_task"]

def run_task(
    prompt_file: str | Path | None = None,
    task: Task | None = None,
    *,
    prompt: str | None = None,
    decision: Decision | None = None,
    on_event: Callable[[Event], None] | None = None,
    config: Config | str | Path | None = None,
    registry: Any = None,
    output_file: str | Path | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    cancel: threading.Event | None = None,
    status: bool | None = False,
    settings: RunnerSettings | None = None,
    on_line: Callable[[int, str], None] | None = None,
    extra_args: Mapping[str, Sequence[str]] | None = None,
    wait: float | None = None,
) -> RunResult:
    """Route ``task`` and run its candidates in order until one succeeds.

    ``prompt_file`` holds the prompt, or ``prompt`` is its text (exactly one
    of them; the text goes to a private file in the run's folder, removed at
    the end: :mod:`tacroute.runner.prompt`); ``task`` the attributes rules match on.
    ``decision``: run this decision (previewed with :func:`tacroute.open_router`)
    instead of routing: its candidates are tried in order and the observers
    hear it. ``on_event`` receives typed events as they happen
    (:mod:`tacroute.runner.events`: attempt started, text/tool-use progress,
    attempt finished, run finished).
    ``config`` is a loaded :class:`Config`, a path, or None (the usual search).
    Each attempt writes its raw output to its own file: with ``output_file``
    ``NAME.attempt-N.SUFFIX`` beside it, and at the end ``output_file`` is
    atomically made the winning attempt's output (the last attempt's when all
    failed; :mod:`tacroute.runner.outputs`); without it each run gets its own
    folder under ``runner.output_dir`` or the temporary directory.
    ``timeout`` (seconds) overrides every provider's timeout. ``env`` replaces
    ``os.environ`` as the base environment of the commands (the provider's
    ``env`` table is added on top). Setting ``cancel`` stops the current
    attempt's process group (SIGTERM, SIGKILL after ``runner.kill_grace``)
    and ends the run: the attempt is recorded with error class ``cancelled``
    (tokens and cost seen so far kept), no other candidate starts, and the
    observers hear the attempt and the run as usual. ``status`` shows a live status
    line on stderr (None: only when stderr is a terminal). ``wait`` (seconds)
    waits that long for a provider at its ``max_concurrent``/``rpm`` limit
    instead of skipping it (:mod:`tacroute.runner.wait`).

    ``on_line(attempt_number, line)`` receives every line of every attempt's
    raw output as it is written (a command's stdout, an in-process provider's
    transcript), without its line ending, in the thread that runs the
    attempt: for a live view such as tacroute-claude's stream. ``extra_args``
    maps a provider *type* to arguments appended to the command of every
    attempt of a provider of that type (in-process providers get none).

    Every text the result carries (``error``, ``result``, each attempt's
    ``message``) has the secrets masked (:mod:`tacroute.redact`): those of the
    base environment and of every provider's ``env`` table.

    Raises :class:`UsageError` for a missing prompt file, an API key with a
    control character in it, a bad well-known task
    attribute (:class:`~tacroute.errors.InvalidTaskError`, also a ValueError),
    an output file that is the prompt or cannot be a file, a prompt that is not
    UTF-8 text when a command needs it (:mod:`tacroute.runner.preflight`),
    :class:`~tacroute.errors.ConfigError` for a bad config and
    :class:`NoAvailableProviderError` when no candidate can run. A failed run
    is not an exception: check ``RunResult.success``.
    """
    config, registry = loaded(config, registry)
    settings = settings or load_runner_settings(config)
    source = PromptFile(prompt_file, prompt)
    if timeout is not None and (problem := seconds_problem(timeout, zero_ok=False)):
        raise UsageError(f"timeout {problem}")
    if wait is not None and (problem := seconds_problem(wait, zero_ok=True)):
        raise UsageError(f"wait {problem}")
    waiter = Waiter(wait, cancel or threading.Event())
    check_task(task or {})
    task = dict(task or {})
    state: dict[str, Any] = {}
    base_env, providers, router = router_parts(config, registry, env, cwd, state)
    if decision is None:
        decision = waiter.route(router, task)
    elif not isinstance(decision, Decision):
        raise UsageError(f"decision must be a Decision (from open_router(...).route(task)), "
                         f"not {type(decision).__name__}")
    elif unknown := sorted({c.provider for c in decision.candidates} - set(config.providers)):
        raise UsageError(f"the decision names providers this config does not have: {', '.join(unknown)} "
                         "(preview it with open_router(config) of the same config)")
    run_id = os.urandom(6).hex()
    try:
        return _run(source.write(settings, run_id), run_id, task, decision, router, providers, registry,
                    config, settings, state, waiter, base_env, output_file, timeout, cwd, status,
                    EventSink(on_event, run_id, on_line), extra_args)
    finally:
        source.close()


def _run(prompt: Path, run_id: str, task: Task, decision: Decision, router: Any, providers: ProviderManager,
         registry: Any, config: Config, settings: RunnerSettings, state: dict[str, Any], waiter: Waiter,
         base_env: Mapping[str, str], output_file: str | Path | None, timeout: float | None,
         cwd: str | Path | None, status: bool | None, events: EventSink,
         extra_args: Mapping[str, Sequence[str]] | None) -> RunResult:
    if output_file is not None:
        most = min(settings.max_attempts, 2 * len(decision.candidates))  # a candidate runs at most twice
        files = [Path(output_file)]
        if attempts_beside(output_file):
            files += (attempt_output_file(output_file, n, "", None) for n in range(1, most + 1))
        check_output_files(prompt, files)
    if decision.available:
        check_prompt_text(prompt, providers, (c.provider for c in decision.candidates))
    run = RunContext(config, run_id, task, decision, state)
    registry.hooks.observe_decision(run)
    if not decision.available:
        raise NoAvailableProviderError(_unavailable_message(decision))
    for cand in decision.candidates:
        providers.api_key(cand.provider)  # a key no request can carry: a usage error, not a failure

    ctx = AttemptContext(
        run_id=run_id, task=task, prompt_file=prompt.resolve(), providers=providers, registry=registry,
        settings=settings, redact=_redactor(config, base_env), timeout=timeout,
        cwd=Path(cwd) if cwd is not None else None, cancel=waiter.cancel,
        status=StatusLine(enabled=status), on_line=events.line_hook(), extra_args=extra_args,
    )
    events.redact = ctx.redact
    beside = output_file if attempts_beside(output_file) else None
    folder = None if beside is not None else run_folder(settings, run_id)
    t0 = time.monotonic()
    plan = AttemptPlan(decision.candidates, settings)
    records: list[AttemptRecord] = []
    refused: list[Candidate] = []  # no free slot when their turn came
    last: Outcome | None = None
    refusals = 0  # budget holds refused (the decision changed)
    while (step := plan.next()) is not None:
        if ctx.cancel.is_set() or (step.wait_s > 0 and ctx.cancel.wait(step.wait_s)):
            break  # stopped: nothing new starts, and a cancelled attempt never fails over
        number = len(records) + 1
        holds = holds_for(router, task, step.candidate)
        try:
            slot = waiter.take(router.gate, run_id, number, step.candidate, holds)
        except BudgetRefused as exc:
            refusals += 1
            decision, next_plan = after_refusal(router, task, decision, exc, refusals, settings)
            if next_plan is None:
                break
            plan = next_plan
            continue
        except SlotRefused as exc:
            refused.append(step.candidate._replace(available=False, reason=exc.reason))
            plan.not_started()
            continue
        with slot:  # given back however the attempt ends
            out = attempt_output_file(beside, number, step.candidate.provider, folder)
            registry.hooks.observe_attempt_start(run, number, step.candidate.provider, step.candidate.model)
            events.emit(AttemptStarted(run_id, number, step.candidate.provider, step.candidate.model))
            record, last = run_attempt(ctx, number, step.candidate, out)
            if holds:
                settle(router, slot, record, state)  # the holds become the attempt's cost
            records.append(record)
            ctx.status.done(_status_summary(record))
            registry.hooks.observe_attempt(run, record)
            events.emit(AttemptFinished(run_id, record))
            report_attempt(router.gate, record)  # shared state: aggregates and the cooldown it started
        slot_freed()  # runs of this process waiting for a slot look again now
        if ctx.cancel.is_set():
            break
        plan.record(step.candidate, last)
    if not decision.available and not records and not ctx.cancel.is_set():
        raise NoAvailableProviderError(_unavailable_message(decision))  # a budget, at the start
    if refused:
        decision = decision._replace(skipped=decision.skipped + tuple(refused))
        if not records and not ctx.cancel.is_set():
            raise NoAvailableProviderError(_unavailable_message(decision._replace(
                available=False, reason="every candidate's provider reached a limit before it could start")))
    published = records[-1].output_file if records else None
    if output_file is not None and published is not None:
        problem = publish_output(published, output_file)
        if problem is None:
            published = str(output_file)
        else:
            print(f"tacroute: warning: {problem}; the attempt's output is in {published}", file=sys.stderr)
    result = _result(run_id, task, decision, records, last, ctx, int((time.monotonic() - t0) * 1000),
                     plan.stop_reason)._replace(output_file=published)
    registry.hooks.observe_run(run, result)
    events.emit(RunFinished(run_id, result))
    return result


def _redactor(config: Config, env: Mapping[str, str]) -> Redactor:
    """Masks what a command of this config may be given: secrets of ``env`` and of the ``env`` tables."""
    names = [pc.api_key_env for pc in config.providers.values() if pc.api_key_env]
    return Redactor.from_env(env, names, [pc.env for pc in config.providers.values()])


def _unavailable_message(decision: Decision) -> str:
    lines = [f"no available provider for this task: {decision.reason}"]
    for cand in decision.skipped:
        lines.append(f"  {cand.provider}/{cand.model} ({cand.rule or 'default'}): {cand.reason}")
    return "\n".join(lines)


def _status_summary(record: AttemptRecord) -> str:
    how = "ok" if record.success else (record.error_class.value if record.error_class else "failed")
    return (f"[{record.attempt}] {record.provider}/{record.model}: {how} in "
            f"{record.duration_ms / 1000:.1f}s")


def _result(run_id: str, task: Task, decision: Decision, records: list[AttemptRecord],
            last: Outcome | None, ctx: AttemptContext, duration_ms: int,
            stop_reason: str | None) -> RunResult:
    usage, cost = attempt_totals(records)
    final = records[-1] if records else None
    success = bool(final and final.success)
    error = None
    if not success:
        if final is None and ctx.cancel.is_set():
            error = "cancelled before the first attempt started"
        elif final is None:
            error = "no attempt was made" + (f" ({stop_reason})" if stop_reason else "")
        else:
            error = (f"{final.provider}/{final.model}: {final.error_class or 'failed'}: "
                     f"{final.message}" + (f" ({stop_reason})" if stop_reason else ""))
    return RunResult(
        run_id=run_id, task=task, decision=decision, attempts=tuple(records), success=success,
        provider=final.provider if final else None, model=final.model if final else None,
        result=ctx.redact(last.result) if last is not None else None, usage=usage,
        cost_usd=cost, duration_ms=duration_ms,
        error=ctx.redact.cut(error, MESSAGE_LIMIT),
        session_id=final.session_id if final else None,
        cost_source=run_cost_source([r.cost_source for r in records]) if cost is not None else None,
    )
