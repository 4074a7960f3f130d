from __future__ import annotations

import tacroute
import tacroute.types


def test_every_public_name_resolves() -> None:
    for name in tacroute.__all__:
        assert getattr(tacroute, name) is not None, name


def test_outcome_types_are_reachable_from_types_module() -> None:
    from tacroute.types import Usage

    assert tacroute.types.Usage is Usage
    assert tacroute.Usage is Usage


def test_a_provider_plugins_signatures_need_nothing_but_tacroute() -> None:
    """Everything the README's provider examples name is importable from the package root."""
    from tacroute.config.model import ProviderConfig
    from tacroute.errors import UsageError
    from tacroute.history.store import HistoryStore
    from tacroute.providers.execute import Attempt, Provider

    for name, obj in {"ProviderConfig": ProviderConfig, "UsageError": UsageError,
                      "HistoryStore": HistoryStore, "Attempt": Attempt, "Provider": Provider}.items():
        assert name in tacroute.__all__
        assert getattr(tacroute, name) is obj
    for name in ("ProviderType", "Outcome", "ErrorClass", "Usage", "OutputParser", "ParserSignal",
                 "OutputParserType", "CommandProvider", "Task", "hookimpl"):
        assert name in tacroute.__all__, name
