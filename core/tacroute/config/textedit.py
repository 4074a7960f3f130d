"""Single-rule edits made on the config's text, without tomlkit.

tomlkit parses a 1,000-rule file in about a quarter of a second; these edits
touch only the lines of one ``[[routing.rules]]`` table (found with
:mod:`tacroute.config.spans`' scanner), so everything else stays byte for byte
as it was. An edit here is only a proposal: :mod:`tacroute.config.edit` keeps
it only when the new text parses to exactly the document the edit means (the
old document with that one rule changed); for anything this module does not
follow (a key spread over several lines, a rule's conditions written as a
sub-table, rules written as an inline array) it returns None and the editor
uses tomlkit.
"""

from __future__ import annotations

import hashlib
import re
import threading
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit

from tacroute.config.atomic import replace_text
from tacroute.config.loader import parse_config
from tacroute.config.locate import _HEADER, _KEY, split_dotted
from tacroute.config.model import Config
from tacroute.config.spans import rule_lines
from tacroute.errors import ConfigError

__all__ = ["RuleText", "add_text", "before_doc", "checked_config", "cut_text", "doc_rules", "file_etag",
           "toml_value", "try_text", "update_text", "with_rules"]


def file_etag(data: bytes) -> str:
    """The version tag of a config file's bytes (SHA-256, hex): what an edit's ``expect`` compares."""
    return hashlib.sha256(data).hexdigest()


def toml_value(value: Any) -> str:
    """``value`` as TOML on one line (tables inline), as tomlkit writes it."""
    if isinstance(value, Mapping):
        table = tomlkit.inline_table()
        table.update(value)
        return str(table.as_string()).strip()
    return str(tomlkit.item(value).as_string())


def _headers(lines: list[str]) -> list[tuple[int, bool, list[str]]]:
    """(line, is ``[[...]]``, dotted names) of every line that looks like a table header.

    Unlike :mod:`tacroute.config.spans`' scanner this does not follow multi-line
    values (five times faster): a line of a multi-line array or string taken
    for a header can only make the edit miss its key or change the document,
    and the caller's check then hands the edit to tomlkit.
    """
    out: list[tuple[int, bool, list[str]]] = []
    for i, line in enumerate(lines):
        if line.lstrip()[:1] == "[" and not _KEY.match(line):
            m = _HEADER.match(line)
            if m:
                out.append((i, m.group(1) == "[[", split_dotted(m.group(2))))
    return out


class RuleText:
    """The lines of one text and where its ``[[routing.rules]]`` tables are."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        headers = _headers(self.lines)
        #: (header line, end of the rule's own keys, end of its span) per rule.
        self.rules: list[tuple[int, int, int]] = []
        for n, (line_no, aot, names) in enumerate(headers):
            if not (aot and names == ["routing", "rules"]):
                continue
            own_end = end = len(self.lines)
            for other, _, sub in headers[n + 1:]:
                inside = sub[:2] == ["routing", "rules"] and len(sub) > 2
                own_end = min(own_end, other)
                if not inside:
                    end = other
                    break
            self.rules.append((line_no, own_end, end))

    def key_line(self, index: int, key: str, value: Any) -> int | None:
        """The line of ``key = value`` among rule ``index``'s own keys, when it is all on that line."""
        header, own_end, _ = self.rules[index]
        pattern = re.compile(rf"\s*{re.escape(key)}\s*=")
        for i in range(header + 1, own_end):
            if pattern.match(self.lines[i]):
                try:
                    return i if tomllib.loads(self.lines[i]) == {key: value} else None
                except tomllib.TOMLDecodeError:
                    return None
        return None

    def last_key(self, index: int) -> int:
        """The line after rule ``index``'s last own key line (where a new key goes)."""
        header, own_end, _ = self.rules[index]
        i = own_end
        while i > header + 1 and (not self.lines[i - 1].strip() or self.lines[i - 1].lstrip()[:1] == "#"):
            i -= 1
        return i

    def text(self) -> str:
        return "".join(self.lines)


def update_text(text: str, index: int, rule: Mapping[str, Any], changes: Mapping[str, Any]) -> str | None:
    """``text`` with rule ``index`` (whose parsed table is ``rule``) given ``changes``:
    key -> new value, or None to remove the key; None when not done on the text."""
    rt = RuleText(text)
    if index >= len(rt.rules):
        return None
    inserts: list[str] = []
    edits: dict[int, str | None] = {}
    for key, value in changes.items():
        if key in rule:
            line = rt.key_line(index, key, rule[key])
            if line is None:
                return None
            if value is None:
                edits[line] = None
            else:
                old = rt.lines[line]
                indent = old[:len(old) - len(old.lstrip())]
                edits[line] = f"{indent}{key} = {toml_value(value)}\n"
        elif value is not None:
            inserts.append(f"{key} = {toml_value(value)}\n")
    for line, new in edits.items():
        rt.lines[line] = "" if new is None else new
    if inserts:
        at = rt.last_key(index)
        if at > 0 and not rt.lines[at - 1].endswith("\n"):
            rt.lines[at - 1] += "\n"
        rt.lines[at:at] = inserts
    return rt.text()


def cut_text(text: str, index: int) -> str | None:
    """``text`` without rule ``index``'s lines and its comment block (:func:`rule_lines`)."""
    lines = text.splitlines(keepends=True)
    span = rule_lines(lines, index)
    if span is None:
        return None
    return "".join(lines[:span[0]] + lines[span[1]:])


def add_text(text: str, table: Mapping[str, Any]) -> str | None:
    """``text`` with a ``[[routing.rules]]`` table after the last rule's keys (None without rules)."""
    rt = RuleText(text)
    if not rt.rules:
        return None
    at = rt.last_key(len(rt.rules) - 1)
    if at > 0 and not rt.lines[at - 1].endswith("\n"):
        rt.lines[at - 1] += "\n"
    body = "".join(f"{key} = {toml_value(value)}\n" for key, value in table.items())
    rt.lines[at:at] = [f"\n[[routing.rules]]\n{body}"]
    return rt.text()


#: tomllib documents of recent texts, by (file, etag): the "before" of the next edit.
_DOCS: dict[tuple[str, str], Mapping[str, Any]] = {}
#: The last text an edit validated, its Config, and the path and registry it was loaded with.
_CHECKED: list[tuple[str, Config, Path, Any]] = []


def checked_config(text: str, path: Path | None = None) -> Config | None:
    """The Config an edit in this process validated for exactly ``text``, if it was the last one."""
    last = _CHECKED[0] if _CHECKED else None
    return last[1] if last is not None and last[0] == text and (path is None or last[2] == path) else None


def before_doc(target: Path, text: str, etag: str) -> Mapping[str, Any] | None:
    """The parsed document of ``text`` (never to be mutated), or None when it is not TOML."""
    key = (str(target), etag)
    doc = _DOCS.get(key)
    if doc is None:
        try:
            doc = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError, ValueError):
            return None
        _remember(key, doc)
    return doc


_DOCS_LOCK = threading.Lock()  # edits of different files (and previews) may run in threads


def _remember(key: tuple[str, str], doc: Mapping[str, Any]) -> None:
    with _DOCS_LOCK:
        while len(_DOCS) >= 4:
            del _DOCS[next(iter(_DOCS))]
        _DOCS[key] = doc


def doc_rules(doc: Mapping[str, Any]) -> list[Any] | None:
    routing = doc.get("routing")
    rules = routing.get("rules") if isinstance(routing, dict) else None
    return rules if isinstance(rules, list) and rules and all(isinstance(r, dict) for r in rules) else None


def with_rules(doc: Mapping[str, Any], rules: list[Any]) -> dict[str, Any]:
    """A shallow copy of ``doc`` whose routing.rules is ``rules`` (removed when empty)."""
    out = dict(doc)
    routing = dict(out["routing"])
    if rules:
        routing["rules"] = rules
    else:
        del routing["rules"]
    out["routing"] = routing
    return out


def try_text(target: Path, path: Path, new_text: str | None, expected: Mapping[str, Any], registry: Any,
              write: bool) -> str | None:
    """Write ``new_text`` when it parses to ``expected`` and loads; None to let tomlkit do the edit."""
    if new_text is None:
        return None
    try:  # a preview followed by its save (or a repeated preview) loads the same text once
        last = _CHECKED[0] if _CHECKED else None
        config = (last[1] if last is not None and last[0] == new_text and last[2] == path
                  and last[3] is registry else parse_config(new_text, path, registry=registry))
    except ConfigError:
        try:
            same = tomllib.loads(new_text) == expected
        except (tomllib.TOMLDecodeError, RecursionError, ValueError):
            same = False
        if same:
            raise  # the edit itself does not load: the same errors tomlkit's text would give
        return None
    if config.raw != expected:
        return None
    if write:
        replace_text(target, new_text)
        _remember((str(target), file_etag(new_text.encode("utf-8"))), config.raw)
    _CHECKED[:] = [(new_text, config, path, registry)]
    return new_text
