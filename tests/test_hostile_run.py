"""``tacroute run`` with hostile files and hostile worker output: a clear message, never a traceback."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tacroute.cli import cli
from tacroute.plugins import Registry, set_registry
from testkit.hostile import run_cli
from testkit.script_provider import ScriptPlugin, process_alive, script_config


@pytest.fixture(autouse=True)
def plugin() -> Iterator[ScriptPlugin]:
    plugin = ScriptPlugin()
    set_registry(Registry.from_plugins([plugin]))
    yield plugin
    set_registry(None)


@pytest.fixture
def prompt(tmp_path: Path) -> Path:
    path = tmp_path / "p.md"
    path.write_text("the prompt\n")
    return path


def attempts_recorded(db: Path) -> list[tuple[str, str | None, str | None]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT model, error_class, message FROM attempts ORDER BY attempt").fetchall()
    finally:
        conn.close()


# ------------------------------------------------------------------ the output file
@pytest.mark.parametrize("how", ["same", "symlink", "hardlink"])
def test_output_file_that_is_the_prompt_is_refused(tmp_path: Path, prompt: Path, how: str) -> None:
    config = script_config(tmp_path, ["ok"])
    out = prompt
    if how == "symlink":
        out = tmp_path / "link.md"
        out.symlink_to(prompt)
    elif how == "hardlink":
        out = tmp_path / "hard.md"
        os.link(prompt, out)
    result = CliRunner().invoke(cli, ["run", str(prompt), "--output-file", str(out), "--config", str(config)])
    assert result.exit_code == 2
    assert "is the prompt file" in result.stderr
    assert prompt.read_text() == "the prompt\n"


def test_output_file_under_a_file_is_a_usage_error(tmp_path: Path, prompt: Path) -> None:
    config = script_config(tmp_path, ["ok"])
    (tmp_path / "afile").write_text("x")
    proc = run_cli("run", str(prompt), "--output-file", str(tmp_path / "afile" / "x"), "--config",
                   str(config), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{str(tmp_path / 'afile')!r} is not a directory" in proc.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_disk_fails_the_attempt_stops_the_group_and_records_the_run(tmp_path: Path, prompt: Path,
                                                                         history_db: Path) -> None:
    config = script_config(tmp_path, ["hang"])  # prints a line, then sleeps beside a child ignoring SIGTERM
    config.write_text(config.read_text() + "[runner]\nkill_grace = 0.5\n")
    attempt_file = tmp_path / "out.attempt-1.jsonl"  # where attempt 1 writes: a full disk
    attempt_file.symlink_to("/dev/full")
    proc = run_cli("run", str(prompt), "--output-file", str(tmp_path / "out.jsonl"), "--config", str(config),
                   cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"cannot write the output file {str(attempt_file)!r}: No space left on device" in proc.stderr
    assert not process_alive(int((tmp_path / "child.pid").read_text()))
    [(model, error_class, message)] = attempts_recorded(history_db)
    assert (model, error_class) == ("hang", "crash") and "No space left on device" in message


def test_output_file_that_is_a_device_gets_the_output_and_nothing_beside_it(tmp_path: Path,
                                                                           prompt: Path) -> None:
    config = script_config(tmp_path, ["ok"])
    before = set(os.listdir("/dev"))
    proc = run_cli("run", str(prompt), "--output-file", "/dev/null", "--json", "--config", str(config),
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["output_file"] == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # written into, never renamed over
    assert set(os.listdir("/dev")) - before == set()
    assert Path(data["attempts"][0]["output_file"]).read_text() == "the prompt\nDONE\n"


def _unshare_ro(folder: Path) -> tuple[str, ...] | None:
    """A prefix running a command with a read-only tmpfs mounted on ``folder`` (a private mount
    namespace: nothing outside sees it), or None when this machine cannot do that."""
    prefix = ("unshare", "-rm", "sh", "-c", 'mount -t tmpfs -o ro tmpfs "$0" && exec "$@"', str(folder))
    try:
        probe = subprocess.run([*prefix, "sh", "-c", f"touch {folder}/x"], capture_output=True,
                               text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return prefix if probe.returncode != 0 and "Read-only file system" in probe.stderr else None


def test_read_only_file_system_fails_the_attempt_clearly(tmp_path: Path, prompt: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    prefix = _unshare_ro(ro)
    if prefix is None:
        pytest.skip("cannot mount a read-only file system here (needs unshare -rm); not simulated")
    config = script_config(tmp_path, ["ok"])
    proc = run_cli("run", str(prompt), "--output-file", str(ro / "out.jsonl"), "--config", str(config),
                   cwd=tmp_path, prefix=prefix)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Read-only file system; the command was not started" in proc.stderr


# ------------------------------------------------------------------ the prompt
def test_binary_prompt_with_a_prompt_template_is_a_usage_error(tmp_path: Path) -> None:
    config = script_config(tmp_path, ["ok"], extra_args=("{prompt}",))
    prompt = tmp_path / "blob.bin"
    prompt.write_bytes(bytes(range(256)) * 4)
    result = CliRunner().invoke(cli, ["run", str(prompt), "--config", str(config)])
    assert result.exit_code == 2 and not isinstance(result.exception, UnicodeDecodeError)
    assert f"prompt file {str(prompt)!r} is not UTF-8 text" in result.stderr


def test_binary_prompt_is_fine_when_no_template_needs_its_text(tmp_path: Path) -> None:
    config = script_config(tmp_path, ["ok"])  # stdin = the prompt file itself
    prompt = tmp_path / "blob.bin"
    prompt.write_bytes(b"\xff\xfe binary\n")
    assert CliRunner().invoke(cli, ["run", str(prompt), "--config", str(config)]).exit_code == 0


@pytest.mark.parametrize("value", ["inf", "nan", "1e400"])
def test_timeout_option_must_be_a_finite_positive_number(tmp_path: Path, prompt: Path, value: str) -> None:
    config = script_config(tmp_path, ["ok"])
    result = CliRunner().invoke(cli, ["run", str(prompt), "--timeout", value, "--config", str(config)])
    assert result.exit_code == 2
    assert "must be a positive number of seconds" in result.stderr
