"""The one redactor: every text tacroute writes passes through it first.

Which values are secrets: the value of every variable whose name looks like a
credential (:data:`SECRET_NAME`: ``*KEY*``, ``*TOKEN*``, ``*SECRET*``, ...,
except names that point at a secret rather than hold one, :data:`NOT_SECRET`)
or that the config names as an ``api_key_env``; from the environment tacroute
runs in and from every provider's ``env`` table alike. Values shorter than
:data:`MIN_RUN` characters are not secrets (``true``, ``1``, ``en``).

What is masked: every run of :data:`MIN_RUN` (6) or more characters that also
occurs in a secret, so a key cut short by someone else (a 300-character
limit, the tail of stderr) is masked as well as the whole key. The escaped
forms of a secret (``\\r``, ``\\x01``, ``\\u0001`` as ``repr`` and JSON write
them) count too, so a key with a stray control character is caught in an
error message that quotes it. Masked runs become :data:`MASK`.

Cutting always comes after masking (:meth:`Redactor.cut`, :func:`redact_and_cut`):
a cut can only shorten what is already clean.

How: the 6-character pieces (6-grams) of every secret form one set; each
piece is looked up in the text with ``str.find`` (C speed), and the union of
the windows found is exactly the set of characters that belong to a common
run of 6 or more; overlapping windows merge into one mask.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import overload

__all__ = ["MASK", "MESSAGE_LIMIT", "MIN_RUN", "NOT_SECRET", "SECRET_NAME", "BadKeyError", "Redactor",
           "clean_key", "is_secret_name", "redact_and_cut", "secret_values"]

#: Names of variables whose values are secrets.
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.IGNORECASE)
#: Names that match :data:`SECRET_NAME` but hold where a secret is, or the name
#: of its variable, not the secret (``SSH_AUTH_SOCK``, ``TACROUTE_OPENROUTER_KEY_ENV``,
#: ``XAUTHORITY``): masking their values would hide paths and names in every message.
NOT_SECRET = re.compile(r"(_SOCK|_ENV|_FILE|_PATH|_DIR)$|^XAUTHORITY$", re.IGNORECASE)
#: The shortest secret, and the shortest run of a secret's characters that is masked.
MIN_RUN = 6
MASK = "***"
#: Longest attempt message or run error tacroute reports (after masking).
MESSAGE_LIMIT = 2000

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_secret_name(name: str) -> bool:
    """True when a variable called ``name`` holds a credential by its look."""
    return bool(SECRET_NAME.search(name)) and not NOT_SECRET.search(name)


def secret_values(env: Mapping[str, str], names: Iterable[str] = ()) -> list[str]:
    """The values in ``env`` that are secrets: named in ``names`` or by :func:`is_secret_name`."""
    wanted = set(names)
    return [value for name, value in env.items()
            if isinstance(value, str) and (name in wanted or is_secret_name(name))]


class BadKeyError(ValueError):
    """An API key that cannot be sent: it holds a control character."""


def clean_key(name: str, value: str | None) -> str | None:
    """An API key as read from variable ``name``: surrounding whitespace stripped.

    ``OPENROUTER_API_KEY="sk-...\\n"`` (a key pasted with its line end) works.
    Raises :class:`BadKeyError` naming the variable, never the value, when a
    control character is left inside; None when unset or blank.
    """
    if value is None:
        return None
    value = value.strip()
    if _CONTROL.search(value):
        raise BadKeyError(f"the API key in ${name} contains a control character (a stray line break "
                        "or escape inside the value); set the variable to the key alone")
    return value or None


def _forms(secret: str) -> set[str]:
    """The secret as written, and escaped the ways errors quote it (``\\r``, ``\\x01``, ``\\u0001``).

    Surrounding whitespace is no part of a form: masking must not eat the
    space before a key in ``"Bearer <key>"``.
    """
    forms = {secret, secret.strip()}
    for value in tuple(forms):
        forms.add(repr(value)[1:-1])
        forms.add(json.dumps(value)[1:-1])
        forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
        forms.add(repr(value.encode("utf-8", "surrogateescape"))[2:-1])
    return {f.strip() for f in forms if len(f.strip()) >= MIN_RUN}


class Redactor:
    """Masks every run of :data:`MIN_RUN` or more characters of the given secrets."""

    __slots__ = ("_grams",)

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        grams: set[str] = set()
        for secret in secrets:
            if not secret or len(secret.strip()) < MIN_RUN:
                continue
            for form in _forms(secret):
                grams.update(form[i:i + MIN_RUN] for i in range(len(form) - MIN_RUN + 1))
        self._grams = tuple(sorted(grams))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, names: Iterable[str] = (),
                 tables: Iterable[Mapping[str, str]] = ()) -> Redactor:
        """The secrets of ``env`` (default ``os.environ``) and of provider ``env`` tables.

        ``names``: variables that hold secrets whatever they are called (the
        config's ``api_key_env`` names).
        """
        names = tuple(names)
        values = secret_values(os.environ if env is None else env, names)
        for table in tables:
            values += secret_values(table, names)
        return _cached(frozenset(values))

    def __bool__(self) -> bool:
        return bool(self._grams)

    @overload
    def __call__(self, text: str) -> str: ...

    @overload
    def __call__(self, text: None) -> None: ...

    def __call__(self, text: str | None) -> str | None:
        """``text`` with every run of a secret's characters replaced by :data:`MASK`."""
        if not text or not self._grams or len(text) < MIN_RUN:
            return text
        starts: list[int] = []
        find = text.find
        for gram in self._grams:
            i = find(gram)
            while i >= 0:
                starts.append(i)
                i = find(gram, i + 1)
        if not starts:
            return text
        starts.sort()
        out: list[str] = []
        done = 0  # text[:done] is written
        begin, end = starts[0], starts[0] + MIN_RUN
        for i in starts[1:]:
            if i > end:
                out += (text[done:begin], MASK)
                done, begin = end, i
            end = max(end, i + MIN_RUN)
        out += (text[done:begin], MASK, text[end:])
        return "".join(out)

    @overload
    def cut(self, text: str, limit: int | None) -> str: ...

    @overload
    def cut(self, text: None, limit: int | None) -> None: ...

    def cut(self, text: str | None, limit: int | None) -> str | None:
        """Mask, then cut to ``limit`` characters (the last one an ellipsis); None: no cut."""
        text = self(text)
        if text is None or limit is None or len(text) <= limit:
            return text
        return text[:max(limit - 1, 0)] + "…"


@lru_cache(maxsize=32)
def _cached(values: frozenset[str]) -> Redactor:
    return Redactor(values)


@overload
def redact_and_cut(text: str, limit: int | None, redactor: Redactor | None = None) -> str: ...


@overload
def redact_and_cut(text: None, limit: int | None, redactor: Redactor | None = None) -> None: ...


def redact_and_cut(text: str | None, limit: int | None, redactor: Redactor | None = None) -> str | None:
    """``text`` masked (by ``redactor``, default: the secrets of ``os.environ``), then cut."""
    return (redactor if redactor is not None else Redactor.from_env()).cut(text, limit)
