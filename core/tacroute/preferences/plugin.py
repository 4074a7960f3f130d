"""The preferences layer as a plugin (registered as ``preferences``).

It owns the ``[projects]``, ``[users]`` and ``[policy]`` tables (registered
like any plugin's config sections) and keeps the budgets' spend tables
current as runs end.

After a run, its cost (reported, else its tokens priced at its model) is
added to every spend table of this process that counts runs of the run's
history file, so the next decision sees it without a query. Importing this
module is cheap; it does nothing for a config without ``[projects]``/``[users]``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tacroute.hookspecs import hookimpl

if TYPE_CHECKING:
    from tacroute.config.schema import RegisterConfigSection
    from tacroute.context import RunContext
    from tacroute.types import RunResult

__all__ = ["observe_run", "register_config_sections"]


@hookimpl
def register_config_sections(register: RegisterConfigSection) -> None:
    """``[projects]``, ``[users]`` and ``[policy]`` (:mod:`tacroute.preferences.check`)."""
    from tacroute.preferences.check import POLICY_SECTION, PROJECTS_SECTION, USERS_SECTION

    for section in (PROJECTS_SECTION, USERS_SECTION, POLICY_SECTION):
        register(section)


@hookimpl
def observe_run(ctx: RunContext, result: RunResult) -> None:
    """Count the run's cost toward its project's and user's budgets."""
    if "projects" not in ctx.config.raw and "users" not in ctx.config.raw:
        return
    from tacroute.preferences.spend import run_cost, tables_for

    tables = tables_for(ctx.config)
    if not tables:
        return
    u = result.usage
    tokens = (u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_creation_tokens)
    started = time.time() - result.duration_ms / 1000
    project, user = result.task.get("project"), result.task.get("user")
    from tacroute.preferences.reserve import SETTLED

    op_id = None if ctx.state.get(SETTLED) else f"run.{ctx.run_id}"  # settled: each attempt added its cost
    for table in tables:
        usd = run_cost(result.cost_usd, result.model or result.decision.model, tokens, table.pricing)
        table.add(project, user, usd, started, op_id)
