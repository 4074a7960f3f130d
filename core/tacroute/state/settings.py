"""The ``[state]`` table: where the gate's state and the fleet aggregates live.

.. code-block:: toml

    [state]
    backend = "redis"          # default "sqlite": this machine's history database only
    timeout_ms = 200           # longest wait for one call (connect and read)
    retry_s = 5                # after a failure, try the backend again at most this often
    lease_ttl_s = 30           # a slot not renewed for this long is free again
    # and the keys the backend type reads (tacroute-redis: url, prefix, password_env, ...)

:func:`check_state` is the one check of the table (the config loader calls it, so
``tacroute config validate`` reports it); :func:`load_state_settings` reads it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    from tacroute.config.model import Config
    from tacroute.state.api import StateBackendType

__all__ = ["BUILTIN", "COMMON_KEYS", "StateSettings", "check_state", "load_state_settings"]

#: The embedded backend, always there.
BUILTIN = "sqlite"
COMMON_KEYS: dict[str, tuple[type, ...]] = {
    "backend": (str,), "timeout_ms": (int, float), "retry_s": (int, float), "lease_ttl_s": (int, float),
}
_RANGES = {"timeout_ms": (1.0, 60_000.0), "retry_s": (0.0, 3600.0), "lease_ttl_s": (1.0, 86_400.0)}


class StateSettings(NamedTuple):
    """The validated ``[state]`` table; ``options`` holds the backend type's own keys."""

    backend: str = BUILTIN
    timeout_s: float = 0.2
    retry_s: float = 5.0
    lease_ttl_s: float = 30.0
    options: Mapping[str, Any] = {}


def check_state(value: Any, add: Callable[[list[str | int], str], None],
                backends: Mapping[str, StateBackendType]) -> StateSettings:
    """Check a document's ``[state]`` table, ``add(key_path, message)`` per problem; the settings
    read from what is valid. ``backends``: the registered backend types."""
    if not isinstance(value, dict):
        add(["state"], f"must be a table, not {type(value).__name__}")
        return StateSettings()
    name = value.get("backend", BUILTIN)
    kind = backends.get(name) if isinstance(name, str) else None
    if not isinstance(name, str) or (name != BUILTIN and kind is None):
        known = ", ".join(sorted({BUILTIN, *backends}))
        add(["state", "backend"], f"unknown state backend {name!r}; installed: {known}"
            + (" (install tacroute-redis for redis)" if name == "redis" else ""))
        return StateSettings()
    allowed = {**COMMON_KEYS, **(kind.keys if kind is not None else {})}
    values: dict[str, Any] = {}
    for key, item in value.items():
        want = allowed.get(key)
        if want is None:
            add(["state", key], f"unknown key in [state] for backend {name!r}; valid keys are: "
                f"{', '.join(sorted(allowed))}")
        elif (isinstance(item, bool) and bool not in want) or not isinstance(item, want):
            add(["state", key], f"has the wrong type: {item!r}")
        elif key in _RANGES and not (isinstance(item, (int, float)) and math.isfinite(item)
                                     and _RANGES[key][0] <= item <= _RANGES[key][1]):
            low, high = _RANGES[key]
            add(["state", key], f"must be between {low:g} and {high:g}, not {item!r}")
        else:
            values[key] = item
    if kind is not None:
        for key, message in kind.check(values):
            add(["state", key], message)
    options = {k: v for k, v in values.items() if k not in COMMON_KEYS}
    return StateSettings(name, float(values.get("timeout_ms", 200)) / 1000, float(values.get("retry_s", 5.0)),
                         float(values.get("lease_ttl_s", 30.0)), options)


def load_state_settings(config: Config) -> StateSettings:
    """The ``[state]`` settings of a loaded config (checked once, when it loaded)."""
    settings: StateSettings = config.section("state")
    return settings
