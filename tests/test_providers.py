from __future__ import annotations

from pathlib import Path

import pytest

from tacroute.config import load_config, parse_config
from tacroute.errors import ProviderError
from tacroute.plugins import Registry
from tacroute.providers import ProviderManager
from tacroute.providers.command import build_command, build_env, build_stdin
from testkit.seed import seed_text


def manager(path: Path, registry: Registry, text: str | None = None, **kw: object) -> ProviderManager:
    cfg = parse_config(text, path, registry=registry) if text else load_config(path, registry=registry)
    return ProviderManager(cfg, registry, **kw)  # type: ignore[arg-type]


def test_availability_reasons(seed_file: Path, builtin_registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    m = manager(seed_file, builtin_registry)
    assert m.is_available("claude-cli") == (True, None)
    assert m.is_available("openrouter") == (False, "OPENROUTER_API_KEY not set")
    m = manager(seed_file, builtin_registry, env={"OPENROUTER_API_KEY": "sk-secret", "PATH": "/usr/bin"})
    st = m.status("openrouter")
    assert st.available  # found relative to the config's folder
    assert st.command == str((seed_file.parent / "tools" / "openrouter-cli.py").resolve())
    assert "sk-secret" not in repr(m.statuses())
    assert m.is_available("claude-cli")[1] == "command 'claude' not found (not on PATH, nor relative to the config's folder)"


def test_disabled_and_missing_type(seed_file: Path, builtin_registry: Registry) -> None:
    text = seed_text().replace("enabled = true\nrequires_api_key", "enabled = false\nrequires_api_key")
    text += '\n[providers.gemini]\ncommand_template = ["gemini"]\n'
    m = manager(seed_file, builtin_registry, text)
    assert m.is_available("openrouter") == (False, "disabled in config (enabled = false)")
    assert m.is_available("gemini") == (False, "no installed plugin provides provider type 'gemini'")
    assert m.is_available("nope")[0] is False


def test_build_command_substitutes_without_a_shell(seed_file: Path, builtin_registry: Registry,
                                                  fake_bin: Path) -> None:
    m = manager(seed_file, builtin_registry)
    model = "m; rm -rf / $(whoami) `id` 'x' \"y\" {model}"
    argv = build_command(m, "openrouter", "/tmp/p.txt", model, "/tmp/out.jsonl")
    assert argv[0].endswith("tools/openrouter-cli.py")
    assert argv[1:] == ["-p", "/tmp/p.txt", "--model", model, "--output-file", "/tmp/out.jsonl",
                        "--output-format", "stream-json"]
    argv = build_command(m, "claude-cli", "/tmp/p.txt", "claude-opus-4")
    assert argv[0] == str(fake_bin / "claude")


def test_prompt_placeholder_and_stdin(tmp_path: Path, builtin_registry: Registry, fake_bin: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Fix the bug {not a placeholder}")
    text = """
[providers.claude-cli]
env = { IS_SANDBOX = "1" }
[providers.echo]
type = "claude-cli"
command_template = ["claude", "--append-system-prompt", "{prompt}", "--model={model}"]
[routing]
default_provider = "claude-cli"
default_model = "claude-sonnet-4-5"
"""
    m = manager(tmp_path / "c.toml", builtin_registry, text)
    assert build_command(m, "echo", prompt, "x")[1:] == [
        "--append-system-prompt", "Fix the bug {not a placeholder}", "--model=x"]
    # The claude-cli type's default template sends the prompt file on stdin.
    assert build_command(m, "claude-cli", prompt, "x")[1:] == [
        "-p", "--model", "x", "--output-format", "stream-json", "--verbose"]
    assert build_stdin(m, "claude-cli", prompt, "x") == str(prompt)
    assert build_env(m, "claude-cli")["IS_SANDBOX"] == "1"
    with pytest.raises(ProviderError, match="unknown provider"):
        build_command(m, "nope", prompt, "x")
