"""The fixtures of testkit/ui.py: a real ``tacroute ui`` server per test."""

from __future__ import annotations

from testkit.ui import ui, ui_config

__all__ = ["ui", "ui_config"]
