"""The seed's routing scenarios: example tasks ``tacroute routing`` shows the decisions for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tacroute.routing.router import ModelRouter
    from tacroute.types import Decision

__all__ = ["SCENARIOS", "route_scenarios"]

#: The seed's scenario tests, plus the cases its cost examples describe.
SCENARIOS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("Critical security issue", {"priority": "critical", "labels": ["security"], "retry_count": 0,
                                 "hour": 14}),
    ("Documentation update", {"priority": "low", "labels": ["documentation"], "retry_count": 0,
                              "hour": 14}),
    ("Retry of a failed feature", {"priority": "normal", "labels": ["feature"], "retry_count": 1,
                                   "hour": 14}),
    ("High-priority bug", {"priority": "high", "labels": ["bug"], "retry_count": 0, "hour": 14}),
    ("Low-priority chore at 03:00", {"priority": "low", "labels": ["chore"], "retry_count": 0,
                                     "hour": 3}),
)


def route_scenarios(router: ModelRouter) -> list[tuple[str, dict[str, Any], Decision]]:
    """Each scenario's name, task and the router's decision for it."""
    return [(name, task, router.route(task)) for name, task in SCENARIOS]
