"""The lines of one ``[[routing.rules]]`` table in a config's text.

tomlkit attaches the comments between two tables to the first of them, so
deleting a rule through tomlkit also deleted the comment that introduces the
*next* rule. A rule's lines are instead taken from the text:

- from its ``[[routing.rules]]`` header down to its last key line (sub-tables
  such as ``[routing.rules.conditions]`` included); blank and comment lines
  after that introduce whatever comes next and are kept;
- plus the comment lines directly above the header (no blank line between),
  and one blank line above those, so the spacing between the neighbours stays.

The scanner skips the inside of multi-line arrays and strings, so a line such
as ``["a", "b"],`` in an array is not taken for a table header. The caller
checks the result anyway (the file without these lines must parse to the
same document minus that rule).
"""

from __future__ import annotations

import re

from tacroute.config.locate import _HEADER, _KEY, split_dotted

__all__ = ["rule_lines"]

_STRINGS = re.compile(r'''"""|\'\'\'|"(?:[^"\\]|\\.)*"|'[^']*'|#.*$''')


def _scan(line: str, state: list[str | int]) -> None:
    """Update ``state`` = [open multi-line string delimiter or "", bracket depth] for one line."""
    pos = 0
    while pos < len(line):
        if state[0]:
            end = line.find(str(state[0]), pos)
            if end < 0:
                return
            state[0], pos = "", end + 3
            continue
        m = _STRINGS.search(line, pos)
        bare = line[pos:m.start()] if m else line[pos:]
        state[1] = int(state[1]) + bare.count("[") + bare.count("{") - bare.count("]") - bare.count("}")
        if m is None:
            return
        if m.group(0) in ('"""', "'''"):
            state[0] = m.group(0)
        elif m.group(0).startswith("#"):
            return
        pos = m.end()


def _headers(lines: list[str]) -> list[tuple[int, bool, list[str]]]:
    """(line index, is ``[[...]]``, dotted names) of every table header outside values."""
    out: list[tuple[int, bool, list[str]]] = []
    state: list[str | int] = ["", 0]
    for i, line in enumerate(lines):
        if not state[0] and state[1] == 0 and not _KEY.match(line):
            m = _HEADER.match(line)
            if m:
                out.append((i, m.group(1) == "[[", split_dotted(m.group(2))))
                continue
        _scan(line, state)
    return out


def _blank(line: str) -> bool:
    return not line.strip()


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def rule_lines(lines: list[str], index: int) -> tuple[int, int] | None:
    """[start, end) line indexes of the ``index``-th rule with its comment block, or None."""
    headers = _headers(lines)
    rules = [n for n, (_, aot, names) in enumerate(headers) if aot and names == ["routing", "rules"]]
    if index >= len(rules):
        return None
    h = rules[index]
    start = headers[h][0]
    end = len(lines)
    for line_no, _, names in headers[h + 1:]:
        inside = names[:2] == ["routing", "rules"] and len(names) > 2
        if not inside:
            end = line_no
            break
    while end > start + 1 and (_blank(lines[end - 1]) or _comment(lines[end - 1])):
        end -= 1
    while start > 0 and _comment(lines[start - 1]):
        start -= 1
    if start > 0 and _blank(lines[start - 1]):
        start -= 1
    return start, end
