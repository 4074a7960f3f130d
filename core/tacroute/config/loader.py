"""Parse and validate a config file into a :class:`~tacroute.config.model.Config`.

Reading uses the standard library's ``tomllib``, large files a faster parser
that gives the same values (:mod:`~tacroute.config.tomlread`), and a file read
before with the same text its cached document (:mod:`~tacroute.config.doccache`;
``tomllib`` is then not even imported); line numbers for
error messages are looked up in the text only when there is an error. Everything is
checked in one pass, so one run of ``tacroute config validate`` shows every
problem: the loader's own tables (``[providers]``: :mod:`~tacroute.config.providers`,
``[routing]`` and its rules: :mod:`~tacroute.config.rules`, ``[llm]``) and
every config section a layer or plugin registered (:mod:`~tacroute.config.sections`),
whose typed values the Config carries.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacroute.clock import HourClock
from tacroute.config.checker import Checker, format_key, value_name
from tacroute.config.model import Config
from tacroute.config.providers import load_providers
from tacroute.config.rules import RULE_KEYS, load_rules
from tacroute.config.schema import SectionContext
from tacroute.config.sections import all_sections, check_sections, known_tables
from tacroute.config.templates import PLACEHOLDERS, template_fields
from tacroute.config.unknown import warn_unknown_tables
from tacroute.errors import ConfigError
from tacroute.types import CompileContext

if TYPE_CHECKING:
    import tomllib
    from datetime import tzinfo

__all__ = [
    "PLACEHOLDERS",
    "RULE_KEYS",
    "format_key",
    "load_config",
    "parse_config",
    "template_fields",
]

_ROUTING_KEYS: dict[str, tuple[type, ...]] = {
    "enabled": (bool,),
    "default_provider": (str,),
    "default_model": (str,),
    "timezone": (str,),
    "rules": (list,),
}


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
    return parse_config(text, found, registry=registry, cache=True)


def parse_config(text: str, path: Path | None = None, *, registry: Any = None,
                 cache: bool = False) -> Config:
    """Validate TOML ``text`` (from ``path``, for messages) into a Config.

    ``cache``: ``text`` is the content of the file ``path``, whose parsed document may come
    from (and, once the config validated, goes to) :mod:`~tacroute.config.doccache`.
    """
    if registry is None:
        from tacroute.plugins import get_registry

        registry = get_registry()
    from tacroute.config.doccache import cached_doc, dump_doc, enabled, save_doc

    with _collector_paused():
        key = os.path.abspath(path) if cache and path is not None and enabled() else None
        doc = cached_doc(text, key) if key is not None else None
        unsaved: bytes | None = None
        if doc is None:
            doc = _read(text, path)
            if key is not None:
                unsaved = dump_doc(text, key, doc)  # before validation touches anything
        config = _validate(text, path, doc, registry)
    if unsaved is not None and key is not None:
        save_doc(key, unsaved)
    return config


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while a config is built.

    Reading and checking a config allocates objects that almost all live on
    (the document, the rules, their compiled conditions), so the collections
    that allocation triggers find nothing to free, and the older generations
    get traversed again and again: ~40 ms of a 5,000-rule load (~130 ms). Left
    as it was when the collector was already off (someone else's choice).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _decode_error() -> type[tomllib.TOMLDecodeError]:
    """``tomllib``'s error class, imported only once something failed to parse."""
    import tomllib

    return tomllib.TOMLDecodeError


def _read(text: str, path: Path | None) -> dict[str, Any]:
    from tacroute.config.tomlread import read_toml

    try:
        return read_toml(text)
    except _decode_error() as exc:
        raise ConfigError(f"not valid TOML: {exc}", path) from exc
    except RecursionError:
        raise ConfigError("not usable TOML: arrays or inline tables nested too deep to read", path) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise ConfigError(f"not usable TOML: {str(exc).split(';')[0]}", path) from None


def _validate(text: str, path: Path | None, doc: dict[str, Any], registry: Any) -> Config:
    chk = Checker()
    sections = all_sections(registry)
    warn_unknown_tables(doc, chk.warn, known_tables(sections))
    providers = load_providers(doc, chk, registry)
    routing = doc.get("routing", {})
    routing_ok = chk.table(routing, ["routing"], _ROUTING_KEYS, "[routing]") if "routing" in doc else {}
    llm = doc.get("llm", {})
    if not isinstance(llm, dict):
        chk.add(["llm"], f"must be a table, not {value_name(llm)}")
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

    base_dir = path.parent if path is not None else Path.cwd()
    values = check_sections(doc, chk, SectionContext(path, base_dir, doc, registry), sections)
    tz, tz_name = _load_timezone(routing_ok, chk)
    ctx = CompileContext(timezone=tz, clock=HourClock(tz))
    rules = load_rules(routing_ok.get("rules", []), chk, registry, ctx, providers,
                       default_provider, default_model)
    # prices are compared for a `cheapest` rule only, and only when all are valid
    if any(r.strategy == "cheapest" for r in rules) and not any(p[0] == "pricing" for p, _ in chk.issues):
        from tacroute.config.targets import check_cheapest_prices

        check_cheapest_prices(rules, doc, chk)

    chk.raise_issues(text, path)
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
        sections=values,
    )


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _load_timezone(routing: Mapping[str, Any], chk: Checker) -> tuple[tzinfo | None, str | None]:
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
