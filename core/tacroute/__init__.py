"""tacroute: route AI coding-agent tasks across providers.

The public API is what ``__all__`` lists; everything else is internal.
Importing tacroute loads no plugins (they load on first use) and imports
submodules only when a name from them is first used, so ``tacroute route``
starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tacroute.errors import (
    ConditionValueError,
    ConfigError,
    NoAvailableProviderError,
    PluginError,
    ProviderError,
    TacrouteError,
    UsageError,
)
from tacroute.lazy import lazy_exports

if TYPE_CHECKING:
    from tacroute.config import Config, load_config
    from tacroute.config.model import ProviderConfig
    from tacroute.config.schema import ConfigSection, RegisterConfigSection, SectionContext
    from tacroute.context import RunContext
    from tacroute.history.store import HistoryStore
    from tacroute.hookspecs import hookimpl
    from tacroute.providers import Attempt, Provider, ProviderManager
    from tacroute.routing import ModelRouter
    from tacroute.runner import RunnerSettings, run_task
    from tacroute.runner.api import arun_task, open_router
    from tacroute.runner.attempt import CommandProvider
    from tacroute.runner.events import AttemptFinished, AttemptStarted, Progress, RunFinished
    from tacroute.types import (
        AttemptRecord,
        Candidate,
        CompileContext,
        ConditionType,
        Decision,
        ErrorClass,
        Outcome,
        OutputParser,
        OutputParserType,
        ParserSignal,
        ProviderType,
        RegisterCondition,
        RegisterOutputParser,
        RegisterProvider,
        RunResult,
        Task,
        Usage,
    )

__version__ = "0.1.0"

__all__ = [
    "Attempt",
    "AttemptFinished",
    "AttemptRecord",
    "AttemptStarted",
    "Candidate",
    "CommandProvider",
    "CompileContext",
    "ConditionType",
    "ConditionValueError",
    "Config",
    "ConfigError",
    "ConfigSection",
    "Decision",
    "ErrorClass",
    "HistoryStore",
    "ModelRouter",
    "NoAvailableProviderError",
    "Outcome",
    "OutputParser",
    "OutputParserType",
    "ParserSignal",
    "PluginError",
    "Provider",
    "Progress",
    "ProviderConfig",
    "ProviderError",
    "ProviderManager",
    "ProviderType",
    "RegisterCondition",
    "RegisterConfigSection",
    "RegisterOutputParser",
    "RegisterProvider",
    "RunContext",
    "RunFinished",
    "RunResult",
    "RunnerSettings",
    "SectionContext",
    "TacrouteError",
    "Task",
    "Usage",
    "UsageError",
    "__version__",
    "arun_task",
    "hookimpl",
    "load_config",
    "open_router",
    "run_task",
]

# hookimpl too: importing pluggy costs ~8 ms, which a program using only a
# light submodule (the OpenRouter wrapper and tacroute.redact) should not pay.
_LAZY = {
    "hookimpl": "tacroute.hookspecs",
    "AttemptRecord": "tacroute.types",
    "ErrorClass": "tacroute.types",
    "Outcome": "tacroute.types",
    "OutputParser": "tacroute.types",
    "ParserSignal": "tacroute.types",
    "RunResult": "tacroute.types",
    "Usage": "tacroute.types",
    "Candidate": "tacroute.types",
    "CompileContext": "tacroute.types",
    "ConditionType": "tacroute.types",
    "Decision": "tacroute.types",
    "ProviderType": "tacroute.types",
    "OutputParserType": "tacroute.types",
    "RegisterProvider": "tacroute.types",
    "RegisterCondition": "tacroute.types",
    "RegisterOutputParser": "tacroute.types",
    "RunContext": "tacroute.context",
    "Task": "tacroute.types",
    "ProviderConfig": "tacroute.config.model",
    "ConfigSection": "tacroute.config.schema",
    "RegisterConfigSection": "tacroute.config.schema",
    "SectionContext": "tacroute.config.schema",
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
    "open_router": "tacroute.runner.api",
    "arun_task": "tacroute.runner.api",
    "AttemptStarted": "tacroute.runner.events",
    "Progress": "tacroute.runner.events",
    "AttemptFinished": "tacroute.runner.events",
    "RunFinished": "tacroute.runner.events",
}


__getattr__ = lazy_exports(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
