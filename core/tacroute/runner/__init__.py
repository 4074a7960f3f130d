"""The runner: spawn the chosen provider's command, watch it, fail over, record.

- :mod:`~tacroute.runner.process`: spawning and streaming, one process group per attempt;
- :mod:`~tacroute.runner.attempt`: one attempt, parsed and classified;
- :mod:`~tacroute.runner.policy`: which failures fail over, retry-after waits;
- :mod:`~tacroute.runner.settings`: the ``[runner]`` config table;
- :mod:`~tacroute.runner.run`: :func:`run_task`, the attempt loop;
- :mod:`~tacroute.runner.status`: the live status line.
"""

from __future__ import annotations

from tacroute.runner.run import run_task
from tacroute.runner.settings import DEFAULT_FAILOVER, RunnerSettings, load_runner_settings

__all__ = ["DEFAULT_FAILOVER", "RunnerSettings", "load_runner_settings", "run_task"]
