"""Routing: from a task's attributes to a provider and model, and why.

- :mod:`tacroute.routing.router`: :class:`ModelRouter`, the decision loop and ``--explain``;
- :mod:`tacroute.routing.targets`: each rule compiled to its candidates (strategies);
- :mod:`tacroute.routing.decision`: the matching candidates to one decision;
- :mod:`tacroute.routing.stats`: recorded performance for strategy ``cheapest``;
- :mod:`tacroute.routing.scenarios`: the example tasks ``tacroute routing`` decides.
"""

from __future__ import annotations

from tacroute.routing.assemble import router_with_history
from tacroute.routing.router import ConditionTrace, ModelRouter, RuleTrace

__all__ = ["ConditionTrace", "ModelRouter", "RuleTrace", "router_with_history"]
