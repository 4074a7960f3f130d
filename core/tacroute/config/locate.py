"""Find the line of a key path in TOML text, for error messages.

Only used when something is wrong, so it favours simplicity over speed. It
understands table headers (``[a.b]``, ``[[a.b]]`` with their repeat count) and
``key = value`` lines; a path into an inline table or an array resolves to the
line of its key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["locate", "locate_all", "split_dotted"]

_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(#.*)?$")
_PART = r"""(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)"""
_KEY = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")


def split_dotted(text: str) -> list[str]:
    """Split ``a."b.c".d`` into ``["a", "b.c", "d"]``."""
    parts: list[str] = []
    for m in re.finditer(r"""\s*("([^"]*)"|'([^']*)'|[^.\s]+)\s*(?:\.|$)""", text):
        parts.append(m.group(2) if m.group(2) is not None else
                     m.group(3) if m.group(3) is not None else m.group(1))
    return parts


def locate(text: str, path: Sequence[str | int]) -> int | None:
    """1-based line where ``path`` is defined, or the nearest enclosing table's line."""
    return locate_all(text, [path])[0]


def locate_all(text: str, paths: Sequence[Sequence[str | int]]) -> list[int | None]:
    """:func:`locate` for many paths in one pass over the text (a config with thousands
    of problems must not be scanned once per problem).

    A path with no line of its own or of an enclosing table (``provider`` when
    the file only has ``[provider.x]``) gets the first line inside it.
    """
    wanted: dict[tuple[str | int, ...], list[int]] = {}
    for i, path in enumerate(paths):
        for n in range(1, len(path) + 1):
            wanted.setdefault(tuple(path[:n]), []).append(i)
    exact: dict[tuple[str | int, ...], list[int]] = {}
    for i, path in enumerate(paths):
        exact.setdefault(tuple(path), []).append(i)
    best: list[int | None] = [None] * len(paths)
    best_len = [-1] * len(paths)
    inside: list[int | None] = [None] * len(paths)

    def seen(full: Sequence[str | int], lineno: int) -> None:
        key = tuple(full)
        for i in wanted.get(key, ()):
            if len(full) > best_len[i]:
                best[i], best_len[i] = lineno, len(full)
        for n in range(1, len(key)):
            for i in exact.get(key[:n], ()):
                if inside[i] is None:
                    inside[i] = lineno

    current: list[str | int] = []
    array_counts: dict[tuple[str | int, ...], int] = {}
    in_multiline = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            in_multiline += _depth(line)
            continue
        key_match = _KEY.match(line)
        header = None if key_match else _HEADER.match(line)
        if header:
            names = split_dotted(header.group(2))
            current = _in_arrays(names, array_counts)
            if header.group(1) == "[[":
                key = tuple(current)
                idx = array_counts.get(key, -1) + 1
                array_counts[key] = idx
                current = [*current, idx]
            seen(current, lineno)
            continue
        if key_match:
            seen([*current, *split_dotted(key_match.group(1))], lineno)
            depth = _depth(line[key_match.end():])
            if depth > 0:
                in_multiline = depth
    return [b if b is not None else first for b, first in zip(best, inside)]


def _in_arrays(names: list[str], array_counts: dict[tuple[str | int, ...], int]) -> list[str | int]:
    """``[routing.rules.conditions]`` -> ``routing.rules[N].conditions`` (N: the latest [[routing.rules]])."""
    out: list[str | int] = []
    for name in names:
        out.append(name)
        idx = array_counts.get(tuple(out))
        if idx is not None and len(out) < len(names):
            out.append(idx)
    return out


_STRINGS = re.compile(r""""(?:[^"\\]|\\.)*"|'[^']*'|#.*$""")


def _depth(text: str) -> int:
    bare = _STRINGS.sub("", text)
    return bare.count("[") + bare.count("{") - bare.count("]") - bare.count("}")
