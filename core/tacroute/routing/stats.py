"""Recorded performance for strategy ``cheapest``: where it comes from, what it must meet."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tacroute.config.model import Config, Requirements
    from tacroute.types import ModelStats, StatsSource

__all__ = ["DictStats", "check_requirements", "history_stats"]


class DictStats:
    """A :class:`StatsSource` over a plain mapping (tests, and one history query)."""

    def __init__(self, stats: dict[tuple[str, str], ModelStats]) -> None:
        self.stats = stats

    def model_stats(self, provider: str, model: str) -> ModelStats | None:
        return self.stats.get((provider, model))


def check_requirements(req: Requirements, stats: ModelStats | None) -> tuple[bool, str]:
    """Whether recorded stats meet ``req``, and a short why for ``--explain``."""
    n = 0 if stats is None else stats.samples
    if stats is None or n < req.min_samples:
        return True, f"only {n} recorded run(s) (< min_samples {req.min_samples}): tried anyway"
    if req.min_success_rate is not None and stats.success_rate < req.min_success_rate:
        return False, (f"unmet requirement: success rate {stats.success_rate:.0%} < "
                       f"{req.min_success_rate:.0%} over {n} runs")
    if req.max_p95_s is not None and stats.p95_duration_s is not None \
            and stats.p95_duration_s > req.max_p95_s:
        return False, (f"unmet requirement: p95 duration {stats.p95_duration_s:.0f}s > "
                       f"{req.max_p95_s:.0f}s over {n} runs")
    return True, f"meets the requirements over {n} runs"


def history_stats(config: Config, registry: object = None) -> StatsSource | None:
    """Recorded stats from the history store, when a ``cheapest`` rule needs them.

    One query (``all_model_stats``) when the router is built; None when no rule
    uses ``cheapest``, ``[history] enabled = false``, nothing was recorded yet
    or the history file cannot be used (a warning on stderr). With a shared
    ``[state]`` backend, the fleet's aggregates instead (this machine's history
    while it cannot be reached).
    """
    if not any(r.strategy == "cheapest" and r.enabled for r in config.rules):
        return None
    from tacroute.state import fleet_model_stats

    fleet = fleet_model_stats(config, registry)
    if fleet is not None:
        return DictStats(fleet)
    from tacroute.history.settings import load_settings

    settings = load_settings(config)
    if not settings.enabled or not settings.path.exists():
        return None
    from tacroute.history.damage import HistoryError, give_up, is_broken
    from tacroute.history.store import HistoryStore

    if is_broken(settings.path):
        return None
    try:
        with HistoryStore(settings.path) as store:
            return DictStats(dict(store.all_model_stats()))
    except HistoryError as exc:  # routing goes on without recorded stats, said once on stderr
        give_up(settings.path, exc)
        return None
