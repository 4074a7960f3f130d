"""Parse and validate a config file into a :class:`~tacroute.config.model.Config`.

Reading uses the standard library's ``tomllib`` (fast); line numbers for error
messages are looked up in the text only when there is an error. Every problem
is collected, so one run of ``tacroute config validate`` shows them all.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacroute.clock import HourClock
from tacroute.config.bounds import count_too_large, seconds_problem
from tacroute.config.model import Config, ProviderConfig, RuleConfig
from tacroute.config.tables import check_estimate, check_pricing
from tacroute.config.targets import check_cheapest_prices, load_targets
from tacroute.config.templates import PLACEHOLDERS, check_template, template_fields
from tacroute.config.unknown import did_you_mean, warn_unknown_tables
from tacroute.errors import ConditionValueError, ConfigError, ConfigIssue
from tacroute.providers.execute import executes_in_process
from tacroute.types import CompileContext, Predicate

if TYPE_CHECKING:
    from datetime import tzinfo

__all__ = [
    "PLACEHOLDERS",
    "RULE_KEYS",
    "format_key",
    "load_config",
    "parse_config",
    "template_fields",
]

_PROVIDER_KEYS: dict[str, tuple[type, ...]] = {
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
}
_ROUTING_KEYS: dict[str, tuple[type, ...]] = {
    "enabled": (bool,),
    "default_provider": (str,),
    "default_model": (str,),
    "timezone": (str,),
    "rules": (list,),
}
#: Keys a rule table may have. Layers that read more keys (targets, strategy)
#: add theirs here.
RULE_KEYS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "priority": (int,),
    "conditions": (dict,),
    "provider": (str,),
    "model": (str,),
    "enabled": (bool,),
    "description": (str,),
    # Several candidates (tacroute.config.targets).
    "targets": (list,),
    "strategy": (str,),
    "requires": (dict,),
}

_TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer", float: "a number",
               list: "an array", dict: "a table"}


def format_key(path: Sequence[str | int]) -> str:
    """``("routing", "rules", 2, "model")`` -> ``routing.rules[2].model``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            needs_quote = not part.replace("-", "").replace("_", "").isalnum()
            text = f'"{part}"' if needs_quote else part
            out += f".{text}" if out else text
    return out


def _type_ok(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def _describe(types: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


class _Checker:
    """Collects issues with their key paths while walking the document."""

    def __init__(self) -> None:
        self.issues: list[tuple[tuple[str | int, ...], str]] = []
        self.warnings: list[str] = []
        #: Warnings about a key path, given file and line when the config is loaded.
        self.located: list[tuple[tuple[str | int, ...], str]] = []

    def warn(self, path: Sequence[str | int], message: str) -> None:
        self.located.append((tuple(path), message))

    def add(self, path: Sequence[str | int], message: str) -> None:
        self.issues.append((tuple(path), message))

    def table(self, value: Any, path: Sequence[str | int], keys: Mapping[str, tuple[type, ...]],
              what: str) -> dict[str, Any]:
        """Check a table's keys and value types; return the valid part."""
        if not isinstance(value, dict):
            self.add(path, f"must be a table, not {_value_name(value)}")
            return {}
        good: dict[str, Any] = {}
        for key, item in value.items():
            if key not in keys:
                self.add([*path, key], f"unknown key in {what}{did_you_mean(key, keys)}; "
                         f"valid keys are: {', '.join(sorted(keys))}")
            elif not _type_ok(item, keys[key]):
                self.add([*path, key], f"must be {_describe(keys[key])}, not {_value_name(item)}")
            else:
                good[key] = item
        return good


def _value_name(value: Any) -> str:
    for t, name in _TYPE_NAMES.items():
        if type(value) is t:
            return f"{name} ({value!r})" if t in (str, int, float, bool) else name
    return type(value).__name__


def load_config(path: str | Path | None = None, *, registry: Any = None,
                start: Path | None = None) -> Config:
    """Find (see :func:`tacroute.config.discover.find_config`), read and validate a config."""
    from tacroute.config.discover import find_config

    found = find_config(path, start=start)
    try:
        text = found.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror or exc}", found) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file is not UTF-8 text: {exc}", found) from exc
    return parse_config(text, found, registry=registry)


def parse_config(text: str, path: Path | None = None, *, registry: Any = None) -> Config:
    """Validate TOML ``text`` (from ``path``, for messages) into a Config."""
    if registry is None:
        from tacroute.plugins import get_registry

        registry = get_registry()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path) from exc
    except RecursionError:
        raise ConfigError("not usable TOML: arrays or inline tables nested too deep to read", path) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise ConfigError(f"not usable TOML: {str(exc).split(';')[0]}", path) from None

    chk = _Checker()
    warn_unknown_tables(doc, chk.warn)
    providers = _load_providers(doc, chk, registry)
    routing = doc.get("routing", {})
    routing_ok = chk.table(routing, ["routing"], _ROUTING_KEYS, "[routing]") if "routing" in doc else {}
    llm = doc.get("llm", {})
    if not isinstance(llm, dict):
        chk.add(["llm"], f"must be a table, not {_value_name(llm)}")
        llm = {}

    default_provider = routing_ok.get("default_provider") or _str_or_none(llm.get("provider"))
    default_model = routing_ok.get("default_model") or _str_or_none(llm.get("model_default"))
    if default_provider is None:
        if len(providers) == 1:
            default_provider = next(iter(providers))
        else:
            chk.add(["routing", "default_provider"],
                    "is not set: set routing.default_provider (or llm.provider) to one of: "
                    f"{', '.join(providers) or '(no providers configured)'}")
    elif default_provider not in providers:
        chk.add(["routing", "default_provider"] if "default_provider" in routing_ok else ["llm", "provider"],
                f"names provider {default_provider!r}, which has no [providers.{default_provider}] table; "
                f"configured providers: {', '.join(providers) or '(none)'}")
    if default_model is None:
        chk.add(["routing", "default_model"], "is not set: set routing.default_model (or llm.model_default)")

    if "history" in doc:  # the history layer's table (tacroute.history.settings)
        from tacroute.history.settings import check_history

        check_history(doc["history"], chk.add)
    if "state" in doc:  # the state seam's table (tacroute.state.settings)
        from tacroute.state.settings import check_state

        check_state(doc["state"], chk.add, getattr(registry, "state_backends", {}))
    tz, tz_name = _load_timezone(routing_ok, chk)
    ctx = CompileContext(timezone=tz, clock=HourClock(tz))
    rules = _load_rules(routing_ok.get("rules", []), chk, registry, ctx, providers,
                        default_provider, default_model)
    if check_pricing(doc, chk):
        check_cheapest_prices(rules, doc, chk)
    check_estimate(doc, chk)

    if chk.located:
        from tacroute.config.locate import locate_all

        where = locate_all(text, [p for p, _ in chk.located])
        chk.warnings.extend(ConfigIssue(format_key(p), msg, line).format(path)
                            for (p, msg), line in zip(chk.located, where))
    if chk.issues:
        from tacroute.config.locate import locate_all

        lines = locate_all(text, [p for p, _ in chk.issues])
        issues = [ConfigIssue(format_key(p), msg, line) for (p, msg), line in zip(chk.issues, lines)]
        raise ConfigError(issues, path)
    assert default_provider is not None and default_model is not None
    return Config(
        path=path,
        providers=providers,
        rules=tuple(rules),
        routing_enabled=bool(routing_ok.get("enabled", False)),
        default_provider=default_provider,
        default_model=default_model,
        timezone=tz,
        timezone_name=tz_name,
        raw=doc,
        warnings=tuple(chk.warnings),
    )


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _load_timezone(routing: Mapping[str, Any], chk: _Checker) -> tuple[tzinfo | None, str | None]:
    name = routing.get("timezone")
    if not name:
        return None, None
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name), name
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        chk.add(["routing", "timezone"], f"unknown time zone {name!r}: use an IANA name such as "
                "'UTC' or 'Europe/Berlin', or leave it out for local time")
        return None, None


def _load_providers(doc: Mapping[str, Any], chk: _Checker, registry: Any) -> dict[str, ProviderConfig]:
    tables = doc.get("providers", {})
    if not isinstance(tables, dict):
        chk.add(["providers"], f"must be a table of provider tables, not {_value_name(tables)}")
        return {}
    out: dict[str, ProviderConfig] = {}
    for name, table in tables.items():
        path: list[str | int] = ["providers", name]
        if not name.strip():
            chk.add(path, "a provider needs a name: [providers.\"\"] is not one")
            continue
        if not isinstance(table, dict):
            chk.add(path, f"must be a table, not {_value_name(table)}")
            continue
        type_name = table.get("type", name)
        ptype = registry.providers.get(type_name) if isinstance(type_name, str) else None
        keys = dict(_PROVIDER_KEYS)
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
                chk.add([*path, "env", key], f"must be a string, not {_value_name(value)}")
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
        options = {k: v for k, v in good.items() if k not in _PROVIDER_KEYS}
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
        )
    return out


def _load_rules(value: Any, chk: _Checker, registry: Any, ctx: CompileContext,
                providers: Mapping[str, ProviderConfig], default_provider: str | None,
                default_model: str | None) -> list[RuleConfig]:
    if not isinstance(value, list):
        return []
    rules: list[RuleConfig] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(value):
        path: list[str | int] = ["routing", "rules", index]
        good = chk.table(table, path, RULE_KEYS, "a routing rule")
        if not isinstance(table, dict):
            continue
        name = good.get("name")
        if name is None:
            if "name" not in table:
                chk.add(path, "has no name: every rule needs a unique name = \"...\"")
            continue
        if not name.strip():
            chk.add([*path, "name"], "must not be empty: every rule needs a unique name = \"...\"")
            continue
        if name in seen:
            chk.add([*path, "name"], f"duplicate rule name {name!r} (also routing.rules[{seen[name]}])")
        seen.setdefault(name, index)
        provider = good.get("provider", default_provider)
        if "provider" in good and provider not in providers:
            chk.add([*path, "provider"], f"unknown provider {provider!r}; configured providers: "
                    f"{', '.join(providers) or '(none)'}")
        model = good.get("model")
        if "model" not in table and not _extra_targets(table):
            chk.add([*path, "model"], f"rule {name!r} has no model: every rule names the model it "
                    "routes to (model = \"...\"), or several in targets = [...]")
        elif model is not None and not model.strip():
            chk.add([*path, "model"], f"rule {name!r} has an empty model: name the model it routes to")
        targets, strategy, requires = load_targets(good, path, chk, providers, default_provider)
        if targets:
            provider, model = targets[0].provider, targets[0].model
        conditions = good.get("conditions", {})
        predicates = _compile_conditions(conditions, [*path, "conditions"], chk, registry, ctx)
        rules.append(RuleConfig(
            name=name,
            priority=good.get("priority", 0),
            provider=provider or "",
            model=model or "",
            conditions=conditions,
            predicates=tuple(predicates),
            enabled=good.get("enabled", True),
            position=index,
            raw=table,
            targets=targets,
            strategy=strategy,
            requires=requires,
        ))
    return rules


def _extra_targets(table: Mapping[str, Any]) -> bool:
    return "targets" in table


def _compile_conditions(conditions: Mapping[str, Any], path: list[str | int], chk: _Checker,
                        registry: Any, ctx: CompileContext) -> list[Predicate]:
    predicates: list[Predicate] = []
    for cname, cvalue in conditions.items():
        ctype = registry.conditions.get(cname)
        if ctype is None:
            known = ", ".join(sorted(registry.conditions)) or "(none installed)"
            hint = registry.condition_provider_hint(cname)
            extra = (f"; plugin {hint!r} would provide it but is disabled or failed to load"
                     if hint else "; install a plugin that provides it")
            chk.add([*path, cname], f"unknown condition type {cname!r} (known: {known}){extra}")
            continue
        try:
            predicates.append(ctype.compile(cvalue, ctx))
        except ConditionValueError as exc:
            chk.add([*path, cname], str(exc))
        except Exception as exc:  # noqa: BLE001 - a plugin bug must not escape as a crash
            chk.add([*path, cname], f"condition plugin failed to compile {cvalue!r}: "
                    f"{type(exc).__name__}: {exc}")
    return predicates
