"""Well-known task attributes are checked the same way from every entry: --attr, the dedicated
options, run_task(task=...) and ModelRouter.route; bad values are a usage error, never a crash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute import ModelRouter, run_task
from tacroute.cli import cli
from tacroute.config import load_config
from tacroute.errors import InvalidTaskError, UsageError
from tacroute.plugins import Registry, set_registry
from tacroute_conditions import hour_range, labels, priority, retry_count
from testkit.script_provider import ScriptPlugin, script_config

RULES = """
[[routing.rules]]
name = "docs"
priority = 10
conditions = { labels = ["docs"] }
model = "ok"

[[routing.rules]]
name = "night"
priority = 9
conditions = { hour_range = [0, 8] }
model = "ok"

[[routing.rules]]
name = "retried"
priority = 8
conditions = { retry_count = { gte = 1 } }
model = "ok"

[[routing.rules]]
name = "urgent"
priority = 7
conditions = { priority = "high" }
model = "ok"
"""


@pytest.fixture(autouse=True)
def registry() -> Iterator[Registry]:
    reg = Registry.from_plugins([ScriptPlugin(), hour_range, labels, priority, retry_count])
    set_registry(reg)
    yield reg
    set_registry(None)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = script_config(tmp_path, ["ok"])
    path.write_text(path.read_text() + RULES)
    return path


def invoke(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(cli, list(args))
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.stderr, exc


BAD = [
    ("labels=5", "labels must be a list of strings"),
    ("labels=true", "labels must be a list of strings"),
    ("labels=[1, 2]", "labels must be a list of strings"),
    ("hour=inf", "hour must be a whole number from 0 to 23"),
    ("hour=1e400", "hour must be a whole number from 0 to 23"),
    ("hour=99", "hour must be a whole number from 0 to 23"),
    ("hour=nan", "hour must be a whole number from 0 to 23"),
    ("retry_count=inf", "retry_count must be a whole number >= 0"),
    ("retry_count=-1", "retry_count must be a whole number >= 0"),
    ("priority=[5]", "priority must be a string"),
]


@pytest.mark.parametrize(("attr", "message"), BAD)
def test_bad_well_known_attr_is_a_usage_error_for_route(config: Path, attr: str, message: str) -> None:
    code, stderr, exc = invoke("route", "--attr", attr, "--config", str(config))
    assert exc is None and code == 2
    assert message in stderr


@pytest.mark.parametrize(("attr", "message"), BAD[:5])
def test_bad_well_known_attr_is_a_usage_error_for_run(config: Path, tmp_path: Path, attr: str,
                                                       message: str) -> None:
    prompt = tmp_path / "p.md"
    prompt.write_text("hello")
    code, stderr, exc = invoke("run", str(prompt), "--attr", attr, "--config", str(config))
    assert exc is None and code == 2
    assert message in stderr


def test_attr_hour_99_is_rejected_as_the_hour_option_is(config: Path) -> None:
    assert invoke("route", "--hour", "99", "--config", str(config))[0] == 2
    assert invoke("route", "--attr", "hour=99", "--config", str(config))[0] == 2


@pytest.mark.parametrize(("attr", "rule"), [
    ("labels=docs", "docs"), ('labels=["docs"]', "docs"), ("hour=3", "night"), ('hour="3"', "night"),
    ("retry_count=2", "retried"), ("priority=high", "urgent"),
])
def test_valid_attr_values_keep_routing(config: Path, attr: str, rule: str) -> None:
    hour = [] if attr.startswith("hour") else ["--hour", "12"]  # keep rule "night" out of the way
    result = CliRunner().invoke(cli, ["route", "--attr", attr, *hour, "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert f'"rule": "{rule}"' in result.stdout


def test_attr_values_that_are_not_toml_are_text(config: Path) -> None:
    """A 5,000-digit number or 5,000 open brackets made parse_attr itself crash."""
    for raw in ("9" * 5000, "[" * 5000):
        result = CliRunner().invoke(cli, ["route", "--attr", f"note={raw}", "--json", "--config",
                                          str(config)])
        assert result.exit_code == 0 and not isinstance(result.exception, Exception)
        assert raw in result.stdout


def test_router_route_rejects_bad_attributes_from_python(config: Path) -> None:
    router = ModelRouter(load_config(config))
    for task in ({"labels": 5}, {"hour": float("inf")}, {"retry_count": float("inf")}, {"hour": 24},
                 {"labels": True}, {"priority": ["high"]}):
        with pytest.raises(InvalidTaskError) as info:
            router.route(task)
        assert isinstance(info.value, ValueError) and isinstance(info.value, UsageError)
    assert router.route({"labels": "docs"}).rule == "docs"
    assert router.route({"hour": "3", "labels": ("x",)}).rule == "night"


def test_run_task_rejects_bad_attributes(config: Path, tmp_path: Path) -> None:
    prompt = tmp_path / "p.md"
    prompt.write_text("hello")
    with pytest.raises(InvalidTaskError, match="retry_count must be a whole number >= 0"):
        run_task(prompt, {"retry_count": float("inf")}, config=config)


def test_attr_priority_number_is_its_text_as_the_priority_option_is(config: Path) -> None:
    from tacroute.keyvalue import parse_attr

    assert parse_attr("priority=5") == ("priority", "5")
    assert invoke("route", "--attr", "priority=5", "--config", str(config))[0] == 0
