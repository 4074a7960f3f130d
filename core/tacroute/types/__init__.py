"""The types the core and plugins share, in three modules:

- :mod:`tacroute.types.decision`: what routing works with (:data:`Task`,
  :data:`Predicate`, :class:`Candidate`, :class:`Decision`);
- :mod:`tacroute.types.plugin`: the plugin base classes (:class:`ConditionType`,
  :class:`ProviderType`, :class:`OutputParserType`) and the register callables;
- :mod:`tacroute.types.run`: outcomes, attempt and run records, recorded stats
  (:class:`Outcome`, :class:`AttemptRecord`, :class:`RunResult`, ...).

Every name is importable from here; each module loads on first use of one
of its names, so routing never pays for the run types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tacroute.lazy import lazy_exports

if TYPE_CHECKING:
    from tacroute.types.decision import (
        DEFAULT_RULE,
        Candidate,
        Decision,
        Predicate,
        Task,
    )
    from tacroute.types.plugin import (
        CompileContext,
        ConditionIndex,
        ConditionType,
        OutputParserType,
        ProviderType,
        RegisterCondition,
        RegisterOutputParser,
        RegisterProvider,
    )
    from tacroute.types.run import (
        AttemptRecord,
        CandidateGate,
        ErrorClass,
        ModelStats,
        Outcome,
        OutputParser,
        ParserSignal,
        RunResult,
        StatsSource,
        Usage,
        attempt_totals,
    )

__all__ = [
    "AttemptRecord",
    "Candidate",
    "CandidateGate",
    "CompileContext",
    "ConditionIndex",
    "ConditionType",
    "DEFAULT_RULE",
    "Decision",
    "ErrorClass",
    "ModelStats",
    "Outcome",
    "OutputParser",
    "OutputParserType",
    "ParserSignal",
    "Predicate",
    "ProviderType",
    "RegisterCondition",
    "RegisterOutputParser",
    "RegisterProvider",
    "RunResult",
    "StatsSource",
    "Task",
    "Usage",
    "attempt_totals",
]

__getattr__ = lazy_exports(__name__, {
    "DEFAULT_RULE": "tacroute.types.decision",
    "Candidate": "tacroute.types.decision",
    "Decision": "tacroute.types.decision",
    "Predicate": "tacroute.types.decision",
    "Task": "tacroute.types.decision",
    "CompileContext": "tacroute.types.plugin",
    "ConditionIndex": "tacroute.types.plugin",
    "ConditionType": "tacroute.types.plugin",
    "OutputParserType": "tacroute.types.plugin",
    "ProviderType": "tacroute.types.plugin",
    "RegisterCondition": "tacroute.types.plugin",
    "RegisterOutputParser": "tacroute.types.plugin",
    "RegisterProvider": "tacroute.types.plugin",
    "AttemptRecord": "tacroute.types.run",
    "CandidateGate": "tacroute.types.run",
    "ErrorClass": "tacroute.types.run",
    "ModelStats": "tacroute.types.run",
    "Outcome": "tacroute.types.run",
    "OutputParser": "tacroute.types.run",
    "ParserSignal": "tacroute.types.run",
    "RunResult": "tacroute.types.run",
    "StatsSource": "tacroute.types.run",
    "Usage": "tacroute.types.run",
    "attempt_totals": "tacroute.types.run",
})
