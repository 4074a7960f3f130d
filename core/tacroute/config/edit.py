"""Edit the rules of a config file with tomlkit, keeping everything else as it was.

Comments, order and formatting outside the edited rule stay byte-for-byte the
same; removing a rule removes its own lines and the comment block directly
above it, nothing else (:mod:`tacroute.config.spans`). Every edit holds an
exclusive lock on the file while it reads, checks and writes, so concurrent
edits all land; the edited text must load before the file is replaced,
atomically; a symlinked config stays a symlink and its target is edited
(:mod:`tacroute.config.atomic`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from tacroute.config.atomic import locked_file, replace_text
from tacroute.config.loader import parse_config
from tacroute.config.spans import rule_lines
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


@contextmanager
def _editing(path: Path) -> Iterator[tuple[Path, str, tomlkit.TOMLDocument]]:
    """Lock the config (its target, when ``path`` is a symlink), then read and parse it."""
    with locked_file(path) as target:
        try:
            text = target.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file: {exc.strerror or exc}", path) from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file is not UTF-8 text: {exc}", path) from exc
        try:
            doc = tomlkit.parse(text)
        except Exception as exc:  # tomlkit raises its own ParseError subclasses
            raise ConfigError(f"not valid TOML: {exc}", path) from exc
        yield target, text, doc


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


def _write(target: Path, text: str, shown: Path, registry: Any) -> None:
    parse_config(text, shown, registry=registry)  # refuse to write a config that will not load
    replace_text(target, text)


def add_rule(path: Path, name: str, *, priority: int, model: str, provider: str | None,
             conditions: Mapping[str, Any], enabled: bool = True, registry: Any = None) -> None:
    """Append a ``[[routing.rules]]`` table."""
    with _editing(path) as (target, _, doc):
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
        table["model"] = model
        if not enabled:
            table["enabled"] = False
        rules.append(table)
        _write(target, tomlkit.dumps(doc), path, registry)


def remove_rule(path: Path, name: str, registry: Any = None) -> None:
    """Remove a rule: its own lines and the comment block directly above it."""
    with _editing(path) as (target, text, doc):
        rules = _rules(doc, path)
        index = _find(rules, name, path)
        new_text = _cut_rule(text, index)
        if new_text is None:  # a layout the line scanner does not follow: let tomlkit do it
            del rules[index]
            new_text = tomlkit.dumps(doc)
        _write(target, new_text, path, registry)


def _cut_rule(text: str, index: int) -> str | None:
    """``text`` without rule ``index``'s lines, or None when the cut would change anything else."""
    lines = text.splitlines(keepends=True)
    span = rule_lines(lines, index)
    if span is None:
        return None
    new_text = "".join(lines[:span[0]] + lines[span[1]:])
    try:
        before, after = tomllib.loads(text), tomllib.loads(new_text)
    except tomllib.TOMLDecodeError:
        return None
    del before["routing"]["rules"][index]
    if not before["routing"]["rules"]:
        del before["routing"]["rules"]
    return new_text if after == before else None


def set_rule_enabled(path: Path, name: str, enabled: bool, registry: Any = None) -> bool:
    """Enable or disable a rule; False when it already was."""
    with _editing(path) as (target, _, doc):
        rules = _rules(doc, path)
        table = rules[_find(rules, name, path)]
        if bool(table.get("enabled", True)) == enabled:
            return False
        table["enabled"] = enabled
        _write(target, tomlkit.dumps(doc), path, registry)
        return True
