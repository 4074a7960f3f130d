"""tacroute: route AI coding-agent tasks across providers.

The public API is what ``__all__`` lists; everything else is internal.
Importing tacroute loads no plugins (they load on first use) and imports
submodules only when a name from them is first used, so ``tacroute route``
starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tacroute.errors import (
    ConditionValueError,
    ConfigError,
    NoAvailableProviderError,
    PluginError,
    ProviderError,
    TacrouteError,
    UsageError,
)
from tacroute.hookspecs import hookimpl

if TYPE_CHECKING:
    from tacroute.config import Config, load_config
    from tacroute.config.model import ProviderConfig
    from tacroute.history.store import HistoryStore
    from tacroute.outcomes import (
        AttemptRecord,
        ErrorClass,
        Outcome,
        OutputParser,
        OutputParserFactory,
        ParserSignal,
        RunResult,
        Usage,
    )
    from tacroute.providers import Attempt, Provider, ProviderManager
    from tacroute.routing import ModelRouter
    from tacroute.runner import RunnerSettings, run_task
    from tacroute.runner.attempt import CommandProvider
    from tacroute.types import Candidate, CompileContext, ConditionType, Decision, ProviderType, Task

__version__ = "0.1.0"

__all__ = [
    "Attempt",
    "AttemptRecord",
    "Candidate",
    "CommandProvider",
    "CompileContext",
    "ConditionType",
    "ConditionValueError",
    "Config",
    "ConfigError",
    "Decision",
    "ErrorClass",
    "HistoryStore",
    "ModelRouter",
    "NoAvailableProviderError",
    "Outcome",
    "OutputParser",
    "OutputParserFactory",
    "ParserSignal",
    "PluginError",
    "Provider",
    "ProviderConfig",
    "ProviderError",
    "ProviderManager",
    "ProviderType",
    "RunResult",
    "RunnerSettings",
    "TacrouteError",
    "Task",
    "Usage",
    "UsageError",
    "__version__",
    "hookimpl",
    "load_config",
    "run_task",
]

_LAZY = {
    "AttemptRecord": "tacroute.outcomes",
    "ErrorClass": "tacroute.outcomes",
    "Outcome": "tacroute.outcomes",
    "OutputParser": "tacroute.outcomes",
    "OutputParserFactory": "tacroute.outcomes",
    "ParserSignal": "tacroute.outcomes",
    "RunResult": "tacroute.outcomes",
    "Usage": "tacroute.outcomes",
    "Candidate": "tacroute.types",
    "CompileContext": "tacroute.types",
    "ConditionType": "tacroute.types",
    "Decision": "tacroute.types",
    "ProviderType": "tacroute.types",
    "Task": "tacroute.types",
    "ProviderConfig": "tacroute.config.model",
    "HistoryStore": "tacroute.history.store",
    "Attempt": "tacroute.providers",
    "Provider": "tacroute.providers",
    "CommandProvider": "tacroute.runner.attempt",
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
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
