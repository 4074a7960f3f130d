"""The runner with a small script provider (testkit/script_provider.py): no real CLI needed."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tacroute import ErrorClass, NoAvailableProviderError, run_task
from tacroute.config import load_config
from tacroute.errors import ConfigError, UsageError
from tacroute.plugins import Registry, set_registry
from tacroute.runner import load_runner_settings
from tacroute.runner.run import attempt_output_file
from testkit.script_provider import ScriptPlugin, process_alive, script_config


@pytest.fixture
def plugin() -> Iterator[ScriptPlugin]:
    plugin = ScriptPlugin()
    set_registry(Registry.from_plugins([plugin]))
    yield plugin
    set_registry(None)


@pytest.fixture
def prompt(tmp_path: Path) -> Path:
    path = tmp_path / "prompt.txt"
    path.write_text("fix the bug\n", encoding="utf-8")
    return path


def test_success_delivers_the_prompt_on_stdin_and_keeps_the_output(plugin: ScriptPlugin, tmp_path: Path,
                                                                   prompt: Path) -> None:
    config = script_config(tmp_path, ["ok"])
    out = tmp_path / "out.jsonl"
    result = run_task(prompt, {}, config=config, output_file=out)
    assert result.success and result.result == "fix the bug"
    assert (result.provider, result.model) == ("s0", "ok")
    assert out.read_text() == "fix the bug\nDONE\n"
    assert result.cost_usd == 0.01 and result.usage.input_tokens == 2


def test_observers_hear_decision_each_attempt_and_the_run(plugin: ScriptPlugin, tmp_path: Path,
                                                          prompt: Path) -> None:
    config = script_config(tmp_path, ["fatal", "ok"])
    result = run_task(prompt, {"priority": "high"}, config=config)
    assert [e for e, _ in plugin.events] == ["decision", "attempt", "attempt", "run"]
    first, second = plugin.events[1][1], plugin.events[2][1]
    assert (first.attempt, first.model, first.error_class, first.rule) == (1, "fatal", ErrorClass.AUTH, "r0")
    assert (second.attempt, second.model, second.success) == (2, "ok", True)
    assert first.run_id == second.run_id == result.run_id
    assert plugin.events[3][1] is result
    assert result.success and result.attempts == (first, second)
    # The fatal attempt was stopped by its parser signal, not left to sleep: no exit code.
    assert first.exit_code is None


def test_a_class_that_does_not_fail_over_ends_the_run(plugin: ScriptPlugin, tmp_path: Path,
                                                      prompt: Path) -> None:
    config = script_config(tmp_path, ["crash", "ok"])
    result = run_task(prompt, {}, config=config)
    assert not result.success
    assert [a.error_class for a in result.attempts] == [ErrorClass.CRASH]
    assert result.attempts[0].exit_code == 3
    assert "does not fail over" in (result.error or "")


def test_failover_classes_and_max_attempts_come_from_config(plugin: ScriptPlugin, tmp_path: Path,
                                                            prompt: Path) -> None:
    runner = '[runner]\nfailover = ["crash"]\nmax_attempts = 2\n'
    config = script_config(tmp_path, ["crash", "crash", "ok"], runner=runner, providers=2)
    result = run_task(prompt, {}, config=config)
    assert [a.error_class for a in result.attempts] == [ErrorClass.CRASH, ErrorClass.CRASH]
    assert not result.success and "max_attempts (2)" in (result.error or "")


def test_rate_limit_retry_after_requeues_the_candidate(plugin: ScriptPlugin, tmp_path: Path,
                                                       prompt: Path) -> None:
    config = script_config(tmp_path, ["limit", "fatal"], runner="[runner]\nmax_attempts = 3\n")
    result = run_task(prompt, {}, config=config)
    assert [(a.model, a.error_class) for a in result.attempts] == [
        ("limit", ErrorClass.RATE_LIMIT), ("fatal", ErrorClass.AUTH), ("limit", ErrorClass.RATE_LIMIT)]


def test_timeout_kills_the_whole_process_group(plugin: ScriptPlugin, tmp_path: Path, prompt: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = script_config(tmp_path, ["hang"], runner="[runner]\nkill_grace = 0.5\n")
    out = tmp_path / "hang.jsonl"
    result = run_task(prompt, {}, config=config, timeout=2, output_file=out)
    assert [a.error_class for a in result.attempts] == [ErrorClass.TIMEOUT]
    # The child ignored SIGTERM: only the group's SIGKILL ended it.
    child = int((tmp_path / "child.pid").read_text())
    assert not process_alive(child)
    # What the process printed before it was killed is kept.
    assert out.read_text() == "started\n"


def test_secrets_never_reach_messages(plugin: ScriptPlugin, tmp_path: Path, prompt: Path) -> None:
    config = script_config(tmp_path, ["crash"])
    secret = "sk-very-secret-value-123"
    env = dict(os.environ, MY_API_KEY=secret)
    result = run_task(prompt, {}, config=config, env=env)
    message = result.attempts[0].message or ""
    assert "failed with key ***" in message
    assert secret not in message and secret not in (result.error or "")


def test_command_writing_its_own_output_file(plugin: ScriptPlugin, tmp_path: Path, prompt: Path) -> None:
    config = script_config(tmp_path, ["tofile"], extra_args=("{output_file}",))
    out = tmp_path / "own.txt"
    result = run_task(prompt, {}, config=config, output_file=out)
    assert result.success and result.result == "fix the bug"
    assert out.read_text() == "fix the bug\nDONE\n"


def test_no_available_candidate_is_a_clear_error(plugin: ScriptPlugin, tmp_path: Path, prompt: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[providers.s0]\ntype = "script"\nenabled = false\ncommand_template = ["x"]\n'
                      '[routing]\ndefault_provider = "s0"\ndefault_model = "ok"\n')
    with pytest.raises(NoAvailableProviderError, match="disabled in config"):
        run_task(prompt, {}, config=config)
    assert [e for e, _ in plugin.events] == ["decision"]


def test_missing_prompt_file_is_a_usage_error(plugin: ScriptPlugin, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        run_task(tmp_path / "nope.txt", {}, config=script_config(tmp_path, ["ok"]))


def test_concurrent_runs_share_nothing(plugin: ScriptPlugin, tmp_path: Path) -> None:
    config = load_config(script_config(tmp_path, ["ok"]))
    results = {}

    def one(i: int) -> None:
        p = tmp_path / f"prompt{i}.txt"
        p.write_text(f"task number {i}\n")
        results[i] = run_task(p, {"n": i}, config=config)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {i: r.result for i, r in results.items()} == {i: f"task number {i}" for i in range(6)}
    assert len({r.attempts[0].output_file for r in results.values()}) == 6
    assert len({r.run_id for r in results.values()}) == 6


def test_attempt_output_file_names() -> None:
    assert attempt_output_file("/x/out.jsonl", 1, "p", None) == Path("/x/out.attempt-1.jsonl")
    assert attempt_output_file("/x/out.jsonl", 3, "p", None) == Path("/x/out.attempt-3.jsonl")
    assert attempt_output_file(None, 2, "open/router", Path("/r")) == Path("/r/attempt-2-open_router.jsonl")


# ------------------------------------------------------------------ [runner] table
def test_runner_settings_defaults_and_values(plugin: ScriptPlugin, tmp_path: Path) -> None:
    assert load_runner_settings(load_config(script_config(tmp_path, ["ok"]))).max_attempts == 5
    runner = ('[runner]\nmax_attempts = 2\nfailover = ["auth", "timeout"]\nmax_retry_after = 5\n'
              'timeout = 30\nkill_grace = 1\noutput_dir = "runs"\n')
    s = load_runner_settings(load_config(script_config(tmp_path, ["ok"], runner=runner)))
    assert (s.max_attempts, s.max_retry_after, s.timeout, s.kill_grace) == (2, 5.0, 30.0, 1.0)
    assert s.failover == {ErrorClass.AUTH, ErrorClass.TIMEOUT}
    assert s.output_dir == tmp_path / "runs"


def test_runner_settings_errors_name_file_line_and_key(plugin: ScriptPlugin, tmp_path: Path) -> None:
    runner = '[runner]\nmax_attempts = 0\nfailover = ["auth", "nope"]\ntimeout = "soon"\nbogus = 1\n'
    path = script_config(tmp_path, ["ok"], runner=runner)
    lines = path.read_text().splitlines()
    with pytest.raises(ConfigError) as info:
        load_runner_settings(load_config(path))
    text = str(info.value)
    line_of = {key: lines.index(next(x for x in lines if x.startswith(key))) + 1
               for key in ("max_attempts", "failover", "timeout", "bogus")}
    assert f"{path}:{line_of['max_attempts']}: runner.max_attempts: must be at least 1" in text
    assert f"{path}:{line_of['failover']}: runner.failover[1]: unknown error class 'nope'" in text
    assert "valid: auth, rate_limit" in text
    assert f"{path}:{line_of['timeout']}: runner.timeout: must be an integer or a number" in text
    assert f"{path}:{line_of['bogus']}: runner.bogus: unknown key in [runner]" in text


def test_cancel_stops_the_attempt_and_the_run(plugin: ScriptPlugin, tmp_path: Path, prompt: Path) -> None:
    config = script_config(tmp_path, ["hang", "ok"], runner='[runner]\nfailover = ["crash"]\n')
    cancel = threading.Event()
    timer = threading.Timer(1.0, cancel.set)
    timer.start()
    try:
        result = run_task(prompt, {}, config=config, cancel=cancel, timeout=120, cwd=tmp_path)
    finally:
        timer.cancel()
    assert not result.success
    # Class cancelled (not crash, which would fail over here): the run ends with it.
    assert [(a.model, a.error_class) for a in result.attempts] == [("hang", ErrorClass.CANCELLED)]
    assert "stopped on request" in (result.attempts[0].message or "")
    assert not process_alive(int((tmp_path / "child.pid").read_text()))


def test_an_exception_while_streaming_kills_the_group(tmp_path: Path) -> None:
    from tacroute.runner.process import stream_process

    pid_file = tmp_path / "pid"
    code = (f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
            "print('x', flush=True); time.sleep(600)")

    def boom(line: str) -> bool:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stream_process([sys.executable, "-c", code], on_line=boom, kill_grace=0.5)
    assert not process_alive(int(pid_file.read_text()))


def test_attempt_plan_retry_after_bounds_and_waits() -> None:
    from tacroute.runner.policy import AttemptPlan
    from tacroute.runner.settings import RunnerSettings
    from tacroute.types import Candidate, Outcome

    a, b = Candidate("p", "m1", "r1"), Candidate("q", "m2", None)
    plan = AttemptPlan((a, b, Candidate("x", "m", None, available=False)), RunnerSettings(max_retry_after=10))
    step = plan.next()
    assert step is not None and step.candidate == a and step.wait_s == 0
    plan.record(a, Outcome(False, ErrorClass.RATE_LIMIT, retry_after_s=5))
    step = plan.next()
    assert step is not None and step.candidate == b and step.wait_s == 0  # another provider: no wait
    plan.record(b, Outcome(False, ErrorClass.RATE_LIMIT, retry_after_s=600))  # beyond the bound
    step = plan.next()
    assert step is not None and step.candidate == a and 0 < step.wait_s <= 5  # requeued once, waits
    plan.record(a, Outcome(False, ErrorClass.RATE_LIMIT, retry_after_s=5))
    assert plan.next() is None and plan.stop_reason == "every candidate was tried"
