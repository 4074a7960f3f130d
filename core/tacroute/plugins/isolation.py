"""Per-plugin isolation that keeps pluggy's own calling machinery.

A plugin is not registered with pluggy as it is but through a proxy whose
attributes are its hook implementations, each wrapped so that an exception it
raises goes to a *guard* (reported, the plugin skipped) instead of up through
``pm.hook.NAME(...)``. pluggy still sees the implementation's own options
(``tryfirst``, ``trylast``, ``wrapper``, ``hookwrapper``, ``specname``) and
argument names, so it orders and calls them exactly as it documents: one
broken plugin cannot stop the others, and pluggy's order is honoured.

A wrapper implementation (``wrapper=True`` or the old ``hookwrapper=True``) is
guarded around its own code: if it raises before its ``yield`` the inner
implementations still run; if it raises while handling a normal result the
result stands. An exception it receives from inside (``yield`` raising) is
thrown into it, and what it does with it (re-raise, raise another, return a
result) is pluggy's documented semantics.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager
from typing import Any

import pluggy

from tacroute.errors import PluginError
from tacroute.hookspecs import PROJECT

__all__ = ["Guard", "Isolated", "isolated"]

#: ``guard(plugin_name, hook_name)``: a context manager that reports and
#: swallows an exception raised by that plugin in that hook (or re-raises it,
#: in strict mode).
Guard = Callable[[str, str], AbstractContextManager[None]]


#: pluggy's marker attribute on a hook implementation (``@hookimpl`` sets it).
MARKER = f"{PROJECT}_impl"


class Isolated:
    """What pluggy registers for one plugin: its guarded hook implementations.

    ``dir()`` of a proxy names only those (pluggy registers a plugin by asking
    about every name ``dir()`` gives; the others, ``object``'s dunders, are
    never hook implementations), so registering it asks about nothing else.
    """

    def __init__(self, plugin: object) -> None:
        self.__wrapped_plugin__ = plugin

    def __repr__(self) -> str:
        return f"<isolated {self.__wrapped_plugin__!r}>"

    def __dir__(self) -> list[str]:
        return [name for name in vars(self) if name != "__wrapped_plugin__"]


def module_value_may_be_hook(value: object) -> bool:
    """False when a module global ``value`` cannot be a hook implementation for pluggy.

    A plain function without the marker, or anything that is not a routine
    pluggy binds (bound methods, ``classmethod``, ``staticmethod``); whatever
    this lets through is still pluggy's own decision.
    """
    if isinstance(value, types.FunctionType):
        return getattr(value, MARKER, None) is not None
    return isinstance(value, (types.MethodType, classmethod, staticmethod))


def _candidate_names(plugin: object) -> list[str]:
    names = dir(plugin)
    if not isinstance(plugin, types.ModuleType):
        return names
    values = vars(plugin)
    return [name for name in names if module_value_may_be_hook(values.get(name))]


def isolated(pm: pluggy.PluginManager, plugin: object, plugin_name: str, guard: Guard) -> object:
    """A stand-in for ``plugin`` to register in ``pm`` instead of it."""
    proxy = Isolated(plugin)
    for attr in _candidate_names(plugin):
        opts = pm.parse_hookimpl_opts(plugin, attr)
        if opts is None:
            continue
        call = _wrap(getattr(plugin, attr), plugin_name, attr, guard)
        # The options pluggy found, wherever it found them: ``functools.wraps``
        # copies only the function's own, not a ``staticmethod`` object's.
        setattr(call, MARKER, opts)
        setattr(proxy, attr, call)
    return proxy


def _wrap(function: Callable[..., Any], plugin: str, hook: str, guard: Guard) -> Callable[..., Any]:
    if inspect.isgeneratorfunction(function):
        return _wrap_generator(function, plugin, hook, guard)
    # A non-generator marked ``wrapper=True`` stays a plain function here, so
    # pluggy refuses it at registration as it would without the proxy.

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        with guard(plugin, hook):
            return function(*args, **kwargs)
        return None  # the guard swallowed an exception: no result from this plugin

    return call


def _wrap_generator(function: Callable[..., Generator[Any, Any, Any]], plugin: str, hook: str,
                    guard: Guard) -> Callable[..., Generator[Any, Any, Any]]:
    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        gen: Generator[Any, Any, Any] | None = None
        with guard(plugin, hook):
            started = function(*args, **kwargs)
            try:
                next(started)
            except StopIteration:
                raise PluginError(f"its {hook} wrapper did not yield") from None
            gen = started
        if gen is None:  # it failed before its yield: pass everything through
            return (yield)
        try:
            received = yield
        except BaseException as exc:  # an inner implementation raised: the wrapper decides
            try:
                gen.throw(exc)
            except StopIteration as stop:
                return stop.value
            gen.close()
            raise PluginError(f"plugin {plugin!r}: its {hook} wrapper yielded more than once") from exc
        with guard(plugin, hook):
            try:
                gen.send(received)
            except StopIteration as stop:
                return stop.value
            gen.close()
            raise PluginError(f"its {hook} wrapper yielded more than once")
        return received  # its teardown failed (reported): the inner result stands

    return call
