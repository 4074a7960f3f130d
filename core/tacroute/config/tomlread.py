"""Read TOML text into Python values: a fast path for large files, ``tomllib`` for the rest.

``tomllib`` takes ~25 ms per 100 KB (a 5,000-rule table: ~125 ms), more than
the whole of validating it. Large texts go first to ``toml_rs`` (Rust,
``toml_version="1.0.0"``; ~10x faster), which gives the same values as
``tomllib`` (types, key order, dates, times and offsets, inf/nan and their
sign): tests compare the two on the project's configs and on generated and
mutated documents. Whenever the fast path is not sure, it answers None and
the caller reads the text with ``tomllib`` as before, so every error message
(and everything ``tomllib`` accepts) stays exactly as it was:

- texts under :data:`FAST_MIN_CHARS` (``tomllib`` is quick there, and the
  import is not paid);
- ``toml_rs`` missing, failing to import, or rejecting the text (invalid
  TOML, integers beyond 64 bits, floats out of range);
- a leading byte-order mark (``toml_rs`` skips it; ``tomllib`` rejects it);
- multi-line strings, quotes that do not pair up on their line, or a closing
  bracket with nothing open: the check below cannot then tell brackets in
  strings from structure;
- arrays and inline tables nested more than :data:`MAX_DEPTH` deep:
  ``toml_rs`` recurses on the C stack without a limit (a few thousand levels
  crash the process), and ``tomllib`` stops a few hundred levels deep with
  its own error, which must stay the error.
"""

from __future__ import annotations

import functools
import re
from itertools import accumulate
from typing import Any

__all__ = ["FAST_MIN_CHARS", "MAX_DEPTH", "fast_loads", "nesting_depth"]

#: Texts shorter than this are read by ``tomllib`` alone (~8 ms at this size).
FAST_MIN_CHARS = 32_768
#: Deepest nesting of arrays and inline tables the fast path reads; ``tomllib``
#: reads well past it (~200 levels of alternating arrays and tables).
MAX_DEPTH = 64

_loads: Any = None  # toml_rs.loads once imported; False when it cannot be


@functools.cache
def _scanner() -> tuple[re.Pattern[bytes], bytes, bytes, tuple[int, ...]]:
    """What :func:`nesting_depth` scans with (made on first use: `tacroute route` on a small
    config never needs it)."""
    # Single-line strings and comments (no multi-line strings reach this), on UTF-8 bytes:
    # no byte of a multi-byte character is ASCII, so none is taken for a quote or a bracket.
    skip = re.compile(rb'"(?:[^"\\\n]|\\[^\n])*"|\'[^\'\n]*\'|#[^\n]*')
    # Without backslashes, where strings and comments start and end depends only on
    # these characters: the others are dropped before the scan (5x faster).
    drop = bytes(c for c in range(256) if c not in b"[]{}\"'#\n")
    not_bracket = bytes(c for c in range(256) if c not in b"[]{}")
    step = tuple(1 if c in b"[{" else -1 if c in b"]}" else 0 for c in range(256))  # by byte
    return skip, drop, not_bracket, step


def nesting_depth(text: str) -> int | None:
    """How deep arrays and inline tables nest in ``text``, or None when unsure.

    Brackets inside strings and comments do not count. None: a multi-line
    string, a quote that does not pair up on its line, or a closing bracket
    with nothing open (invalid TOML, or a string this scan does not follow);
    ``toml_rs`` then does not see the text.
    """
    if '"""' in text or "'''" in text:
        return None
    skip, drop, not_bracket, step = _scanner()
    data = text.encode("utf-8", "surrogatepass")
    if b"\\" not in data:
        data = data.translate(None, drop)
    code = skip.sub(b"", data)
    if b'"' in code or b"'" in code:
        return None
    depths = list(accumulate(map(step.__getitem__, code.translate(None, not_bracket))))
    if depths and min(depths) < 0:  # a closer with nothing open: not TOML; do not guess
        return None
    return max(depths, default=0)


def fast_loads(text: str) -> dict[str, Any] | None:
    """``text`` read by ``toml_rs``, or None: read it with ``tomllib`` (see the module's doc)."""
    global _loads
    if text.startswith("\ufeff"):
        return None
    depth = nesting_depth(text)
    if depth is None or depth > MAX_DEPTH:
        return None
    if _loads is None:
        try:
            from toml_rs import loads
        except Exception:  # noqa: BLE001 - missing or broken: tomllib reads everything
            _loads = False
            return None
        _loads = loads
    if _loads is False:
        return None
    try:
        doc = _loads(text, toml_version="1.0.0")
    except Exception:  # noqa: BLE001 - rejected (or a parser bug): tomllib decides and words the error
        return None
    return doc if type(doc) is dict else None


def read_toml(text: str) -> dict[str, Any]:
    """``text`` as ``tomllib.loads`` reads it (and raising what it raises), faster when large."""
    if len(text) >= FAST_MIN_CHARS:
        doc = fast_loads(text)
        if doc is not None:
            return doc
    import tomllib

    return tomllib.loads(text)
