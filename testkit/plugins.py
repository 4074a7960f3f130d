"""Fixtures that isolate plugins: a fresh registry per test, entry points off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tacroute.plugins import Registry, set_registry


@pytest.fixture
def builtin_registry() -> Iterator[Registry]:
    """A registry of the installed built-in plugins (entry points), set process-wide."""
    reg = Registry.load(env={"TACROUTE_LOAD_PLUGINS": "priority,labels,retry_count,hour_range,"
                                                      "claude_cli,openrouter,weekday,preferences"})
    set_registry(reg)
    yield reg
    set_registry(None)


@pytest.fixture
def make_registry() -> Iterator[type[Registry]]:
    """``make_registry.from_plugins([...])``; resets the process-wide registry afterwards."""
    yield Registry
    set_registry(None)
