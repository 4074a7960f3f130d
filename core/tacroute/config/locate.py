"""Find the line of a key path in TOML text, for error messages.

Only used when something is wrong, so it favours simplicity over speed. It
understands table headers (``[a.b]``, ``[[a.b]]`` with their repeat count) and
``key = value`` lines; a path into an inline table or an array resolves to the
line of its key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["locate", "split_dotted"]

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
    best: int | None = None
    best_len = -1
    current: list[str | int] = []
    array_counts: dict[tuple[str, ...], int] = {}
    in_multiline = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            in_multiline += _depth(line)
            continue
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            names = split_dotted(header.group(2))
            if header.group(1) == "[[":
                key = tuple(names)
                idx = array_counts.get(key, -1) + 1
                array_counts[key] = idx
                current = [*names, idx]
            else:
                current = list(names)
            n = _prefix_len(current, path)
            if n == len(current) and n > best_len:
                best, best_len = lineno, n
            continue
        key_match = _KEY.match(line)
        if key_match:
            full = [*current, *split_dotted(key_match.group(1))]
            n = _prefix_len(full, path)
            if n == len(full) and n > best_len:
                best, best_len = lineno, n
            depth = _depth(line[key_match.end():])
            if depth > 0:
                in_multiline = depth
    return best


_STRINGS = re.compile(r""""(?:[^"\\]|\\.)*"|'[^']*'|#.*$""")


def _depth(text: str) -> int:
    bare = _STRINGS.sub("", text)
    return bare.count("[") + bare.count("{") - bare.count("]") - bare.count("}")


def _prefix_len(have: Sequence[str | int], want: Sequence[str | int]) -> int:
    n = 0
    for a, b in zip(have, want):
        if a != b:
            break
        n += 1
    return n
