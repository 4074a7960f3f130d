"""The plugins' top-level commands as ``tacroute --help`` lists them, cached.

Listing the commands means loading every plugin (their modules, pluggy, the
config layer they register sections with): tens of milliseconds for a help
screen. The listing (each command's name, help, short help, hidden and
deprecated flags) and the "skipping plugin" lines of the plugins that failed
are kept in the user cache dir, under a key made of

- the entry points (themselves cached per ``sys.path`` layout, see
  :func:`~tacroute.plugins.discovery.discover_entry_points`: installing or
  removing a distribution changes them),
- ``TACROUTE_LOAD_PLUGINS`` / ``TACROUTE_DISABLE_PLUGINS``,
- the size and modification time of every ``.py`` file in each plugin's
  package folder (an editable install's edits change the listing too).

A hit prints the cached failure lines again, so a broken plugin is still
reported; a plugin command is imported only when it runs.
``TACROUTE_NO_PLUGIN_CACHE=1`` or ``TACROUTE_STRICT_PLUGINS=1`` always loads.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click

    from tacroute.plugins.discovery import EntryPointInfo

__all__ = ["CommandHelp", "plugin_commands"]

#: name -> (help, short_help, hidden, deprecated)
CommandHelp = dict[str, tuple[str | None, str | None, bool, bool]]


def _source_stamp(modules: list[str]) -> list[list[Any]]:
    """(folder or file, number of .py files, their summed sizes, newest mtime) per plugin package."""
    import importlib.util

    stamps: list[list[Any]] = []
    for module in sorted(set(modules)):
        parts = module.split(".")
        try:
            spec = importlib.util.find_spec(parts[0])
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            stamps.append([module, None])
            continue
        if not spec.submodule_search_locations:
            try:
                st = os.stat(spec.origin or "")
                stamps.append([module, spec.origin, 1, st.st_size, st.st_mtime_ns])
            except OSError:
                stamps.append([module, None])
            continue
        # The plugin's own package: ``a`` for ``a`` and ``a.mod``, ``a.b`` for ``a.b.mod``.
        sub = parts[1:-1]
        for loc in spec.submodule_search_locations:
            folder = os.path.join(loc, *sub)
            count = size = newest = 0
            for dirpath, dirnames, filenames in os.walk(folder):
                dirnames[:] = [d for d in dirnames if d != "__pycache__"]
                for name in filenames:
                    if name.endswith(".py"):
                        try:
                            st = os.stat(os.path.join(dirpath, name))
                        except OSError:
                            continue
                        count, size, newest = count + 1, size + st.st_size, max(newest, st.st_mtime_ns)
            stamps.append([module, folder, count, size, newest])
    return stamps


def _key(found: list[EntryPointInfo]) -> str:
    rows = [[e.name, e.value, e.dist, e.version] for e in found]
    env = [os.environ.get("TACROUTE_LOAD_PLUGINS"), os.environ.get("TACROUTE_DISABLE_PLUGINS")]
    modules = [e.value.partition(":")[0].strip() for e in found]
    return json.dumps([rows, env, _source_stamp(modules)])


def _cache_file() -> str:
    from tacroute.plugins.discovery import cache_file

    return cache_file("plugin-commands")


def _describe(cli: click.Group, builtin: set[str]) -> CommandHelp:
    return {name: (cmd.help, cmd.short_help, bool(cmd.hidden), bool(getattr(cmd, "deprecated", False)))
            for name, cmd in cli.commands.items() if name not in builtin}


def plugin_commands(cli: click.Group, builtin: set[str], load: Any) -> CommandHelp:
    """The plugins' top-level commands of ``cli`` (not in ``builtin``) for the help screen.

    ``load()`` adds the plugin commands to ``cli`` (loading the plugins); it is
    called on a cache miss, or always when the plugins are loaded already.
    """
    import tacroute.plugins as plugins

    off = (os.environ.get("TACROUTE_NO_PLUGIN_CACHE", "") not in ("", "0")
           or os.environ.get("TACROUTE_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"})
    if off or plugins.loaded():
        load()
        return _describe(cli, builtin)
    from tacroute.plugins.discovery import discover_entry_points

    key = _key(discover_entry_points())
    path = _cache_file()
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if data["key"] == key:
            for line in data["errors"]:
                print(str(line), file=sys.stderr)
            return {str(n): (h, s, bool(hid), bool(dep)) for n, h, s, hid, dep in data["commands"]}
    except (OSError, ValueError, TypeError, KeyError):
        pass
    load()
    found = _describe(cli, builtin)
    errors = [info.skip_line() for info in plugins.get_registry().plugins.values() if info.error]
    from tacroute.paths import write_cache_file

    write_cache_file(path, json.dumps({"key": key, "errors": errors,
                                       "commands": [[n, *v] for n, v in sorted(found.items())]}).encode())
    return found
