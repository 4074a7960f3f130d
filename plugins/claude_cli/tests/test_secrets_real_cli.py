"""An API key set in a provider's ``env`` table is masked like one from the environment.

The real Claude CLI runs against the fake Anthropic API, which echoes the
request's key back in its error message after ~260 characters of filler. The
CLI's own raw output (the attempt's output file, a copy of its stdout) is the
one place the key may stay; stdout, stderr and the history file must not hold
any 6-character run of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.plugins import Registry, set_registry
from testkit.anthropic_server import FakeAnthropicServer, HttpError
from testkit.leaks import file_bytes, leaked_runs

pytestmark = pytest.mark.real_cli

MODEL = "claude-sonnet-4-5"
#: Only in the config's env table, never in tacroute's own environment.
TABLE_KEY = "fake-anthropic-Tq7Lw2Xc9Vb4Nm8Kd3Hf6Js1Pg5Rz0Ay"


@pytest.fixture
def recording(claude_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The built-in plugins with history recording (into the test's own file) on."""
    set_registry(Registry.load(env={"TACROUTE_LOAD_PLUGINS": "claude_cli,history"}))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield
    set_registry(None)


def test_key_from_the_env_table_is_masked_everywhere(recording: None, tmp_path: Path, claude_bin: Path,
                                                     history_db: Path,
                                                     anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(HttpError(400, message="", echo_auth_after=260))
    argv = [str(claude_bin), "-p", "--model", "{model}", "--output-format", "stream-json", "--verbose"]
    cfg = tmp_path / "tacroute.toml"
    cfg.write_text(
        f'[providers.claude]\ntype = "claude-cli"\ncommand_template = {json.dumps(argv)}\n'
        f'env = {{ ANTHROPIC_BASE_URL = "{anthropic_server.base_url}", ANTHROPIC_API_KEY = "{TABLE_KEY}" }}\n'
        f'[routing]\nenabled = true\ndefault_provider = "claude"\ndefault_model = "{MODEL}"\n',
        encoding="utf-8")
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Say OK.\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(prompt), "--json", "--config", str(cfg)])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    (attempt,) = data["attempts"]
    assert attempt["error_class"] == "bad_request"
    # The CLI reported the echo (so there was something to mask) ...
    raw_output = Path(attempt["output_file"]).read_text(encoding="utf-8")
    assert TABLE_KEY in raw_output
    assert "***" in attempt["message"], attempt["message"]
    # ... and none of it reached what tacroute wrote.
    for where, text in {"stdout": result.stdout, "stderr": result.stderr,
                        "history": file_bytes(history_db)}.items():
        assert leaked_runs(TABLE_KEY, text) == [], f"the key leaked into {where}"
    assert file_bytes(history_db)
