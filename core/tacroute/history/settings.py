"""Where the history lives and how cooldowns behave: the ``[history]`` table.

.. code-block:: toml

    [history]
    enabled = true                 # false: record nothing, skip nothing
    path = "state/history.db"      # relative to the config file's folder

    [history.cooldown]
    enabled = true
    failures = 3                   # this many failed attempts of one provider/model ...
    window_s = 600                 # ... within this many seconds ...
    cooldown_s = 300               # ... skip it for this long
    max_cooldown_s = 3600          # no cooldown lasts longer (a provider's Retry-After included)
    error_classes = ["auth", "rate_limit", "overloaded", "timeout", "spawn_failed", "crash",
                     "model_not_found", "permission"]

Without ``path`` the store is ``$TACROUTE_HISTORY``, else
``$XDG_DATA_HOME/tacroute/history.db`` (``~/.local/share`` when unset).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacroute.config.schema import ConfigSection, SectionContext
from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    from tacroute.config.checker import Checker
    from tacroute.config.model import Config

__all__ = ["DEFAULT_COOLDOWN_CLASSES", "HISTORY_SECTION", "CooldownPolicy", "HistorySettings",
           "check_history", "history_path", "load_settings"]

#: Failures that say something about the provider/model, not about the task:
#: every :class:`tacroute.types.ErrorClass` value but ``bad_request`` (the same
#: task would fail anywhere) and ``cancelled`` (stopped on purpose, never a
#: provider's fault, so not even allowed in the list). Plain strings, which
#: compare equal to the enum.
DEFAULT_COOLDOWN_CLASSES: frozenset[str] = frozenset((
    "auth", "rate_limit", "overloaded", "model_not_found", "timeout", "spawn_failed", "permission",
    "crash"))

# NamedTuples, not dataclasses: this module is imported on ``tacroute route``'s
# start-up path (the plugin entry point), where every millisecond counts.


class CooldownPolicy(NamedTuple):
    """When repeated failures put a provider/model on cooldown (``[history.cooldown]``).

    ``error_classes`` holds :class:`~tacroute.types.ErrorClass` values.
    """

    enabled: bool = True
    failures: int = 3
    window_s: float = 600.0
    cooldown_s: float = 300.0
    error_classes: frozenset[str] = DEFAULT_COOLDOWN_CLASSES
    max_cooldown_s: float = 3600.0


class HistorySettings(NamedTuple):
    """The validated ``[history]`` table."""

    path: Path
    enabled: bool = True
    cooldown: CooldownPolicy = CooldownPolicy()


_HISTORY_KEYS: dict[str, tuple[type, ...]] = {"enabled": (bool,), "path": (str,), "cooldown": (dict,)}
_COOLDOWN_KEYS: dict[str, tuple[type, ...]] = {
    "enabled": (bool,), "failures": (int,), "window_s": (int, float), "cooldown_s": (int, float),
    "max_cooldown_s": (int, float), "error_classes": (list,),
}
#: Longest span any ``[history.cooldown]`` setting may name (a year), and most failures.
MAX_SPAN_S = 365 * 86_400.0
MAX_FAILURES = 1_000_000


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """``$TACROUTE_HISTORY``, else ``$XDG_DATA_HOME/tacroute/history.db``."""
    env = os.environ if env is None else env
    return _default_path(env.get("TACROUTE_HISTORY"), env.get("XDG_DATA_HOME"), env.get("HOME"))


@functools.lru_cache(maxsize=8)
def _default_path(explicit: str | None, data_home: str | None, home: str | None) -> Path:
    # Cached by the variables it depends on: every config load asks (building
    # Paths is most of what checking an absent [history] costs).
    if explicit:
        return Path(explicit).expanduser()
    base = data_home or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "tacroute" / "history.db"


def history_path(config: Config | None, env: Mapping[str, str] | None = None) -> Path:
    """The history database for ``config`` (see the module docs for the order)."""
    return load_settings(config, env).path


def load_settings(config: Config | None, env: Mapping[str, str] | None = None) -> HistorySettings:
    """The checked ``[history]`` of ``config`` (defaults without a config).

    Without a ``path`` in the table the store is found from ``env`` (default:
    the process environment) now, not when the config loaded.
    """
    if config is None:
        return HistorySettings(default_path(env))
    settings: HistorySettings = config.section("history")
    table = config.raw.get("history")
    if not (isinstance(table, dict) and "path" in table):
        settings = settings._replace(path=default_path(env))
    return settings


def check_history(raw: Any, chk: Checker, ctx: SectionContext) -> HistorySettings:
    """Check a ``[history]`` table into :class:`HistorySettings`, reporting problems on ``chk``."""
    table = chk.table(raw, ["history"], _HISTORY_KEYS, "[history]")
    cool_raw = table.get("cooldown", {})
    cool = chk.table(cool_raw, ["history", "cooldown"], _COOLDOWN_KEYS) if cool_raw else {}
    path = default_path()
    if "path" in table:
        if not table["path"].strip():
            chk.add(["history", "path"], "must not be empty: give a file path, or leave it out "
                                          "for the default (~/.local/share/tacroute/history.db)")
        else:
            given = Path(table["path"]).expanduser()
            path = given if given.is_absolute() else ctx.base_dir / given
    policy = _policy(cool, chk)
    return HistorySettings(path, bool(table.get("enabled", True)), policy)


def _policy(cool: Mapping[str, Any], chk: Checker) -> CooldownPolicy:
    base = ["history", "cooldown"]
    values: dict[str, Any] = {}
    if "failures" in cool:
        if cool["failures"] < 1:
            chk.add([*base, "failures"], f"must be at least 1, not {cool['failures']!r}")
        elif cool["failures"] > MAX_FAILURES:
            chk.add([*base, "failures"], f"must be at most {MAX_FAILURES}, not {cool['failures']!r}")
        else:
            values["failures"] = cool["failures"]
    for key in ("window_s", "cooldown_s", "max_cooldown_s"):
        if key in cool:
            if not cool[key] > 0:  # also true for nan
                chk.add([*base, key], f"must be a positive number of seconds, not {cool[key]!r}")
            elif cool[key] > MAX_SPAN_S:
                chk.add([*base, key], f"must be at most {MAX_SPAN_S:.0f} seconds (a year), not {cool[key]!r}")
            else:
                values[key] = float(cool[key])
    if "max_cooldown_s" not in values and values.get("cooldown_s", 0.0) > CooldownPolicy().max_cooldown_s:
        # A config written before max_cooldown_s existed keeps loading: its own
        # cooldown_s is then the longest cooldown.
        values["max_cooldown_s"] = values["cooldown_s"]
    longest = values.get("max_cooldown_s", CooldownPolicy().max_cooldown_s)
    if values.get("cooldown_s", 0.0) > longest:
        chk.add([*base, "cooldown_s"], f"must not exceed max_cooldown_s ({longest:g} s), not "
                                       f"{values['cooldown_s']:g}; raise max_cooldown_s too")
    if "error_classes" in cool:
        from tacroute.types import ErrorClass

        classes: set[str] = set()
        valid = ", ".join(c.value for c in ErrorClass if c is not ErrorClass.CANCELLED)
        for i, item in enumerate(cool["error_classes"]):
            if item == ErrorClass.CANCELLED:
                chk.add([*base, "error_classes", i], "'cancelled' cannot start a cooldown: a "
                        "stopped run is not the provider's fault; remove it")
                continue
            try:
                classes.add(ErrorClass(item).value)
            except ValueError:
                chk.add([*base, "error_classes", i], f"unknown error class {item!r}; valid: {valid}")
        values["error_classes"] = frozenset(classes)
    return CooldownPolicy(enabled=bool(cool.get("enabled", True)), **values)


#: The ``[history]`` table, checked when the config loads.
HISTORY_SECTION: ConfigSection[HistorySettings] = ConfigSection(
    "history", "the history database and cooldowns (tacroute.history)", check_history,
    default=lambda ctx: HistorySettings(default_path()))
