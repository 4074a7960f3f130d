"""tacroute ui fixtures: a real ``tacroute ui`` process on a free loopback port, over a temporary
config and history (used by plugins/ui/tests)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tacroute.history import HistoryStore
from tacroute.types import Usage
from testkit.history import make_attempt, make_run

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-token-0123456789abcdef"
TACROUTE = Path(sys.executable).with_name("tacroute")


@dataclass
class UI:
    base: str
    token: str
    config: Path
    history: Path
    proc: subprocess.Popen[str]

    def client(self, **kw: object) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {self.token}"},
                            timeout=60, **kw)  # type: ignore[arg-type]

    def route(self, *args: str) -> str:
        """``tacroute route --json`` on the same config, as a separate process."""
        proc = subprocess.run([str(TACROUTE), "route", "--config", str(self.config), "--json", *args],
                              capture_output=True, text=True, timeout=120, env=os.environ.copy())
        assert proc.returncode == 0, proc.stderr
        return proc.stdout


def record_runs(path: Path, n: int = 12, model: str = "claude-sonnet-4-5") -> None:
    now = time.time()
    with HistoryStore(path) as store:
        for i in range(n):
            ok = i % 4 != 3
            a = make_attempt(f"run-{model}-{i}", provider="claude-cli", model=model, success=ok,
                             started_at=now - 3600 * (i + 1), duration_ms=1000 * (i + 1),
                             usage=Usage(20_000, 2_000), cost_usd=0.09, rule=None,
                             task={"priority": "low", "labels": ["docs"], "retry_count": 0},
                             error_class=None if ok else "crash", message=None if ok else "it broke")
            store.record_attempt(a)
            store.record_run(make_run([a], rule=None))


def start_ui(config: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([str(TACROUTE), "ui", "--config", str(config), "--port", "0", "--no-browser",
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env if env is not None else os.environ.copy())


@pytest.fixture
def ui_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example config (routing on), with a fake ``claude`` on PATH so it is available."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "claude"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    config = tmp_path / "config.toml"
    config.write_text((ROOT / "examples" / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return config


@pytest.fixture
def ui(ui_config: Path, history_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[UI]:
    record_runs(history_db)
    monkeypatch.setenv("TACROUTE_UI_TOKEN", TOKEN)
    proc = start_ui(ui_config)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()  # the first line is the URL, as documented
    if not url:
        proc.wait(timeout=30)
        pytest.fail(f"tacroute ui did not start: {proc.stderr.read() if proc.stderr else ''}")
    assert url.endswith(f"/?token={TOKEN}")
    try:
        yield UI(url.split("/?token=")[0], TOKEN, ui_config, history_db, proc)
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[str]) -> str:
    """Stop a ``tacroute ui`` process; returns what it wrote on stderr."""
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate(timeout=30)
    return err or ""
