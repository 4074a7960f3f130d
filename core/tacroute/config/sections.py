"""The registry of config sections, and checking them all in the loader's one pass.

The loader itself owns ``[providers]``, ``[routing]`` and ``[llm]``
(:data:`LOADER_TABLES`). Every other top-level table belongs to a section
(:class:`~tacroute.config.schema.ConfigSection`): the core's layers own
``[runner]``, ``[history]``, ``[pricing]`` and ``[estimate]``
(:func:`core_sections`), and a plugin adds its own from the
``register_config_sections`` hook. The names of all of them are the known
top-level tables: anything else gets an "unknown table" warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacroute.config.checker import Checker
from tacroute.config.schema import ConfigSection, SectionContext

if TYPE_CHECKING:
    from tacroute.config.model import Config

__all__ = ["LOADER_TABLES", "Sections", "all_sections", "check_sections", "core_sections", "core_table_names",
           "known_tables", "section_value"]

#: The top-level tables the loader reads itself, and what they hold.
LOADER_TABLES: Mapping[str, str] = {
    "providers": "provider definitions",
    "routing": "rules and defaults",
    "llm": "the seed's default provider and model",
}


def core_table_names() -> set[str]:
    """The top-level tables the core owns: no plugin may register one of these."""
    return {*LOADER_TABLES, *(s.name for s in core_sections())}


def core_sections() -> tuple[ConfigSection[Any], ...]:
    """The sections the core's own layers own."""
    from tacroute.history.settings import HISTORY_SECTION

    return (_RUNNER_SECTION, HISTORY_SECTION, _PRICING_SECTION, _ESTIMATE_SECTION, _SECRETS_SECTION,
            _STATE_SECTION)


# The runner's module (tacroute.runner.settings) is imported only for a config
# with a [runner] table, or when its settings are read: ``tacroute route``
# loads configs and must not load the runner package (nor the outcome types).
def _check_runner(value: Any, chk: Checker, ctx: SectionContext) -> Any:
    from tacroute.runner.settings import check_runner

    return check_runner(value, chk, ctx)


def _default_runner(ctx: SectionContext) -> Any:
    from tacroute.runner.settings import RunnerSettings

    return RunnerSettings()


def _check_state(value: Any, chk: Checker, ctx: SectionContext) -> Any:
    from tacroute.state.settings import check_state

    return check_state(value, chk.add, getattr(ctx.registry, "state_backends", {}))


def _default_state(ctx: SectionContext) -> Any:
    from tacroute.state.settings import StateSettings

    return StateSettings()


_STATE_SECTION: ConfigSection[Any] = ConfigSection(
    "state", "where limits, cooldowns and fleet aggregates live (tacroute.state.settings)", _check_state,
    default=_default_state)

_RUNNER_SECTION: ConfigSection[Any] = ConfigSection(
    "runner", "attempt limits, timeouts and failover (tacroute.runner.settings)", _check_runner,
    default=_default_runner)


# Likewise the checks of [pricing], [estimate] (tacroute.config.tables) and [secrets]
# (tacroute.secrets): imported for a config with the table, or when the value is read (a
# `cheapest` rule's prices, a provider's API key); absent, the value is the check of an
# empty table, which finds nothing to report.
def _check_pricing(value: Any, chk: Checker, ctx: SectionContext) -> Any:
    from tacroute.config.tables import check_pricing

    return check_pricing(value, chk, ctx)


def _check_estimate(value: Any, chk: Checker, ctx: SectionContext) -> Any:
    from tacroute.config.tables import check_estimate

    return check_estimate(value, chk, ctx)


def _check_secrets(value: Any, chk: Checker, ctx: SectionContext) -> Any:
    from tacroute.secrets import check_secrets

    return check_secrets(value, chk, ctx)


def _empty(check: Callable[[Any, Checker, SectionContext], Any]) -> Callable[[SectionContext], Any]:
    return lambda ctx: check({}, Checker(), ctx)


#: ``[pricing]``: prices as the config gives them (:class:`tacroute.pricing.PricingTable` merges them).
_PRICING_SECTION: ConfigSection[Any] = ConfigSection(
    "pricing", "model prices in USD per million tokens (tacroute.pricing)", _check_pricing,
    default=_empty(_check_pricing))
#: ``[estimate]``: the token counts it gives (:func:`tacroute.pricing.estimate_usage` fills in the rest).
_ESTIMATE_SECTION: ConfigSection[Any] = ConfigSection(
    "estimate", "a typical task's token counts (tacroute.whatif.simulate, strategy cheapest)",
    _check_estimate, default=_empty(_check_estimate))
_SECRETS_SECTION: ConfigSection[Any] = ConfigSection(
    "secrets", "an env file of keys a caller's environment lacks (tacroute.secrets)", _check_secrets,
    default=_empty(_check_secrets))


def all_sections(registry: Any) -> dict[str, ConfigSection[Any]]:
    """The core's sections, then those plugins registered (the registry refuses a clash)."""
    out = {s.name: s for s in core_sections()}
    for name, section in getattr(registry, "config_sections", {}).items():
        out.setdefault(name, section)
    return out


def known_tables(sections: Mapping[str, ConfigSection[Any]]) -> dict[str, str]:
    """Every top-level table a config may have, with what it holds."""
    return {**LOADER_TABLES, **{name: s.description for name, s in sections.items()}}


class Sections(Mapping[str, Any]):
    """The checked value of each section, and the document they were checked from.

    The value of a section the document does not have comes from its
    ``default`` when first read, so an absent table costs the load nothing.
    """

    __slots__ = ("_ctx", "_pending", "_values", "doc")

    def __init__(self, doc: Mapping[str, Any], values: Mapping[str, Any],
                 pending: Mapping[str, ConfigSection[Any]] | None = None,
                 ctx: SectionContext | None = None) -> None:
        self.doc = doc
        self._values = dict(values)
        self._pending = dict(pending or {})
        self._ctx = ctx

    def __getitem__(self, name: str) -> Any:
        if name in self._pending:
            section = self._pending[name]
            assert section.default is not None and self._ctx is not None
            self._values[name] = section.default(self._ctx)
            del self._pending[name]  # after a default that raised, the next read tries again
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter([*self._values, *self._pending])

    def __len__(self) -> int:
        return len(self._values) + len(self._pending)

    def __repr__(self) -> str:
        return f"Sections({self._values!r})"


def check_sections(doc: Mapping[str, Any], chk: Checker, ctx: SectionContext,
                   sections: Mapping[str, ConfigSection[Any]]) -> Sections:
    """Check each section's table of ``doc`` (or take its default) into its typed value."""
    values: dict[str, Any] = {}
    pending: dict[str, ConfigSection[Any]] = {}
    for name, section in sections.items():
        try:
            if name in doc:
                values[name] = section.check(doc[name], chk, ctx)
            elif section.default is not None:
                pending[name] = section
            else:
                values[name] = section.check({}, chk, ctx)
        except Exception as exc:  # noqa: BLE001 - a plugin's bug must not escape as a crash
            chk.add([name], f"the check of [{name}] failed: {type(exc).__name__}: {exc}")
    return Sections(doc, values, pending, ctx)


def section_value(config: Config, name: str, registry: Callable[[], Any]) -> Any:
    """The checked value of section ``name`` of ``config``.

    A Config assembled without the loader (embedding, tests, ``_replace(raw=...)``)
    has its sections checked now, with the same errors the loader would raise,
    against the sections of ``registry()``.
    """
    sections = config.sections
    if not (isinstance(sections, Sections) and sections.doc is config.raw):
        sections = _recheck(config, registry())
    try:
        return sections[name]
    except KeyError:
        raise KeyError(f"no config section {name!r}; registered sections: "
                       f"{', '.join(sections) or '(none)'}") from None


def _recheck(config: Config, registry: Any) -> Mapping[str, Any]:
    chk = Checker()
    ctx = SectionContext(config.path, config.base_dir, config.raw, registry)
    sections = check_sections(config.raw, chk, ctx, all_sections(registry))
    chk.raise_issues(_read(config.path), config.path)
    return sections


def _read(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
