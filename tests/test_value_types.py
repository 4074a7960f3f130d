"""The run and record value types are NamedTuples: check what that must not change.

They used to be frozen dataclasses; these tests pin the behaviour callers rely
on (field-wise ``Usage`` sums, immutable defaults, ``_replace``, read-only
fields) so the cheaper representation stays a drop-in.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, cast

import pytest

from tacroute.history.records import RunRow
from tacroute.runner.attempt import AttemptContext
from tacroute.runner.settings import DEFAULT_FAILOVER, RunnerSettings
from tacroute.types import AttemptRecord, ErrorClass, ModelStats, Outcome, ParserSignal, RunResult, Usage


def test_usage_addition_sums_fields_instead_of_concatenating() -> None:
    total = Usage(1, 2, 3, 4) + Usage(10, 20, 30, 40)
    assert type(total) is Usage
    assert total == Usage(11, 22, 33, 44)
    assert len(total) == 5
    assert total.as_dict() == {"input_tokens": 11, "output_tokens": 22, "cache_read_tokens": 33,
                               "cache_creation_tokens": 44, "reasoning_tokens": 0}
    assert Usage() + Usage() == Usage(0, 0, 0, 0)


def test_usage_cannot_be_summed_with_a_start_value_of_zero() -> None:
    # As with the dataclass: Usage only adds to Usage.
    with pytest.raises(TypeError):
        sum(cast(Any, [Usage(1, 1, 1, 1)]))


def test_outcome_defaults_are_immutable_and_replace_gives_a_changed_copy() -> None:
    a, b = Outcome(True), Outcome(False)
    assert a.usage == Usage() and a.usage is b.usage  # shared, which is safe: it cannot change
    assert a.models == () and a.diagnostics == ()
    changed = b._replace(error_class=ErrorClass.TIMEOUT, message="late")
    assert changed.error_class is ErrorClass.TIMEOUT and changed.message == "late"
    assert b.error_class is None and b.message is None
    with pytest.raises(AttributeError):
        a.success = False  # type: ignore[misc]


@pytest.mark.parametrize("value", [
    ParserSignal(ErrorClass.AUTH, "401"),
    ModelStats(3, 1.0, None),
    RunnerSettings(),
    RunRow("r", 0.0, {}, None, "p", "m", True, None, 1, Usage(), None, 5),
])
def test_fields_are_read_only(value: object) -> None:
    name = type(value)._fields[0]  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        setattr(value, name, None)


def test_records_keep_keyword_construction_and_defaults() -> None:
    rec = AttemptRecord(run_id="r", attempt=1, task={"priority": "low"}, provider="p", provider_type="t",
                        model="m", rule=None, success=True, error_class=None, message=None, exit_code=0,
                        started_at=1.0, duration_ms=2, usage=Usage(1, 2), cost_usd=None, output_file=None)
    assert rec.retry_after_s is None
    assert rec.task == {"priority": "low"}
    settings = RunnerSettings(max_attempts=2)
    assert settings.failover == DEFAULT_FAILOVER and settings.output_dir is None


def test_run_result_error_defaults_to_none() -> None:
    from tacroute.types import Decision

    result = RunResult("r", {}, Decision("p", "m", None, "default"), (), False, None, None, None, Usage(),
                       None, 0)
    assert result.error is None


def test_attempt_context_is_mutable_with_per_instance_defaults(tmp_path: Path) -> None:
    def make() -> AttemptContext:
        return AttemptContext(run_id="r", task={}, prompt_file=tmp_path / "p", providers=None,  # type: ignore[arg-type]
                              registry=None, settings=RunnerSettings(), redact=None)  # type: ignore[arg-type]

    one, two = make(), make()
    assert isinstance(one.cancel, threading.Event) and one.cancel is not two.cancel
    assert one.status is not two.status
    assert one.timeout is None and one.cwd is None
    one.timeout = 5.0
    assert one.timeout == 5.0 and two.timeout is None
    with pytest.raises(AttributeError):
        one.unknown = 1  # type: ignore[attr-defined]


def test_attempt_totals_sum_usage_and_keep_cost_unknown_when_none_reported() -> None:
    from tacroute.types import attempt_totals

    def rec(cost: float | None, tokens: int) -> AttemptRecord:
        return AttemptRecord("r", 1, {}, "p", "claude-cli", "m", None, True, None, None, 0, 0.0, 10,
                             Usage(tokens, 1), cost, None)

    assert attempt_totals([]) == (Usage(), None)
    assert attempt_totals([rec(None, 5), rec(None, 7)]) == (Usage(12, 2), None)
    assert attempt_totals([rec(0.25, 5), rec(None, 7), rec(0.5, 1)]) == (Usage(13, 3), 0.75)
