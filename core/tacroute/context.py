"""``RunContext``: what every observer hook of one run receives.

Built once per run by :func:`tacroute.run_task`, after routing and before the
first hook, and passed as ``ctx`` to ``observe_decision``,
``observe_attempt_start``, ``observe_attempt`` and ``observe_run``. A tracking
plugin gets everything it needs from it (no global state, no ``activate``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tacroute.config.model import Config
    from tacroute.types import Decision, Task

__all__ = ["RunContext"]


class RunContext:
    """One run, as its observers see it.

    ``config`` is the loaded config the run routes with (its tables, such as
    ``[history]``, say where a tracking plugin records); ``run_id`` is the id
    in every :class:`~tacroute.types.AttemptRecord` and the
    :class:`~tacroute.types.RunResult`; ``task`` the task's attributes;
    ``decision`` the router's answer. ``state`` is a mapping for plugins to
    keep what they need between the hooks of this run (an open connection,
    a start time); key it by your distribution's name to stay clear of others.
    It is dropped with the run.

    .. versionadded:: 0.2
    """


    __slots__ = ("config", "decision", "run_id", "state", "task")

    # A plain slotted class: cheap to define and build on the run path.
    def __init__(self, config: Config, run_id: str, task: Task, decision: Decision,
                 state: dict[str, Any] | None = None) -> None:
        self.config = config
        self.run_id = run_id
        self.task = task
        self.decision = decision
        self.state: dict[str, Any] = {} if state is None else state

    def __repr__(self) -> str:
        return f"RunContext(run_id={self.run_id!r}, config={self.config.path!r})"
