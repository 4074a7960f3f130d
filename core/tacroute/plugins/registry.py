"""The registry of what the loaded plugins provide, with provenance.

Each entry point of the ``tacroute`` group is loaded on its own, and every
plugin is registered with pluggy through an isolating proxy, so one broken
plugin is reported once on stderr, with its distribution name, and skipped:
the rest of tacroute keeps working. ``TACROUTE_STRICT_PLUGINS=1`` re-raises
instead, for plugin authors.

Environment: ``TACROUTE_DISABLE_PLUGINS=a,b`` (entry-point or distribution
names not to load), ``TACROUTE_LOAD_PLUGINS=a,b`` (load only these). A plugin
that only registers things may load when first used (:mod:`~tacroute.plugins.deferred`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pluggy

from tacroute.errors import DuplicateNameError, PluginError
from tacroute.plugins.deferred import DeferredPlugins, KindTable
from tacroute.plugins.discovery import EntryPointInfo, cached_manifests, discover_entry_points
from tacroute.plugins.hooks import Hooks, make_plugin_manager
from tacroute.plugins.info import CommandLog, PluginInfo, RunningPlugin
from tacroute.plugins.isolation import isolated
from tacroute.plugins.manifest import KINDS, deferrable

if TYPE_CHECKING:
    from importlib import metadata

    import click

    from tacroute.config.schema import ConfigSection
    from tacroute.state.api import StateBackendType
    from tacroute.types import ConditionType, OutputParserType, ProviderType

__all__ = ["CommandLog", "PluginInfo", "Registry"]


#: The plugin whose hook implementation runs on this thread (set by the guard), so a
#: ``register`` callable knows whom a registration belongs to.
_current = RunningPlugin()

#: Each kind's name in messages.
_KINDS = dict(zip(KINDS, ("provider", "condition", "output parser", "config section", "state backend"),
                  strict=True))


def _env_list(env: Mapping[str, str], key: str) -> set[str] | None:
    raw = env.get(key)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def _strict(env: Mapping[str, str]) -> bool:
    return env.get("TACROUTE_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


class Registry(DeferredPlugins):
    """Everything the loaded plugins registered, with provenance.

    Build one with :meth:`load` (entry points, the normal way) or
    :meth:`from_plugins` (explicit plugin objects, for tests and embedding).
    :attr:`hooks` calls the hooks (:class:`~tacroute.plugins.hooks.Hooks`).
    """

    def __init__(self, pm: pluggy.PluginManager, env: Mapping[str, str] | None = None) -> None:
        self.pm = pm
        self.hooks = Hooks(pm)
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.providers: dict[str, ProviderType] = KindTable(self, "providers")
        self.conditions: dict[str, ConditionType] = KindTable(self, "conditions")
        self.output_parsers: dict[str, OutputParserType] = KindTable(self, "output_parsers")
        #: Top-level config tables plugins own (the core's own are in tacroute.config.sections);
        #: a plain dict: a plugin with config sections is never deferred.
        self.config_sections: dict[str, ConfigSection[Any]] = {}
        self.state_backends: dict[str, StateBackendType] = KindTable(self, "state_backends")
        self.plugins: dict[str, PluginInfo] = KindTable(self, "plugins")
        self._init_deferred()
        self._commands_added = False
        self._cli: tuple[click.Group, CommandLog | None] | None = None
        self._reported: set[str] = set()

    # ------------------------------------------------------------------ building
    @classmethod
    def load(cls, env: Mapping[str, str] | None = None,
             entry_points: Iterable[metadata.EntryPoint] | None = None) -> Registry:
        """Load the plugins of the ``tacroute`` entry-point group.

        Discovered entry points (``entry_points`` None) whose manifests allow it
        are deferred until first used; explicit ones are all loaded now."""
        reg = cls(make_plugin_manager(), env)
        if entry_points is None:
            found = discover_entry_points()
            reg._manifests = cached_manifests()
        else:
            found = [EntryPointInfo.of(ep) for ep in entry_points]
        allow = _env_list(reg.env, "TACROUTE_LOAD_PLUGINS")
        block = _env_list(reg.env, "TACROUTE_DISABLE_PLUGINS") or set()
        enabled: list[EntryPointInfo] = []
        for ep in found:
            names = {ep.name, ep.dist} - {None}
            if names & block or (allow is not None and not names & allow):
                info = PluginInfo(ep.name, ep.dist, ep.version)
                info.disabled = True
                reg.plugins.setdefault(ep.name, info)
            else:
                enabled.append(ep)
        waiting = deferrable(enabled, reg._manifests) if reg._manifests is not None else {}
        loaded: list[tuple[object, PluginInfo]] = []
        for ep in enabled:
            info = PluginInfo(ep.name, ep.dist, ep.version)
            known = dict.get(reg.plugins, ep.name)
            if known is not None and not known.disabled:
                reg._fail(info, f"entry point name {ep.name!r} is also used by "
                          f"{known.distribution}", None)
                continue
            if ep.name in waiting:
                reg._defer(ep, waiting[ep.name])
                continue
            try:
                loaded.append((ep.load(), info))
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break tacroute
                reg._fail(info, f"cannot be loaded: {type(exc).__name__}: {exc}", exc)
                continue
            reg.plugins[ep.name] = info
            reg._values[ep.name] = ep.value
        reg._register_all(loaded)
        reg._remember()
        reg._ready = True
        return reg

    @classmethod
    def from_plugins(cls, plugins: Iterable[object], env: Mapping[str, str] | None = None) -> Registry:
        """A registry of exactly these plugin objects (no entry points), called in this order."""
        reg = cls(make_plugin_manager(), {} if env is None else env)
        loaded: list[tuple[object, PluginInfo]] = []
        for i, plugin in enumerate(plugins):
            name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{i}"
            reg.plugins[name] = info = PluginInfo(name)
            loaded.append((plugin, info))
        reg._register_all(loaded, refused=False)
        reg._ready = True
        return reg

    def _register_all(self, loaded: list[tuple[object, PluginInfo]], refused: bool = True,
                      later: bool = False) -> None:
        # pluggy calls the last registered plugin first: registering in reverse
        # makes plain implementations run in plugin order (and the first plugin
        # to register a name keep it); tryfirst/trylast/wrappers reorder them.
        for plugin, info in reversed(loaded):
            try:
                self.register(plugin, info.name)
            except Exception as exc:
                if not refused:
                    raise
                self._fail(info, f"cannot be loaded: {type(exc).__name__}: {exc}", exc)
        self._finish({info.name for _, info in loaded} if later else None)

    def register(self, plugin: object, name: str) -> None:
        """Register ``plugin`` with pluggy under ``name``, each hook implementation guarded.

        Raises :class:`pluggy.PluginValidationError` for an implementation
        pluggy refuses (arguments the hook does not have, a ``wrapper`` that
        is not a generator function).
        """
        self.pm.register(isolated(self.pm, plugin, name, self._guard), name=name)

    def _finish(self, later: set[str] | None = None) -> None:
        """Refuse plugins with unknown hooks, then call the register hooks: of every plugin,
        or (``later``: deferred plugins loaded now) of those only, through pluggy's subset caller."""
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            bad = getattr(exc, "plugin", None)
            name = self.pm.get_name(bad) if bad is not None else None
            if name is None:
                raise
            info = dict.get(self.plugins, name) or PluginInfo(name)
            self.pm.unregister(bad)
            self._fail(info, f"implements an unknown hook: {exc}", exc)
            self._finish(later)
            return
        if later is None:
            self.hooks.register_conditions(self._registrar("conditions", self.conditions))
            self.hooks.register_providers(self._registrar("providers", self.providers))
            self.hooks.register_output_parsers(self._registrar("output_parsers", self.output_parsers))
            self.hooks.register_config_sections(self._registrar("config_sections", self.config_sections))
            self.hooks.register_state_backends(self._registrar("state_backends", self.state_backends))
            return
        self._register_later(later)

    def _registrar(self, kind: str, target: dict[str, Any]) -> Callable[[Any], None]:
        label = _KINDS[kind]

        def register(item: Any, *extra: Any) -> None:
            info = _current.info
            if info is None:
                raise PluginError(f"register a {label} from a register_{kind} hook, not later")
            if extra:
                raise PluginError(f"register() takes one {label} type object (with .name), "
                                  f"not {1 + len(extra)} arguments")
            name = getattr(item, "name", "")
            if not isinstance(name, str) or not name:
                raise PluginError(f"{label} registered without a name: {item!r}")
            from tacroute.config.sections import core_table_names  # the config layer, only when used
            if kind == "config_sections" and name in core_table_names():
                raise DuplicateNameError(f"config section {name!r} is the core's [{name}] table; "
                                         f"plugin {info.name!r} must name its table differently")
            if dict.__contains__(target, name):
                raise DuplicateNameError(f"{label} {name!r} is registered by both plugin "
                                         f"{self._owner(kind, name)!r} and plugin {info.name!r}")
            target[name] = item
            getattr(info, kind).append(name)

        return register

    @contextmanager
    def _guard(self, plugin: str, hook: str) -> Iterator[None]:
        """Around every hook implementation: who is running, and what happens if it raises."""
        info = self.plugins.setdefault(plugin, PluginInfo(plugin))  # dict's: never loads anything
        outer, _current.info = _current.info, info
        commands = self._cli if hook == "register_commands" else None
        before = set(commands[0].commands) if commands else set()
        mark = commands[1].mark() if commands and commands[1] else 0
        try:
            yield
        except Exception as exc:
            if commands:
                for name in set(commands[0].commands) - before:
                    commands[0].commands.pop(name, None)
                if commands[1]:
                    commands[1].remove_added(mark)
            if hook.startswith("register_"):
                self._fail(info, f"{hook} failed: {type(exc).__name__}: {exc}", exc)
            elif _strict(self.env):
                raise
            else:
                print(f"tacroute: plugin {plugin!r} failed in {hook}: {type(exc).__name__}: {exc}",
                      file=sys.stderr)
        else:
            if commands:
                info.commands.extend(sorted(set(commands[0].commands) - before))
                if commands[1]:
                    info.commands.extend(commands[1].added_since(mark))
        finally:
            _current.info = outer

    def _owner(self, kind: str, name: str) -> str:
        for info in dict.values(self.plugins):
            if name in getattr(info, kind):
                return info.name
        return "?"

    def _fail(self, info: PluginInfo, message: str, exc: BaseException | None) -> None:
        info.error = message
        self.plugins[info.name] = info
        if _strict(self.env):
            if exc is not None:
                raise PluginError(f"plugin {info.name!r}: {message}") from exc
            raise PluginError(f"plugin {info.name!r}: {message}")
        self._drop(info.name)
        key = f"{info.name}:{message}"
        if key not in self._reported:
            self._reported.add(key)
            print(info.skip_line(), file=sys.stderr)

    def _drop(self, name: str) -> None:
        info = dict.get(self.plugins, name)
        for kind in KINDS if info is not None else ():
            for item in getattr(info, kind):
                getattr(self, kind).pop(item, None)
            getattr(info, kind).clear()
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)

    # ------------------------------------------------------------------- commands
    def add_commands(self, cli: click.Group, log: CommandLog | None = None) -> None:
        """Call ``register_commands`` once; a failing plugin's commands are taken back.

        ``log`` records sub-commands plugins add to built-in groups (the CLI
        passes its own), so those are credited and taken back too.
        """
        if self._commands_added:
            return
        self.complete()
        self._commands_added = True
        self._cli = (cli, log)
        try:
            self.hooks.register_commands(cli)
        finally:
            self._cli = None
