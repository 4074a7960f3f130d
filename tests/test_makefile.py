"""The set-up targets: the demo needs Python only, the tests also get the Claude CLI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def planned(target: str) -> str:
    """What ``make TARGET`` would run from scratch (-B: as if nothing were built; -n: run nothing)."""
    proc = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=60)
    return proc.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_demo_does_not_need_npm() -> None:
    demo = planned("demo")
    assert "scripts/demo.sh" in demo and "pip install" in demo
    assert "npm" not in demo and "claude-code" not in demo


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_tests_still_install_the_claude_cli() -> None:
    for target in ("setup", "pytest", "test"):
        assert "npm install" in planned(target) and "@anthropic-ai/claude-code@" in planned(target)
