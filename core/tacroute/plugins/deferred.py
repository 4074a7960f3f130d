"""Plugins loaded when first used: ``tacroute route`` imports only the plugins its config uses.

After a registry has loaded a plugin, its *manifest*
(:mod:`tacroute.plugins.manifest`) is kept with the entry-point cache (per
``sys.path`` layout). The next registry *defers* a plugin whose manifest
still holds and says it only registers things (providers, condition types,
output parsers, state backends, commands): it loads when one of its names is
first looked up. Every deferred plugin loads as soon as anything enumerates
what the registry holds, looks up a name no manifest knows (so a misspelt
condition still lists every installed type), or adds the plugins' commands.

Never deferred: a plugin with other hooks (``observe_*``) or config sections,
or whose module changed since; and none at all while any enabled plugin has no
manifest (the first start after an install, or a plugin whose load failed: it
is reported at every start, as before) or two manifests claim the same name.
``TACROUTE_NO_PLUGIN_CACHE=1`` loads every plugin at start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from tacroute.plugins.discovery import save_manifests
from tacroute.plugins.info import PluginInfo
from tacroute.plugins.manifest import KINDS, Manifest, stamp

if TYPE_CHECKING:
    from _collections_abc import dict_items, dict_keys, dict_values

    import pluggy

    from tacroute.plugins.discovery import EntryPointInfo

__all__ = ["DeferredPlugins", "KindTable"]

V = TypeVar("V")
T = TypeVar("T")


class KindTable(dict[str, V]):
    """One kind of registered thing, by name: a dict whose look-ups (``get``, ``[]``, ``in``)
    load the deferred plugin that provides the name (all of them for a name none claims), and
    whose enumeration (iter, ``len``, keys/values/items, copy, repr) loads every one first."""

    __slots__ = ("_kind", "_loader")

    def __init__(self, loader: DeferredPlugins, kind: str) -> None:
        super().__init__()
        self._loader = loader
        self._kind = kind

    def _find(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        return isinstance(key, str) and self._loader.want(self._kind, key) and dict.__contains__(self, key)

    def __contains__(self, key: object) -> bool:
        return self._find(key)

    def __getitem__(self, key: str) -> V:
        self._find(key)
        return dict.__getitem__(self, key)

    @overload
    def get(self, key: str, default: None = None, /) -> V | None: ...
    @overload
    def get(self, key: str, default: V, /) -> V: ...
    @overload
    def get(self, key: str, default: T, /) -> V | T: ...

    def get(self, key: str, default: Any = None, /) -> Any:
        return dict.__getitem__(self, key) if self._find(key) else default

    def __iter__(self) -> Iterator[str]:
        self._loader.complete()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._loader.complete()
        return dict.__len__(self)

    def keys(self) -> dict_keys[str, V]:
        self._loader.complete()
        return dict.keys(self)

    def values(self) -> dict_values[str, V]:
        self._loader.complete()
        return dict.values(self)

    def items(self) -> dict_items[str, V]:
        self._loader.complete()
        return dict.items(self)

    def copy(self) -> dict[str, V]:
        self._loader.complete()
        return dict(dict.items(self))

    def __repr__(self) -> str:
        self._loader.complete()
        return dict.__repr__(self)


class DeferredPlugins:
    """The registry's look-ups and its loading of deferred plugins (mixed into
    :class:`~tacroute.plugins.registry.Registry`, which supplies the rest)."""

    pm: pluggy.PluginManager
    plugins: dict[str, PluginInfo]

    def _init_deferred(self) -> None:
        #: Deferred plugins (loaded when first used), what each provides, and whether lookups
        #: may load them yet (not while the registry is being built).
        self._deferred: dict[str, EntryPointInfo] = {}
        self._waiting: dict[tuple[str, str], str] = {}
        self._ready = False
        self._loading = threading.RLock()
        #: The manifests kept in the entry-point cache (None: not learned, as for explicit plugins)
        #: and the entry-point value of each plugin loaded.
        self._manifests: dict[str, Any] | None = None
        self._values: dict[str, str] = {}

    if TYPE_CHECKING:  # the registry's own
        def _fail(self, info: PluginInfo, message: str, exc: BaseException | None) -> None: ...
        def _register_all(self, loaded: list[tuple[object, PluginInfo]], refused: bool = ...,
                          later: bool = ...) -> None: ...
        def _registrar(self, kind: str, target: dict[str, Any]) -> Callable[[Any], None]: ...

    def _register_later(self, later: set[str]) -> None:
        """Call the register hooks of the plugins ``later`` (deferred, registered with pluggy
        just now) only, through pluggy's subset caller."""
        new = [p for p in (self.pm.get_plugin(name) for name in later) if p is not None]
        hooks = {caller.name for p in new for caller in self.pm.get_hookcallers(p) or ()}
        others = [p for p in self.pm.get_plugins() if p not in new]
        for kind in KINDS:  # add_commands loads every deferred plugin first: no register_commands here
            if f"register_{kind}" in hooks:
                caller = self.pm.subset_hook_caller(f"register_{kind}", others)
                caller(register=self._registrar(kind, getattr(self, kind)))

    def _defer(self, ep: EntryPointInfo, manifest: Manifest) -> None:
        self._deferred[ep.name] = ep
        self._waiting[("plugins", ep.name)] = ep.name
        for kind, names in manifest.provides.items():
            for name in names:
                self._waiting[(kind, name)] = ep.name

    def want(self, kind: str, name: str) -> bool:
        """Load the deferred plugin that provides ``name`` of ``kind`` (every deferred plugin
        when none claims it); True when anything was loaded. For the tables' look-ups."""
        if not self._deferred or not self._ready:
            return False
        table = getattr(self, kind)
        with self._loading:
            if dict.__contains__(table, name):
                return True  # another thread loaded it meanwhile
            owner = self._waiting.get((kind, name))
            if owner in self._deferred:
                self._load_deferred([owner])
            # A name its claimed owner did not register after all (its manifest went stale in
            # a way its stamp missed) is looked for everywhere, as an unknown name is.
            if not dict.__contains__(table, name):
                self._load_deferred(list(self._deferred))
        return True

    def complete(self) -> None:
        """Load every deferred plugin (what enumerating a table, or ``tacroute plugins``, needs)."""
        if self._deferred and self._ready:
            with self._loading:
                self._load_deferred(list(self._deferred))

    @property
    def deferred(self) -> list[str]:
        """The entry-point names of the plugins not loaded yet (loaded when first used)."""
        return list(self._deferred)

    def _load_deferred(self, names: list[str | None]) -> None:
        loaded: list[tuple[object, PluginInfo]] = []
        for name in names:
            ep = self._deferred.pop(name, None) if name is not None else None
            if ep is None:
                continue
            info = PluginInfo(ep.name, ep.dist, ep.version)
            self.plugins[ep.name] = info
            try:
                loaded.append((ep.load(), info))
            except Exception as exc:  # noqa: BLE001 - as in load(): reported, skipped
                self._fail(info, f"cannot be loaded: {type(exc).__name__}: {exc}", exc)
                continue
            self._values[ep.name] = ep.value
        if loaded:
            self._register_all(loaded, later=True)
        self._remember([name for name in names if name is not None])

    def _remember(self, names: Iterable[str] | None = None) -> None:
        """Keep the manifests of the plugins loaded (``names``: of these only) with the
        entry-point cache, when they changed: what lets the next start defer them."""
        if self._manifests is None:
            return
        rows = dict(self._manifests)
        for name in self._values if names is None else names:
            value = self._values.get(name, "")
            info = dict.get(self.plugins, name)
            plugin = self.pm.get_plugin(name)
            if info is None or info.error or plugin is None:
                rows.pop(name, None)  # loaded at every start until it loads cleanly
                continue
            hooks = [caller.name for caller in self.pm.get_hookcallers(plugin) or ()]
            rows[name] = Manifest(value, {kind: getattr(info, kind) for kind in KINDS}, hooks,
                                  stamp(value)).row()
        if rows != self._manifests:
            self._manifests = rows
            save_manifests(rows)

    # ---------------------------------------------------------------------- look-ups
    def observer_hooks(self, name: str) -> list[str]:
        """The observer hooks (``observe_*``) plugin ``name`` implements."""
        plugin = self.pm.get_plugin(name)
        callers = self.pm.get_hookcallers(plugin) if plugin is not None else None
        return sorted(h.name for h in callers or () if h.name.startswith("observe_"))

    def description(self, kind: str, name: str) -> str:
        """The one-line ``description`` of the ``kind`` (``providers``, ``conditions``,
        ``output_parsers``) registered as ``name``; empty when it has none."""
        target: Mapping[str, Any] = getattr(self, kind)
        return str(getattr(target.get(name), "description", "") or "")

    def condition_provider_hint(self, name: str) -> str | None:
        """Which installed-but-disabled plugin would provide condition ``name``."""
        info = self.plugins.get(name)
        if info is not None and (info.disabled or info.error):
            return info.distribution or info.name
        return None
