"""What ``[projects."NAME"]`` and ``[users.NAME]`` tables hold, checked, and how a task finds its entry.

An entry applies to the tasks whose ``project`` (``user``) attribute it
matches: its name exactly, or as a glob (``acme/*``). When several match,
the exact one wins, then the longest glob (ties: file order).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    from tacroute.config.model import RuleConfig

__all__ = ["PERIODS", "Budget", "Entry", "EntrySet", "Limit", "Preferences", "is_glob"]

#: Budget keys and the calendar period each one counts.
PERIODS: Mapping[str, str] = {"daily_usd": "day", "monthly_usd": "month"}


class Limit(NamedTuple):
    """One amount of a budget: ``period`` is "day" or "month"."""

    period: str
    usd: float


class Budget(NamedTuple):
    """An entry's ``budget = { ... }``."""

    limits: tuple[Limit, ...]
    #: "block" or "downgrade".
    over: str = "block"
    #: ``(provider, model)`` a downgrade routes to.
    to: tuple[str, str] | None = None
    #: A run that would start with less than this left counts as over.
    reserve_usd: float = 0.0
    #: A glob entry's budget pools every project (user) it governs, instead of one each.
    shared: bool = False


class Entry(NamedTuple):
    """One ``[projects."PATTERN"]`` or ``[users.PATTERN]`` table."""

    #: "project" or "user".
    kind: str
    pattern: str
    deny: frozenset[str] = frozenset()
    #: None: every provider is allowed.
    allow: frozenset[str] | None = None
    prefer: tuple[str, ...] = ()
    default_provider: str | None = None
    default_model: str | None = None
    rules: tuple[RuleConfig, ...] = ()
    budget: Budget | None = None
    #: Where the entry was written (the config, or a repository's ``.tacroute.toml``).
    source: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind} {self.pattern!r}"

    def allows(self, provider: str) -> bool:
        return provider not in self.deny and (self.allow is None or provider in self.allow)


def is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


class EntrySet:
    """The entries of one kind, and the winning entry for a name (kept per name)."""

    __slots__ = ("_cache", "exact", "globs")

    def __init__(self, entries: Mapping[str, Entry]) -> None:
        self.exact = {p: e for p, e in entries.items() if not is_glob(p)}
        # Longest glob first; sorted() keeps file order between equal lengths.
        self.globs = sorted((e for p, e in entries.items() if is_glob(p)), key=lambda e: -len(e.pattern))
        self._cache: dict[str, Entry | None] = {}

    def __bool__(self) -> bool:
        return bool(self.exact or self.globs)

    def __iter__(self) -> Iterator[Entry]:
        yield from self.exact.values()
        yield from self.globs

    def match(self, name: str | None) -> Entry | None:
        """The entry that governs ``name`` (None: no entry, or no such attribute)."""
        if name is None:
            return None
        try:
            return self._cache[name]
        except KeyError:
            pass
        found = self.exact.get(name)
        if found is None:
            found = next((e for e in self.globs if fnmatchcase(name, e.pattern)), None)
        if len(self._cache) >= 100_000:
            self._cache.clear()
        self._cache[name] = found
        return found


class Preferences(NamedTuple):
    """The checked ``[projects]``, ``[users]`` and ``[policy]`` tables."""

    projects: EntrySet
    users: EntrySet
    #: ``[policy] repo_config``: a ``.tacroute.toml`` in the run's folder may narrow these.
    repo_config: bool = False

    def __bool__(self) -> bool:
        return bool(self.projects or self.users)

    def budgeted(self) -> list[Entry]:
        """Every entry with a budget, projects first."""
        return [e for e in (*self.projects, *self.users) if e.budget is not None]
