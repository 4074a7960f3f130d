from __future__ import annotations

import tacroute
import tacroute.types


def test_every_public_name_resolves() -> None:
    for name in tacroute.__all__:
        assert getattr(tacroute, name) is not None, name


def test_outcome_types_are_reachable_from_types_module() -> None:
    from tacroute.outcomes import Usage

    assert tacroute.types.Usage is Usage
    assert tacroute.Usage is Usage
