"""Edit the rules of a config file with tomlkit, keeping everything else as it was.

Comments, order and formatting outside the edited rule stay byte-for-byte the
same. Every edit is validated (the edited text must load) before the file is
replaced, atomically.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from tacroute.config.loader import parse_config
from tacroute.errors import ConfigError, UsageError

__all__ = ["add_rule", "parse_condition", "remove_rule", "set_rule_enabled"]


def parse_condition(text: str) -> tuple[str, Any]:
    """``retry_count={ gte = 1 }`` -> ("retry_count", {"gte": 1}); bare words are strings."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"a condition is NAME=VALUE (VALUE in TOML), got {text!r}")
    try:
        value: Any = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


def _read(path: Path) -> tuple[str, tomlkit.TOMLDocument]:
    text = path.read_text(encoding="utf-8")
    try:
        return text, tomlkit.parse(text)
    except Exception as exc:  # tomlkit raises its own ParseError subclasses
        raise ConfigError(f"not valid TOML: {exc}", path) from exc


def _rules(doc: tomlkit.TOMLDocument, path: Path, create: bool = False) -> AoT:
    routing = doc.get("routing")
    if routing is None:
        if not create:
            raise UsageError(f"{path} has no [routing] table")
        routing = tomlkit.table()
        doc["routing"] = routing
    rules = routing.get("rules")
    if rules is None:
        if not create:
            raise UsageError(f"{path} has no routing rules")
        rules = tomlkit.aot()
        routing["rules"] = rules
    if not isinstance(rules, AoT):
        raise UsageError(f"{path}: routing.rules is not written as [[routing.rules]] tables; "
                         "edit it by hand")
    return rules


def _find(rules: AoT, name: str, path: Path) -> int:
    for i, table in enumerate(rules):
        if table.get("name") == name:
            return i
    names = ", ".join(str(t.get("name")) for t in rules)
    raise UsageError(f"no rule named {name!r} in {path} (rules: {names or 'none'})")


def _write(path: Path, doc: tomlkit.TOMLDocument, registry: Any) -> None:
    text = tomlkit.dumps(doc)
    parse_config(text, path, registry=registry)  # refuse to write a config that will not load
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_rule(path: Path, name: str, *, priority: int, model: str | None, provider: str | None,
             conditions: Mapping[str, Any], enabled: bool = True, registry: Any = None) -> None:
    """Append a ``[[routing.rules]]`` table."""
    _, doc = _read(path)
    rules = _rules(doc, path, create=True)
    if any(t.get("name") == name for t in rules):
        raise UsageError(f"a rule named {name!r} already exists in {path}")
    table: Table = tomlkit.table()
    table["name"] = name
    table["priority"] = priority
    inline = tomlkit.inline_table()
    inline.update(conditions)
    table["conditions"] = inline
    if provider is not None:
        table["provider"] = provider
    if model is not None:
        table["model"] = model
    if not enabled:
        table["enabled"] = False
    rules.append(table)
    _write(path, doc, registry)


def remove_rule(path: Path, name: str, registry: Any = None) -> None:
    _, doc = _read(path)
    rules = _rules(doc, path)
    index = _find(rules, name, path)
    del rules[index]
    _write(path, doc, registry)


def set_rule_enabled(path: Path, name: str, enabled: bool, registry: Any = None) -> bool:
    """Enable or disable a rule; False when it already was."""
    _, doc = _read(path)
    rules = _rules(doc, path)
    table = rules[_find(rules, name, path)]
    if bool(table.get("enabled", True)) == enabled:
        return False
    table["enabled"] = enabled
    _write(path, doc, registry)
    return True
