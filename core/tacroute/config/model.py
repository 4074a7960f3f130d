"""The loaded, validated config: plain immutable objects, ready to route with.

They are NamedTuples rather than dataclasses because creating a dataclass
costs over half a millisecond at import, and ``tacroute route`` is a
start-up-bound command.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    from datetime import tzinfo

    from tacroute.history.settings import HistorySettings
    from tacroute.runner.settings import RunnerSettings
    from tacroute.types import ConditionIndex, Predicate

__all__ = ["COST_SOURCES", "Config", "ProviderConfig", "Requirements", "RuleConfig", "TargetConfig"]

#: What a provider's ``cost_source`` may say.
COST_SOURCES = ("reported", "estimated")

#: The strategies a rule with ``targets`` may name.
STRATEGIES = ("ordered", "weighted", "cheapest")

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class ProviderConfig(NamedTuple):
    """One ``[providers.NAME]`` table."""

    name: str
    type: str
    enabled: bool = True
    command_template: tuple[str, ...] = ()
    stdin: str | None = None
    requires_api_key: bool = False
    api_key_env: str | None = None
    env: Mapping[str, str] = _EMPTY
    timeout: float | None = None
    output_parser: str | None = None
    #: Type-specific keys, already checked against ``ProviderType.options``.
    options: Mapping[str, Any] = _EMPTY
    #: Set when no installed plugin provides ``type``.
    type_missing: bool = False
    #: At most this many attempts at once on this provider (all processes; history layer).
    max_concurrent: int | None = None
    #: At most this many attempts started per minute on this provider (history layer).
    rpm: int | None = None
    #: ``"reported"`` (trust the provider's cost) or ``"estimated"`` (price the tokens);
    #: None: the type's default (:meth:`ProviderType.cost_source`).
    cost_source: str | None = None


class TargetConfig(NamedTuple):
    """One entry of a rule's ``targets`` (the provider defaults to ``routing.default_provider``)."""

    provider: str
    model: str
    weight: float = 1.0


class Requirements(NamedTuple):
    """A rule's ``requires``: what recorded performance a ``cheapest`` target needs.

    A target with fewer than ``min_samples`` recorded runs counts as meeting
    them, so new candidates get tried.
    """

    min_success_rate: float | None = None
    max_p95_s: float | None = None
    min_samples: int = 20


class RuleConfig(NamedTuple):
    """One ``[[routing.rules]]`` entry, its conditions compiled."""

    name: str
    priority: int
    provider: str
    model: str
    conditions: Mapping[str, Any]
    predicates: tuple[Predicate, ...]
    enabled: bool = True
    #: Position in the file (0-based), for tie-breaking and messages.
    position: int = 0
    #: The rule's full table, for keys that later layers read (``targets`` ...).
    raw: Mapping[str, Any] = _EMPTY
    #: Several candidates instead of one provider/model (``provider``/``model``
    #: then hold the first target, for displays that show one).
    targets: tuple[TargetConfig, ...] = ()
    #: How ``targets`` are ordered: "ordered", "weighted" or "cheapest".
    strategy: str = "ordered"
    requires: Requirements | None = None
    #: Beside ``predicates``: each condition's :class:`~tacroute.types.ConditionIndex`,
    #: or None when its type offers none (the router then calls the predicate).
    indexes: tuple[ConditionIndex | None, ...] = ()


class Config(NamedTuple):
    """A whole config file, validated."""

    path: Path | None
    providers: Mapping[str, ProviderConfig]
    rules: tuple[RuleConfig, ...]
    routing_enabled: bool
    default_provider: str
    default_model: str
    timezone: tzinfo | None = None
    timezone_name: str | None = None
    #: The whole parsed TOML document, as read.
    raw: Mapping[str, Any] = _EMPTY
    #: Non-fatal findings made while loading (``config validate`` adds more).
    warnings: tuple[str, ...] = ()
    #: The checked value of every config section (``[runner]``, ``[history]``,
    #: a plugin's table ...), by table name: read them with :meth:`section`.
    sections: Mapping[str, Any] = _EMPTY

    def section(self, name: str) -> Any:
        """The checked value of section ``name`` (its default when the file has no such table).

        Raises KeyError for a name no layer registered, and :class:`ConfigError`
        for a Config assembled without the loader whose tables are wrong.
        """
        from tacroute.config.sections import section_value
        from tacroute.plugins import get_registry

        return section_value(self, name, get_registry)

    @property
    def runner(self) -> RunnerSettings:
        """The ``[runner]`` section."""
        value: RunnerSettings = self.section("runner")
        return value

    @property
    def history(self) -> HistorySettings:
        """The ``[history]`` section (its path found from the environment as it was at load)."""
        value: HistorySettings = self.section("history")
        return value

    @property
    def base_dir(self) -> Path:
        """The folder relative commands and paths are resolved against."""
        return self.path.parent if self.path is not None else Path.cwd()

    def rules_by_priority(self) -> tuple[RuleConfig, ...]:
        """Rules highest priority first; ties keep file order."""
        return tuple(sorted(self.rules, key=lambda r: (-r.priority, r.position)))
