from __future__ import annotations

import tacroute


def test_version() -> None:
    assert tacroute.__version__
