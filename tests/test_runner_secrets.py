"""The runner masks every secret it hands a command: from the environment and from ``env`` tables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tacroute import hookimpl, run_task
from tacroute.errors import NoAvailableProviderError, UsageError
from tacroute.plugins import Registry, set_registry
from testkit.leaks import leaked_runs
from testkit.script_provider import ScriptPlugin, ScriptType, script_config

SECRET = "tbl-Hk3Jw9Qm2Xv7Lp5Nc8Rz4Bd6Fy1Gs0T"


class BrokenCheck(ScriptType):
    """A provider type whose availability check fails quoting what it was given."""

    name = "broken-check"

    def availability(self, config: Any) -> tuple[bool, str | None]:
        raise RuntimeError(f"cannot use token {config.env.get('SERVICE_TOKEN')}")


class Plugin(ScriptPlugin):
    @hookimpl
    def register_providers(self, register: Any) -> None:
        super().register_providers(register)
        register(BrokenCheck())


@pytest.fixture
def registry() -> Iterator[Registry]:
    reg = Registry.from_plugins([Plugin()])
    set_registry(reg)
    yield reg
    set_registry(None)


@pytest.fixture
def prompt(tmp_path: Path) -> Path:
    path = tmp_path / "prompt.txt"
    path.write_text("do it\n", encoding="utf-8")
    return path


def with_table(config: Path, table: str, ptype: str = "script") -> Path:
    text = config.read_text(encoding="utf-8").replace(
        '[providers.s0]\ntype = "script"\n', f'[providers.s0]\ntype = "{ptype}"\n{table}\n', 1)
    config.write_text(text, encoding="utf-8")
    return config


def test_a_secret_from_the_env_table_is_masked(registry: Registry, tmp_path: Path, prompt: Path) -> None:
    # The script prints $MY_API_KEY to stderr and fails; only the table holds it.
    config = with_table(script_config(tmp_path, ["crash"]), f'env = {{ MY_API_KEY = "{SECRET}" }}')
    env = {k: v for k, v in os.environ.items() if k != "MY_API_KEY"}
    result = run_task(prompt, {}, config=config, env=env, registry=registry)
    assert not result.success
    message = result.attempts[0].message or ""
    assert "failed with key ***" in message, message
    for text in (message, result.error or "", result.result or ""):
        assert leaked_runs(SECRET, text) == []


def test_a_table_key_named_by_api_key_env_is_masked_whatever_its_name(registry: Registry, tmp_path: Path,
                                                                      prompt: Path) -> None:
    # MY_API_KEY is printed; it is secret here because api_key_env names it (and by its name).
    config = with_table(script_config(tmp_path, ["crash"]),
                        f'api_key_env = "MY_API_KEY"\nenv = {{ MY_API_KEY = "  {SECRET}\\n" }}')
    result = run_task(prompt, {}, config=config, registry=registry)
    # Stripped before the command got it: the script printed the bare key, and it was masked.
    assert (result.attempts[0].message or "").endswith("failed with key ***"), result.attempts[0].message


def test_a_key_with_a_control_character_stops_before_anything_runs(registry: Registry, tmp_path: Path,
                                                                   prompt: Path) -> None:
    config = with_table(script_config(tmp_path, ["ok"]),
                        f'api_key_env = "MY_API_KEY"\nenv = {{ MY_API_KEY = "{SECRET[:9]}\\u0007{SECRET[9:]}" }}')
    plugin = registry.pm.get_plugins()
    with pytest.raises(UsageError) as info:
        run_task(prompt, {}, config=config, registry=registry)
    assert "MY_API_KEY" in str(info.value) and "control character" in str(info.value)
    assert leaked_runs(SECRET[9:], str(info.value)) == []
    events = [kind for p in plugin if isinstance(p, ScriptPlugin) for kind, _ in p.events]
    assert "attempt" not in events


def test_a_failing_availability_check_does_not_quote_the_secret(registry: Registry, tmp_path: Path,
                                                                prompt: Path) -> None:
    config = with_table(script_config(tmp_path, ["ok"]), f'env = {{ SERVICE_TOKEN = "{SECRET}" }}',
                        ptype="broken-check")
    with pytest.raises(NoAvailableProviderError) as info:
        run_task(prompt, {}, config=config, registry=registry)
    assert "cannot use token ***" in str(info.value)
    assert leaked_runs(SECRET, str(info.value)) == []
