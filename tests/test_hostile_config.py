"""Hostile configs: nesting too deep for the TOML reader, and durations or counts no timer can hold,
are config errors (exit 2) naming the file, the line and the key - never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.plugins import Registry, set_registry
from testkit.script_provider import ScriptPlugin, script_config


@pytest.fixture(autouse=True)
def plugin() -> Iterator[ScriptPlugin]:
    plugin = ScriptPlugin()
    set_registry(Registry.from_plugins([plugin]))
    yield plugin
    set_registry(None)


def validate(config: Path) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(cli, ["config", "validate", "--config", str(config)])
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.stderr, exc


@pytest.mark.parametrize("nested", [
    "a = " + "[" * 5000 + "]" * 5000,
    "a = " + "{b = " * 5000 + "1" + "}" * 5000,
    "a = " + "9" * 5000,
])
def test_unreadable_toml_is_a_config_error_naming_the_file(tmp_path: Path, nested: str) -> None:
    config = script_config(tmp_path, ["ok"])
    config.write_text(config.read_text() + "\n[extra]\n" + nested + "\n")
    code, stderr, exc = validate(config)
    assert exc is None and code == 2
    assert f"{config}: not usable TOML" in stderr


SECONDS = "at most 315,360,000 (ten years)"


@pytest.mark.parametrize(("table", "line", "key", "message"), [
    ("runner", "timeout = inf", "runner.timeout", f"must be a positive number of seconds, {SECONDS}, not inf"),
    ("runner", "timeout = nan", "runner.timeout", "not nan"),
    ("runner", "timeout = 1e400", "runner.timeout", "not inf"),
    ("runner", "timeout = 400000000", "runner.timeout", SECONDS),
    ("runner", "timeout = " + "9" * 400, "runner.timeout", "not a huge integer"),
    ("runner", "kill_grace = nan", "runner.kill_grace", f"must be a non-negative number of seconds, {SECONDS}"),
    ("runner", "kill_grace = -inf", "runner.kill_grace", "not -inf"),
    ("runner", "max_retry_after = inf", "runner.max_retry_after", SECONDS),
    ("runner", "max_attempts = 9223372036854775807", "runner.max_attempts", "must be at most 1,000"),
    ("providers.s0", "timeout = inf", "providers.s0.timeout", f"must be a positive number of seconds, {SECONDS}"),
    ("providers.s0", "timeout = nan", "providers.s0.timeout", "not nan"),
    ("providers.s0", "timeout = " + "9" * 400, "providers.s0.timeout", "not a huge integer"),
    ("providers.s0", "rpm = 9223372036854775807", "providers.s0.rpm", "must be at most 1,000,000"),
    ("providers.s0", "max_concurrent = 100000000", "providers.s0.max_concurrent", "must be at most 10,000"),
])
def test_non_finite_or_huge_numbers_are_config_errors(tmp_path: Path, table: str, line: str, key: str,
                                                       message: str) -> None:
    config = script_config(tmp_path, ["ok"])
    text = config.read_text()
    header = f"[{table}]\n"
    text = text.replace(header, header + line + "\n") if header in text else text + header + line + "\n"
    config.write_text(text)
    lineno = text.splitlines().index(line) + 1
    code, stderr, exc = validate(config)
    assert exc is None and code == 2
    assert f"{config}:{lineno}: {key}: " in stderr and message in stderr


def test_sane_numbers_still_load(tmp_path: Path) -> None:
    config = script_config(tmp_path, ["ok"], runner="[runner]\ntimeout = 1800\nkill_grace = 0\n"
                           "max_retry_after = 0.5\nmax_attempts = 1000\n")
    config.write_text(config.read_text().replace('[providers.s0]\n', '[providers.s0]\ntimeout = 315360000\n'
                                                 'rpm = 1000000\nmax_concurrent = 10000\n'))
    assert validate(config)[0] == 0
