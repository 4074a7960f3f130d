"""The runner: spawn the chosen provider's command, watch it, fail over, record.

- :mod:`~tacroute.runner.process`: spawning and streaming, one process group per attempt;
- :mod:`~tacroute.runner.attempt`: one attempt, parsed and classified;
- :mod:`~tacroute.runner.policy`: which failures fail over, retry-after waits;
- :mod:`~tacroute.runner.settings`: the ``[runner]`` config table;
- :mod:`~tacroute.runner.run`: :func:`run_task`, the attempt loop;
- :mod:`~tacroute.runner.api`: ``open_router`` and ``arun_task`` for coordinators;
- :mod:`~tacroute.runner.events`: the typed events of ``run_task(on_event=...)``;
- :mod:`~tacroute.runner.prompt`: the prompt as a file or as text;
- :mod:`~tacroute.runner.status`: the live status line.

:func:`run_task` is imported on first use: the config loader imports
:mod:`tacroute.runner.settings` (the ``[runner]`` section) on every start-up,
and must not pay for the whole runner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tacroute.runner.settings import DEFAULT_FAILOVER, RunnerSettings, load_runner_settings

if TYPE_CHECKING:
    from tacroute.runner.run import run_task

__all__ = ["DEFAULT_FAILOVER", "RunnerSettings", "load_runner_settings", "run_task"]


def __getattr__(name: str) -> Any:
    if name == "run_task":
        from tacroute.runner.run import run_task

        globals()["run_task"] = run_task
        return run_task
    raise AttributeError(f"module 'tacroute.runner' has no attribute {name!r}")
