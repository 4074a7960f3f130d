from __future__ import annotations

from pathlib import Path

import pytest

from testkit.seed import seed_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "examples" / "config.toml"

@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on PATH holding executables named claude and tacroute-openrouter."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("claude", "tacroute-openrouter"):
        exe = bin_dir / name
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return bin_dir


@pytest.fixture
def seed_file(tmp_path: Path, fake_bin: Path) -> Path:
    """The seed config with routing on, in a temp folder, with tools/openrouter-cli.py present."""
    path = tmp_path / "config.toml"
    path.write_text(seed_text(), encoding="utf-8")
    tools = tmp_path / "tools"
    tools.mkdir()
    shim = tools / "openrouter-cli.py"
    shim.write_text("#!/bin/sh\nexit 0\n")
    shim.chmod(0o755)
    return path
