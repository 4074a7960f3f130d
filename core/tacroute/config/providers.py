"""Validate the ``[providers.NAME]`` tables into :class:`ProviderConfig` objects.

A provider's keys are the common ones (:data:`PROVIDER_KEYS`) plus the
options its provider type declares; a type no installed plugin provides is
accepted with any keys and marked unavailable, with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tacroute.config.bounds import count_too_large, seconds_problem
from tacroute.config.checker import Checker, format_key, value_name
from tacroute.config.model import COST_SOURCES, ProviderConfig
from tacroute.config.templates import check_template
from tacroute.providers.availability import executes_in_process

__all__ = ["PROVIDER_KEYS", "load_providers"]

PROVIDER_KEYS: dict[str, tuple[type, ...]] = {
    "type": (str,),
    "enabled": (bool,),
    "command_template": (list,),
    "stdin": (str,),
    "requires_api_key": (bool,),
    "api_key_env": (str,),
    "env": (dict,),
    "timeout": (int, float),
    "output_parser": (str,),
    # Rate-limit awareness (history layer): attempts at once, attempts started per minute.
    "max_concurrent": (int,),
    "rpm": (int,),
    # Whose cost to keep: the provider's ("reported") or tacroute's from the tokens ("estimated").
    "cost_source": (str,),
}


def load_providers(doc: Mapping[str, Any], chk: Checker, registry: Any) -> dict[str, ProviderConfig]:
    """The ``[providers]`` tables of ``doc``, problems reported on ``chk``."""
    tables = doc.get("providers", {})
    if not isinstance(tables, dict):
        chk.add(["providers"], f"must be a table of provider tables, not {value_name(tables)}")
        return {}
    out: dict[str, ProviderConfig] = {}
    for name, table in tables.items():
        path: list[str | int] = ["providers", name]
        if not name.strip():
            chk.add(path, "a provider needs a name: [providers.\"\"] is not one")
            continue
        if not isinstance(table, dict):
            chk.add(path, f"must be a table, not {value_name(table)}")
            continue
        type_name = table.get("type", name)
        ptype = registry.providers.get(type_name) if isinstance(type_name, str) else None
        keys = dict(PROVIDER_KEYS)
        if ptype is not None:
            keys.update({k: v if isinstance(v, tuple) else (v,) for k, v in ptype.options.items()})
        elif isinstance(type_name, str):
            # No plugin for this type: accept any extra keys; the provider is
            # marked unavailable instead of failing the whole config.
            keys.update({k: (object,) for k in table if k not in keys})
            known = ", ".join(sorted(registry.providers)) or "(none installed)"
            chk.warnings.append(
                f"{format_key(path)}: no installed plugin provides provider type {type_name!r} "
                f"(installed types: {known}); the provider is unavailable")
        good = chk.table(table, path, keys, f"[providers.{name}]")
        template = good.get("command_template", list(ptype.default_command) if ptype else [])
        if not all(isinstance(item, str) for item in template):
            chk.add([*path, "command_template"], "must be an array of strings (one per argument)")
            template = []
        stdin = good.get("stdin", ptype.default_stdin if ptype else None)
        for i, item in enumerate(template):
            check_template(item, [*path, "command_template", i], chk)
        if stdin is not None:
            check_template(stdin, [*path, "stdin"], chk)
        if ptype is not None and not template and not executes_in_process(ptype):
            chk.add([*path, "command_template"], "is empty and the provider type has no default "
                    "command: give the argv list, e.g. [\"my-tool\", \"--model\", \"{model}\"]")
        env = good.get("env", {})
        for key, value in env.items():
            if not isinstance(value, str):
                chk.add([*path, "env", key], f"must be a string, not {value_name(value)}")
        timeout = good.get("timeout")
        if timeout is not None and (problem := seconds_problem(timeout, zero_ok=False)):
            chk.add([*path, "timeout"], problem)
            timeout = None
        for limit_key in ("max_concurrent", "rpm"):
            if limit_key in good and good[limit_key] < 1:
                chk.add([*path, limit_key], f"must be a positive integer, not {good[limit_key]!r}")
            elif limit_key in good and (problem := count_too_large(limit_key, good[limit_key])):
                chk.add([*path, limit_key], problem)
        parser = good.get("output_parser", ptype.output_parser if ptype else None)
        if "output_parser" in good and parser not in registry.output_parsers:
            chk.add([*path, "output_parser"], f"unknown output parser {parser!r}; installed: "
                    f"{', '.join(sorted(registry.output_parsers)) or '(none)'}")
        key_env = good.get("api_key_env", ptype.default_api_key_env if ptype else None)
        requires_key = good.get("requires_api_key", key_env is not None)
        if requires_key and not key_env:
            chk.add([*path, "api_key_env"], "must name the environment variable holding the API "
                    "key when requires_api_key is true")
        cost_source = good.get("cost_source")
        if cost_source is not None and cost_source not in COST_SOURCES:
            chk.add([*path, "cost_source"], f"must be one of {', '.join(map(repr, COST_SOURCES))}, "
                    f"not {cost_source!r}")
            cost_source = None
        options = {k: v for k, v in good.items() if k not in PROVIDER_KEYS}
        out[name] = ProviderConfig(
            name=name,
            type=type_name if isinstance(type_name, str) else name,
            enabled=good.get("enabled", True),
            command_template=tuple(template),
            stdin=stdin,
            requires_api_key=bool(requires_key),
            api_key_env=key_env,
            env={k: v for k, v in env.items() if isinstance(v, str)},
            timeout=float(timeout) if timeout is not None and timeout > 0 else None,
            output_parser=parser,
            options=options,
            type_missing=ptype is None,
            max_concurrent=good["max_concurrent"] if good.get("max_concurrent", 0) >= 1 else None,
            rpm=good["rpm"] if good.get("rpm", 0) >= 1 else None,
            cost_source=cost_source,
        )
    return out
