"""The typed front of pluggy: one method per hook, called through ``pm.hook``.

The core never calls a hook implementation itself: every call goes through
pluggy's caller, so ``tryfirst``/``trylast`` order and ``wrapper=True``
implementations behave as pluggy documents. Each plugin is isolated by the
proxy it is registered through (:mod:`tacroute.plugins.isolation`).
"""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Any

import pluggy

from tacroute import hookspecs
from tacroute.plugins.isolation import Isolated, module_value_may_be_hook

if TYPE_CHECKING:
    import click

    from tacroute.config.schema import RegisterConfigSection
    from tacroute.context import RunContext
    from tacroute.state.api import RegisterStateBackend
    from tacroute.types import (
        AttemptRecord,
        RegisterCondition,
        RegisterOutputParser,
        RegisterProvider,
        RunResult,
    )

__all__ = ["Hooks", "make_plugin_manager"]


class _PluginManager(pluggy.PluginManager):
    """pluggy's manager, skipping cheaply what cannot be a hook implementation.

    Registering looks at every name of a plugin (``dir``: a module's every
    global, the proxy's every dunder) through ``inspect.getattr_static``, which
    made loading the plugins a noticeable part of ``tacroute route``. A module
    global that is a plain function without the marker, or any other non-routine
    value, and a proxy's names that are not its own are answered here; anything
    else is pluggy's own decision.
    """

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        if isinstance(plugin, Isolated):
            if name not in vars(plugin):
                return None  # the proxy class's own methods and object's dunders
        elif isinstance(plugin, types.ModuleType) and not module_value_may_be_hook(vars(plugin).get(name)):
            return None
        return super().parse_hookimpl_opts(plugin, name)


def make_plugin_manager() -> pluggy.PluginManager:
    """The one factory for a tacroute plugin manager (with no plugins yet)."""
    pm = _PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


class Hooks:
    """Calls the hooks of the plugins registered in ``pm``, in pluggy's order.

    An observer that raises is reported on stderr and the others still run
    (``TACROUTE_STRICT_PLUGINS=1`` re-raises). The observer hooks pass the
    run's :class:`~tacroute.context.RunContext` and, for implementations
    written before it existed, the values it holds under their old names.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self._hook = pm.hook

    # ------------------------------------------------------------ registration
    def register_providers(self, register: RegisterProvider) -> None:
        self._hook.register_providers(register=register)

    def register_conditions(self, register: RegisterCondition) -> None:
        self._hook.register_conditions(register=register)

    def register_output_parsers(self, register: RegisterOutputParser) -> None:
        self._hook.register_output_parsers(register=register)

    def register_config_sections(self, register: RegisterConfigSection) -> None:
        self._hook.register_config_sections(register=register)

    def register_state_backends(self, register: RegisterStateBackend) -> None:
        self._hook.register_state_backends(register=register)

    def register_commands(self, cli: click.Group) -> None:
        self._hook.register_commands(cli=cli)

    # -------------------------------------------------------------- observers
    def observe_decision(self, ctx: RunContext) -> None:
        self._hook.observe_decision(ctx=ctx, decision=ctx.decision, task=ctx.task)

    def observe_attempt_start(self, ctx: RunContext, attempt: int, provider: str, model: str) -> None:
        self._hook.observe_attempt_start(ctx=ctx, attempt=attempt, provider=provider, model=model,
                                         run_id=ctx.run_id, task=ctx.task)

    def observe_attempt(self, ctx: RunContext, record: AttemptRecord) -> None:
        self._hook.observe_attempt(ctx=ctx, record=record)

    def observe_run(self, ctx: RunContext, result: RunResult) -> None:
        self._hook.observe_run(ctx=ctx, result=result)
