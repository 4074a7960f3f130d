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
from functools import partial
from typing import TYPE_CHECKING, Any

from tacroute.hookspecs import hookimpl

if TYPE_CHECKING:
    from tacroute.config.checker import Checker
    from tacroute.config.schema import RegisterConfigSection, SectionContext
    from tacroute.context import RunContext
    from tacroute.types import RunResult

__all__ = ["observe_run", "register_config_sections"]


#: The tables this layer owns, and what each holds (``tacroute config`` lists them).
SECTIONS = {
    "projects": "per-project preferences and budgets (tacroute.preferences)",
    "users": "per-user preferences and budgets (tacroute.preferences)",
    "policy": "what a repository's .tacroute.toml may add (tacroute.preferences)",
}


def _check(name: str, value: Any, chk: Checker, ctx: SectionContext) -> Any:
    from tacroute.preferences.check import CHECKS

    return CHECKS[name][0](value, chk, ctx)


def _default(name: str, ctx: SectionContext) -> Any:
    from tacroute.preferences.check import CHECKS

    return CHECKS[name][1](ctx)


@hookimpl
def register_config_sections(register: RegisterConfigSection) -> None:
    """``[projects]``, ``[users]`` and ``[policy]``. Their checks (:mod:`tacroute.preferences.check`)
    are imported only for a config with one of them, or when a value is read: every
    ``tacroute route`` registers these sections, few configs have the tables."""
    from tacroute.config.schema import ConfigSection

    for name, description in SECTIONS.items():
        register(ConfigSection(name, description, partial(_check, name), default=partial(_default, name)))


@hookimpl
def observe_run(ctx: RunContext, result: RunResult) -> None:
    """Count the run's cost toward its project's and user's budgets."""
    if "projects" not in ctx.config.raw and "users" not in ctx.config.raw:
        return
    from tacroute.preferences.spend import tables_for
    from tacroute.pricing import run_cost

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
