"""tacroute: route AI coding-agent tasks across providers.

The public API is what ``__all__`` lists; everything else is internal.
Importing tacroute loads no plugins: they load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tacroute.errors import (
    ConditionValueError,
    ConfigError,
    NoAvailableProviderError,
    PluginError,
    ProviderError,
    TacrouteError,
)
from tacroute.hookspecs import hookimpl
from tacroute.types import (
    AttemptRecord,
    Candidate,
    CompileContext,
    ConditionType,
    Decision,
    ErrorClass,
    Outcome,
    OutputParser,
    ParserSignal,
    ProviderType,
    RunResult,
    Usage,
)

if TYPE_CHECKING:
    from tacroute.config import Config, load_config
    from tacroute.providers import ProviderManager
    from tacroute.routing import ModelRouter
    from tacroute.runner import RunnerSettings, run_task

__version__ = "0.1.0"

__all__ = [
    "AttemptRecord",
    "Candidate",
    "CompileContext",
    "ConditionType",
    "ConditionValueError",
    "Config",
    "ConfigError",
    "Decision",
    "ErrorClass",
    "ModelRouter",
    "NoAvailableProviderError",
    "Outcome",
    "OutputParser",
    "ParserSignal",
    "PluginError",
    "ProviderError",
    "ProviderManager",
    "ProviderType",
    "RunResult",
    "RunnerSettings",
    "TacrouteError",
    "Usage",
    "__version__",
    "hookimpl",
    "load_config",
    "run_task",
]

_LAZY = {
    "Config": "tacroute.config",
    "load_config": "tacroute.config",
    "ModelRouter": "tacroute.routing",
    "ProviderManager": "tacroute.providers",
    "run_task": "tacroute.runner",
    "RunnerSettings": "tacroute.runner",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tacroute' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
