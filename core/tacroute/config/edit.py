"""Edit the rules of a config file, keeping everything else as it was.

Comments, order and formatting outside the edited rule stay byte-for-byte the
same; removing a rule removes its own lines and the comment block directly
above it, nothing else (:mod:`tacroute.config.spans`). Every edit holds an
exclusive lock on the file while it reads, checks and writes, so concurrent
edits all land; the edited text must load before the file is replaced,
atomically; a symlinked config stays a symlink and its target is edited
(:mod:`tacroute.config.atomic`).

Single-rule edits are made on the text first (:mod:`tacroute.config.textedit`,
no tomlkit parse of the whole file) and kept only when the new text parses to
exactly the document the edit means; otherwise tomlkit makes them. The parsed
document of the last texts this process read or wrote is kept (by etag), so
an edit after an edit parses the file once, to validate it.
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
from tacroute.config.ruletables import _KEEP, _changed, _changes, _new_table, edited_tables
from tacroute.config.textedit import (
    add_text,
    before_doc,
    checked_config,
    cut_text,
    doc_rules,
    file_etag,
    try_text,
    update_text,
    with_rules,
)
from tacroute.errors import ConfigError, UsageError

__all__ = ["ConfigChangedError", "add_rule", "checked_config", "edited_tables", "file_etag",
           "parse_condition", "remove_rule", "set_rule_enabled", "update_rule"]



class ConfigChangedError(UsageError):
    """The file is not the one the edit was prepared against (``expect`` did not match)."""

    def __init__(self, path: Path, etag: str) -> None:
        super().__init__(f"{path} changed on disk since it was read; reload it and edit again")
        #: The file's current :func:`file_etag`.
        self.etag = etag


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
def _editing(path: Path, expect: str | None = None) -> Iterator[tuple[Path, str, str]]:
    """Lock the config (its target, when ``path`` is a symlink), then read it: (target, text, etag);
    with ``expect``, refuse a file whose :func:`file_etag` is another (checked under the lock)."""
    with locked_file(path) as target:
        try:
            data = target.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read config file: {exc.strerror or exc}", path) from exc
        etag = file_etag(data)
        if expect is not None and etag != expect:
            raise ConfigChangedError(path, etag)
        try:
            text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text did
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file is not UTF-8 text: {exc}", path) from exc
        yield target, text, etag


def _tomlkit(text: str, path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except Exception as exc:  # tomlkit raises its own ParseError subclasses
        raise ConfigError(f"not valid TOML: {exc}", path) from exc


def _no_rule(name: str, rules: list[Any], path: Path) -> UsageError:
    names = ", ".join(str(t.get("name")) for t in rules)
    return UsageError(f"no rule named {name!r} in {path} (rules: {names or 'none'})")


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
    table = _new_table(name, priority, model, provider, conditions, enabled)
    with _editing(path, expect) as (target, text, etag):
        before = before_doc(target, text, etag)
        rules = doc_rules(before) if before is not None else None
        if rules is not None:
            if any(t.get("name") == name for t in rules):
                raise UsageError(f"a rule named {name!r} already exists in {path}")
            done = try_text(target, path, add_text(text, table), with_rules(before or {}, [*rules, table]),
                             registry, write)
            if done is not None:
                return done
        doc = _tomlkit(text, path)
        aot = _rules(doc, path, create=True)
        if any(t.get("name") == name for t in aot):
            raise UsageError(f"a rule named {name!r} already exists in {path}")
        new: Table = tomlkit.table()
        for key, value in table.items():
            if key == "conditions":
                inline = tomlkit.inline_table()
                inline.update(value)
                value = inline
            new[key] = value
        aot.append(new)
        return _write(target, tomlkit.dumps(doc), path, registry, write)


def update_rule(path: Path, name: str, *, priority: Any = _KEEP, model: Any = _KEEP, provider: Any = _KEEP,
                conditions: Any = _KEEP, enabled: Any = _KEEP, registry: Any = None,
                expect: str | None = None, write: bool = True) -> str:
    """Change some keys of a rule in place (a new priority reorders it); returns the new text.

    Keys not given stay as they are, byte for byte; ``provider=None`` removes
    the key (the rule then uses ``routing.default_provider``). ``expect`` and
    ``write`` as for :func:`add_rule`.
    """
    with _editing(path, expect) as (target, text, etag):
        done = _update_text(target, path, text, etag, name, registry, write,
                            lambda t: _changes(t, priority, model, provider, conditions, enabled))
        if done is not None:
            return done[0]
        doc = _tomlkit(text, path)
        rules = _rules(doc, path)
        table = rules[_find(rules, name, path)]
        for key, value in _changes(table, priority, model, provider, conditions, enabled).items():
            if value is None:
                del table[key]
            elif key == "conditions":
                inline = tomlkit.inline_table()
                inline.update(value)
                table[key] = inline
            else:
                table[key] = value
        return _write(target, tomlkit.dumps(doc), path, registry, write)


def _update_text(target: Path, path: Path, text: str, etag: str, name: str, registry: Any, write: bool,
                 changes_of: Any) -> tuple[str, bool] | None:
    """The text-level update: (new text, whether anything changed), or None for tomlkit to do it."""
    before = before_doc(target, text, etag)
    rules = doc_rules(before) if before is not None else None
    if rules is None or before is None:
        return None
    index = next((i for i, t in enumerate(rules) if t.get("name") == name), None)
    if index is None:
        raise _no_rule(name, rules, path)
    changes = changes_of(rules[index])
    new_rules = list(rules)
    new_rules[index] = _changed(rules[index], changes)
    new_text = update_text(text, index, rules[index], changes) if changes else text
    expected = with_rules(before, new_rules)
    done = try_text(target, path, new_text, expected, registry, write and bool(changes))
    return None if done is None else (done, bool(changes))


def remove_rule(path: Path, name: str, registry: Any = None, *, expect: str | None = None,
                write: bool = True) -> str:
    """Remove a rule: its own lines and the comment block directly above it; returns the new text."""
    with _editing(path, expect) as (target, text, etag):
        before = before_doc(target, text, etag)
        rules = doc_rules(before) if before is not None else None
        if rules is not None and before is not None:
            index = next((i for i, t in enumerate(rules) if t.get("name") == name), None)
            if index is None:
                raise _no_rule(name, rules, path)
            expected = with_rules(before, rules[:index] + rules[index + 1:])
            done = try_text(target, path, cut_text(text, index), expected, registry, write)
            if done is not None:
                return done
        doc = _tomlkit(text, path)
        aot = _rules(doc, path)
        del aot[_find(aot, name, path)]  # a layout the line scanner does not follow
        return _write(target, tomlkit.dumps(doc), path, registry, write)


def set_rule_enabled(path: Path, name: str, enabled: bool, registry: Any = None, *,
                     expect: str | None = None) -> bool:
    """Enable or disable a rule; False when it already was."""
    with _editing(path, expect) as (target, text, etag):
        def changes(t: Mapping[str, Any]) -> dict[str, Any]:
            return {} if bool(t.get("enabled", True)) == enabled else {"enabled": enabled}
        done = _update_text(target, path, text, etag, name, registry, True, changes)
        if done is not None:
            return done[1]
        doc = _tomlkit(text, path)
        rules = _rules(doc, path)
        table = rules[_find(rules, name, path)]
        if bool(table.get("enabled", True)) == enabled:
            return False
        table["enabled"] = enabled
        _write(target, tomlkit.dumps(doc), path, registry)
        return True
