"""The wrapper as the runner starts it: a real process, from the console script or the example shim."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.config import load_config
from tacroute.plugins import Registry
from tacroute.providers import ProviderManager
from tacroute.providers.command import build_command, build_env
from testkit.openrouter_fixtures import TEST_KEY
from testkit.openrouter_server import FakeOpenRouter, stream_reply

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_console_script_streams_to_stdout_and_file(openrouter_server: FakeOpenRouter, tmp_path: Path,
                                                   pricing_cache: Path) -> None:
    openrouter_server.script(stream_reply(["from ", "a process"]))
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("hi", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "OPENROUTER_API_KEY": TEST_KEY, "OPENROUTER_BASE_URL": openrouter_server.base_url}
    proc = subprocess.run([str(BIN / "tacroute-openrouter"), "-p", str(prompt), "--model", "m/x",
                           "--output-file", str(out)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = _lines(proc.stdout)
    assert lines[-1]["result"] == "from a process"
    assert out.read_text(encoding="utf-8") == proc.stdout
    assert TEST_KEY not in proc.stdout + proc.stderr


def test_example_config_runs_the_shim_unchanged(builtin_registry: Registry,
                                                openrouter_server: FakeOpenRouter, tmp_path: Path,
                                                pricing_cache: Path) -> None:
    openrouter_server.valid_key = TEST_KEY
    openrouter_server.script(stream_reply(["seed ", "config"]))
    config = load_config(ROOT / "examples" / "config.toml", registry=builtin_registry)
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "OPENROUTER_API_KEY": TEST_KEY,
           "OPENROUTER_BASE_URL": openrouter_server.base_url}
    manager = ProviderManager(config, builtin_registry, env=env)
    assert manager.is_available("openrouter") == (True, None)
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("hello", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    argv = build_command(manager, "openrouter", prompt, "anthropic/claude-3.5-haiku", out)
    assert argv[0] == str(ROOT / "examples" / "tools" / "openrouter-cli.py")
    assert TEST_KEY not in " ".join(argv)
    proc = subprocess.run(argv, env=build_env(manager, "openrouter"), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert _lines(proc.stdout)[-1]["result"] == "seed config"
    assert _lines(out.read_text(encoding="utf-8"))[-1]["is_error"] is False


def test_tacroute_openrouter_subcommand(builtin_registry: Registry, openrouter_server: FakeOpenRouter,
                                        tmp_path: Path, pricing_cache: Path) -> None:
    openrouter_server.script(stream_reply(["via tacroute"]))
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("hi", encoding="utf-8")
    result = CliRunner().invoke(cli, ["openrouter", "-p", str(prompt), "--model", "m/x", "--base-url",
                                      openrouter_server.base_url, "--output-format", "text"],
                                env={"OPENROUTER_API_KEY": TEST_KEY})
    assert result.exit_code == 0, result.output
    assert result.output == "via tacroute\n"
    helped = CliRunner().invoke(cli, ["openrouter", "--help"])
    assert helped.exit_code == 0 and "--output-format" in helped.output
