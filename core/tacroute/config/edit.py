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

import hashlib
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

__all__ = ["ConfigChangedError", "add_rule", "file_etag", "parse_condition", "remove_rule",
           "set_rule_enabled", "update_rule"]

#: ``update_rule``'s "leave this key as it is".
_KEEP: Any = object()


class ConfigChangedError(UsageError):
    """The file is not the one the edit was prepared against (``expect`` did not match)."""

    def __init__(self, path: Path, etag: str) -> None:
        super().__init__(f"{path} changed on disk since it was read; reload it and edit again")
        #: The file's current :func:`file_etag`.
        self.etag = etag


def file_etag(data: bytes) -> str:
    """The version tag of a config file's bytes (SHA-256, hex): what ``expect`` compares."""
    return hashlib.sha256(data).hexdigest()


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
def _editing(path: Path, expect: str | None = None) -> Iterator[tuple[Path, str, tomlkit.TOMLDocument]]:
    """Lock the config (its target, when ``path`` is a symlink), then read and parse it;
    with ``expect``, refuse a file whose :func:`file_etag` is another (checked under the lock)."""
    with locked_file(path) as target:
        try:
            data = target.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read config file: {exc.strerror or exc}", path) from exc
        if expect is not None and file_etag(data) != expect:
            raise ConfigChangedError(path, file_etag(data))
        try:
            text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text did
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


def _write(target: Path, text: str, shown: Path, registry: Any, write: bool = True) -> str:
    parse_config(text, shown, registry=registry)  # refuse to write a config that will not load
    if write:
        replace_text(target, text)
    return text


def add_rule(path: Path, name: str, *, priority: int, model: str, provider: str | None,
             conditions: Mapping[str, Any], enabled: bool = True, registry: Any = None,
             expect: str | None = None, write: bool = True) -> str:
    """Append a ``[[routing.rules]]`` table; returns the new text.

    ``expect``: the :func:`file_etag` the edit was prepared against (else
    :class:`ConfigChangedError`); ``write=False`` checks and returns the new
    text without writing it (a preview).
    """
    with _editing(path, expect) as (target, _, doc):
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
        return _write(target, tomlkit.dumps(doc), path, registry, write)


def update_rule(path: Path, name: str, *, priority: Any = _KEEP, model: Any = _KEEP, provider: Any = _KEEP,
                conditions: Any = _KEEP, enabled: Any = _KEEP, registry: Any = None,
                expect: str | None = None, write: bool = True) -> str:
    """Change some keys of a rule in place (a new priority reorders it); returns the new text.

    Keys not given stay as they are, byte for byte; ``provider=None`` removes
    the key (the rule then uses ``routing.default_provider``). ``expect`` and
    ``write`` as for :func:`add_rule`.
    """
    with _editing(path, expect) as (target, _, doc):
        rules = _rules(doc, path)
        table = rules[_find(rules, name, path)]
        for key, value in (("priority", priority), ("model", model), ("enabled", enabled)):
            if value is not _KEEP and table.get(key) != value:
                table[key] = value
        if provider is None and "provider" in table:
            del table["provider"]
        elif provider is not _KEEP and provider is not None and table.get("provider") != provider:
            table["provider"] = provider
        if conditions is not _KEEP and dict(table.get("conditions", {})) != dict(conditions):
            inline = tomlkit.inline_table()
            inline.update(conditions)
            table["conditions"] = inline
        return _write(target, tomlkit.dumps(doc), path, registry, write)


def remove_rule(path: Path, name: str, registry: Any = None, *, expect: str | None = None,
                write: bool = True) -> str:
    """Remove a rule: its own lines and the comment block directly above it; returns the new text."""
    with _editing(path, expect) as (target, text, doc):
        rules = _rules(doc, path)
        index = _find(rules, name, path)
        new_text = _cut_rule(text, index)
        if new_text is None:  # a layout the line scanner does not follow: let tomlkit do it
            del rules[index]
            new_text = tomlkit.dumps(doc)
        return _write(target, new_text, path, registry, write)


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


def set_rule_enabled(path: Path, name: str, enabled: bool, registry: Any = None, *,
                     expect: str | None = None) -> bool:
    """Enable or disable a rule; False when it already was."""
    with _editing(path, expect) as (target, _, doc):
        rules = _rules(doc, path)
        table = rules[_find(rules, name, path)]
        if bool(table.get("enabled", True)) == enabled:
            return False
        table["enabled"] = enabled
        _write(target, tomlkit.dumps(doc), path, registry)
        return True
