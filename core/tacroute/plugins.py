"""Plugin discovery and the registry of what plugins provide.

Loading is lazy (the first :func:`get_registry` call), idempotent, and never a
side effect of importing tacroute. Each entry point of the ``tacroute`` group is
loaded on its own and each plugin's register hooks are called on their own, so
one broken plugin is reported once on stderr, with its distribution name, and
skipped: the rest of tacroute keeps working. ``TACROUTE_STRICT_PLUGINS=1``
re-raises instead, for plugin authors.

Environment:

``TACROUTE_DISABLE_PLUGINS=a,b``
    entry-point (or distribution) names not to load.
``TACROUTE_LOAD_PLUGINS=a,b``
    load only these (an allow-list).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

from tacroute import hookspecs
from tacroute.errors import DuplicateNameError, PluginError

if TYPE_CHECKING:
    from importlib import metadata

    from tacroute.outcomes import OutputParserFactory
    from tacroute.types import ConditionType, ProviderType

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "Registry",
    "get_registry",
    "make_plugin_manager",
    "reset_registry",
]

ENTRY_POINT_GROUP = "tacroute"


class PluginInfo:
    """What ``tacroute plugins`` shows for one plugin."""

    __slots__ = ("commands", "conditions", "disabled", "distribution", "error", "name",
                 "output_parsers", "providers", "version")

    def __init__(self, name: str, distribution: str | None = None, version: str | None = None) -> None:
        self.name = name
        self.distribution = distribution
        self.version = version
        self.providers: list[str] = []
        self.conditions: list[str] = []
        self.output_parsers: list[str] = []
        self.commands: list[str] = []
        self.error: str | None = None
        self.disabled = False

    def __repr__(self) -> str:
        return f"PluginInfo({self.name!r}, distribution={self.distribution!r}, error={self.error!r})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "providers": self.providers,
            "conditions": self.conditions,
            "output_parsers": self.output_parsers,
            "commands": self.commands,
            "error": self.error,
            "disabled": self.disabled,
        }


def make_plugin_manager() -> pluggy.PluginManager:
    """The one factory for a tacroute plugin manager (with no plugins yet)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def _env_list(env: Mapping[str, str], key: str) -> set[str] | None:
    raw = env.get(key)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def _strict(env: Mapping[str, str]) -> bool:
    return env.get("TACROUTE_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


class Registry:
    """Everything the loaded plugins registered, with provenance.

    Build one with :meth:`load` (entry points, the normal way) or
    :meth:`from_plugins` (explicit plugin objects, for tests and embedding).
    """

    def __init__(self, pm: pluggy.PluginManager, env: Mapping[str, str] | None = None) -> None:
        self.pm = pm
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.providers: dict[str, ProviderType] = {}
        self.conditions: dict[str, ConditionType] = {}
        self.output_parsers: dict[str, OutputParserFactory] = {}
        self.plugins: dict[str, PluginInfo] = {}
        self._commands_added = False
        self._reported: set[str] = set()

    # ------------------------------------------------------------------ building
    @classmethod
    def load(cls, env: Mapping[str, str] | None = None,
             entry_points: Iterable[metadata.EntryPoint] | None = None) -> Registry:
        """Load the plugins of the ``tacroute`` entry-point group."""
        reg = cls(make_plugin_manager(), env)
        if entry_points is None:
            found = discover_entry_points()
        else:
            found = [_EntryPoint.of(ep) for ep in entry_points]
        allow = _env_list(reg.env, "TACROUTE_LOAD_PLUGINS")
        block = _env_list(reg.env, "TACROUTE_DISABLE_PLUGINS") or set()
        for ep in found:
            dist_name = ep.dist
            info = PluginInfo(ep.name, dist_name, ep.version)
            names = {ep.name, dist_name} - {None}
            if names & block or (allow is not None and not names & allow):
                info.disabled = True
                reg.plugins.setdefault(ep.name, info)
                continue
            if ep.name in reg.plugins and not reg.plugins[ep.name].disabled:
                reg._fail(info, f"entry point name {ep.name!r} is also used by "
                          f"{reg.plugins[ep.name].distribution}", None)
                continue
            try:
                obj = ep.load()
                reg.pm.register(obj, name=ep.name)
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break tacroute
                reg._fail(info, f"cannot be loaded: {type(exc).__name__}: {exc}", exc)
                continue
            reg.plugins[ep.name] = info
        reg._finish()
        return reg

    @classmethod
    def from_plugins(cls, plugins: Iterable[object], env: Mapping[str, str] | None = None) -> Registry:
        """A registry of exactly these plugin objects (no entry points)."""
        reg = cls(make_plugin_manager(), {} if env is None else env)
        for i, plugin in enumerate(plugins):
            name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{i}"
            reg.pm.register(plugin, name=name)
            reg.plugins[name] = PluginInfo(name)
        reg._finish()
        return reg

    def _finish(self) -> None:
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            bad = getattr(exc, "plugin", None)
            name = self.pm.get_name(bad) if bad is not None else None
            if name is None:
                raise
            info = self.plugins.get(name, PluginInfo(name))
            self.pm.unregister(bad)
            self._fail(info, f"implements an unknown hook: {exc}", exc)
            self._finish()
            return
        self._call_register("register_conditions", self.conditions, "conditions", keyed=True)
        self._call_register("register_providers", self.providers, "providers", keyed=True)
        self._call_register("register_output_parsers", self.output_parsers, "output_parsers", keyed=False)

    def _call_register(self, hook_name: str, target: dict[str, Any], kind: str, keyed: bool) -> None:
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            plugin_name = impl.plugin_name
            info = self.plugins.setdefault(plugin_name, PluginInfo(plugin_name))
            if info.error:
                continue
            added: list[str] = []

            def register(*args: Any, _added: list[str] = added, _plugin: str = plugin_name) -> None:
                if keyed:
                    (item,) = args
                    name = getattr(item, "name", "")
                else:
                    name, item = args
                if not isinstance(name, str) or not name:
                    raise PluginError(f"{kind[:-1]} registered without a name: {item!r}")
                if name in target:
                    owner = self._owner(kind, name)
                    raise DuplicateNameError(
                        f"{kind[:-1].replace('_', ' ')} {name!r} is registered by both "
                        f"plugin {owner!r} and plugin {_plugin!r}"
                    )
                target[name] = item
                _added.append(name)

            try:
                impl.function(register=register)
            except Exception as exc:  # noqa: BLE001
                for name in added:
                    target.pop(name, None)
                self._fail(info, f"{hook_name} failed: {type(exc).__name__}: {exc}", exc)
                continue
            getattr(info, kind).extend(added)

    def _owner(self, kind: str, name: str) -> str:
        for info in self.plugins.values():
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
            dist = f" (distribution {info.distribution})" if info.distribution else ""
            print(f"tacroute: skipping plugin {info.name!r}{dist}: {message}", file=sys.stderr)

    def _drop(self, name: str) -> None:
        info = self.plugins.get(name)
        if info is not None:
            for kind, target in (("providers", self.providers), ("conditions", self.conditions),
                                 ("output_parsers", self.output_parsers)):
                for item in getattr(info, kind):
                    target.pop(item, None)
                getattr(info, kind).clear()
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)

    # ------------------------------------------------------------------- commands
    def add_commands(self, cli: Any) -> None:
        """Call ``register_commands`` once, each plugin on its own."""
        if self._commands_added:
            return
        self._commands_added = True
        from tacroute.cli import _groups  # sub-commands plugins add to built-in groups

        for impl in self.pm.hook.register_commands.get_hookimpls():
            info = self.plugins.setdefault(impl.plugin_name, PluginInfo(impl.plugin_name))
            before = set(cli.commands)
            sub_mark = _groups.mark()
            try:
                impl.function(cli=cli)
            except Exception as exc:  # noqa: BLE001
                for name in set(cli.commands) - before:
                    cli.commands.pop(name, None)
                _groups.remove_added(sub_mark)
                self._fail(info, f"register_commands failed: {type(exc).__name__}: {exc}", exc)
                continue
            info.commands.extend(sorted(set(cli.commands) - before) + _groups.added_since(sub_mark))

    # -------------------------------------------------------------------- observers
    def observer_hooks(self, name: str) -> list[str]:
        """The observer hooks (``observe_*``) plugin ``name`` implements."""
        plugin = self.pm.get_plugin(name)
        callers = self.pm.get_hookcallers(plugin) if plugin is not None else None
        return sorted(h.name for h in callers or () if h.name.startswith("observe_"))

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call an observer hook on every plugin; a failing observer is reported, not raised."""
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            try:
                impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception as exc:
                if _strict(self.env):
                    raise
                print(f"tacroute: plugin {impl.plugin_name!r} failed in {hook_name}: "
                      f"{type(exc).__name__}: {exc}", file=sys.stderr)

    # ---------------------------------------------------------------------- lookup
    def condition_provider_hint(self, name: str) -> str | None:
        """Which installed-but-disabled plugin would provide condition ``name``."""
        info = self.plugins.get(name)
        if info is not None and (info.disabled or info.error):
            return info.distribution or info.name
        return None


class _EntryPoint:
    """The part of an entry point tacroute needs; cheap to cache as JSON."""

    __slots__ = ("dist", "name", "value", "version")

    def __init__(self, name: str, value: str, dist: str | None, version: str | None) -> None:
        self.name, self.value, self.dist, self.version = name, value, dist, version

    @classmethod
    def of(cls, ep: metadata.EntryPoint) -> _EntryPoint:
        dist = getattr(ep, "dist", None)
        return cls(ep.name, ep.value, dist.metadata["Name"] if dist is not None else None,
                   dist.version if dist is not None else None)

    def load(self) -> Any:
        import importlib

        module_name, _, attrs = self.value.partition(":")
        obj: Any = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


def _fingerprint() -> str:
    """Changes whenever a distribution is installed or removed on ``sys.path``.

    A folder's mtime changes when an entry is added or removed, which is what
    installing does. The working directory (``""`` on ``sys.path`` for
    ``python -c`` and ``-m``) changes all the time for unrelated reasons, so
    for it the names of the distributions it holds are used instead.
    """
    parts = [sys.prefix]
    cwd = os.getcwd()
    for entry in sys.path:
        try:
            if entry in ("", ".") or entry == cwd:
                names = sorted(e.name for e in os.scandir(entry or ".")
                               if e.name.endswith((".dist-info", ".egg-info", ".egg-link")))
                parts.append(f"{entry}={','.join(names)}")
            else:
                parts.append(f"{entry}={os.stat(entry).st_mtime_ns}")
        except OSError:
            continue
    return "|".join(parts)


def _cache_file() -> str:
    """One cache file per environment, named after its prefix."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in sys.prefix.strip(os.sep))[-150:]
    return os.path.join(base, "tacroute", f"entry-points-{name}.json")


def discover_entry_points() -> list[_EntryPoint]:
    """The ``tacroute`` entry points of the installed distributions.

    Scanning every distribution's metadata costs tens of milliseconds, a lot
    for ``tacroute route``; the result is cached (in the user cache dir, per
    environment) and used while no folder on ``sys.path`` has changed, which
    is what installing or removing a distribution does.
    ``TACROUTE_NO_PLUGIN_CACHE=1`` always scans.
    """
    import json

    use_cache = os.environ.get("TACROUTE_NO_PLUGIN_CACHE", "") in ("", "0")
    fingerprint = _fingerprint()
    path = _cache_file()
    known: dict[str, list[list[str | None]]] = {}
    if use_cache:
        try:
            with open(path, encoding="utf-8") as fh:
                known = json.load(fh)["fingerprints"]
            rows = known.get(fingerprint)
            if rows is not None:
                return [_EntryPoint(*row) for row in rows]  # type: ignore[arg-type]
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            known = {}
    from importlib import metadata

    seen: set[tuple[str, str]] = set()
    found: list[_EntryPoint] = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        item = _EntryPoint.of(ep)
        if (item.name, item.value) not in seen:  # a distribution seen twice on sys.path
            seen.add((item.name, item.value))
            found.append(item)
    if use_cache:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            # One entry per sys.path layout (a console script and ``python -m``
            # differ in sys.path[0]); keep the most recent few.
            known.pop(fingerprint, None)
            known[fingerprint] = [[e.name, e.value, e.dist, e.version] for e in found]
            known = dict(list(known.items())[-8:])
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"fingerprints": known}, fh)
            os.replace(tmp, path)
        except OSError:
            pass  # an unwritable cache only costs speed
    return found


_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, loading plugins on first use."""
    global _registry
    if _registry is None:
        _registry = Registry.load()
    return _registry


def set_registry(registry: Registry | None) -> None:
    """Replace the process-wide registry (tests and embedding)."""
    global _registry
    _registry = registry


def reset_registry() -> None:
    """Forget the loaded plugins; the next :func:`get_registry` loads them again."""
    set_registry(None)


__all__.append("set_registry")

Hook = Callable[..., Any]
