"""Everything the UI takes from tacroute's core, in one place.

The rest of the package imports tacroute only through this module, so when a
core module moves, this is the one file to change.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacroute import ConfigError, ModelRouter, ProviderManager, TacrouteError, UsageError
from tacroute.cli._common import json_text
from tacroute.cli.providers_cmd import _live_check
from tacroute.cli.route_cmd import _skip, _trace_dict
from tacroute.config import Config, find_config, parse_config
from tacroute.config.edit import (
    ConfigChangedError,
    add_rule,
    checked_config,
    edited_tables,
    file_etag,
    parse_condition,
    remove_rule,
    set_rule_enabled,
    update_rule,
)
from tacroute.config.lint import lint_config
from tacroute.config.preview import with_rule_tables
from tacroute.config.textedit import doc_rules
from tacroute.errors import InvalidTaskError
from tacroute.history import HistoryStore, history_path
from tacroute.history.since import parse_since
from tacroute.plugins import get_registry
from tacroute.preferences import has_preferences
from tacroute.preferences.budgets import budget_states
from tacroute.preferences.router import PreferenceRouter
from tacroute.pricing import estimate_usage
from tacroute.routing import router_with_history
from tacroute.taskattrs import task_problem
from tacroute.tuples import NamedTuple
from tacroute.whatif.grouped import SavedDecisions, TaskGroup
from tacroute.whatif.grouped import simulate_groups as grouped_what_if
from tacroute.whatif.simulate import simulate_data

if TYPE_CHECKING:
    from tacroute.whatif.tally import Report

__all__ = [
    "Config", "ConfigChangedError", "ConfigError", "HistoryStore", "InvalidTaskError", "ModelRouter",
    "ProviderManager", "Router", "SavedDecisions", "Snapshot", "TacrouteError", "TaskGroup", "UsageError",
    "add_rule",
    "budget_states", "config_path", "doc_rules", "edited_tables", "estimate_usage", "explain", "file_etag",
    "has_preferences",
    "history_path", "json_text", "live_check", "parse_condition", "parse_since", "read_snapshot",
    "remove_rule", "router_for", "set_rule_enabled", "simulate_groups", "simulate_tasks", "task_problem",
    "update_rule", "with_rule_tables",
]

_RULE_KEY = re.compile(r"^routing\.rules\[(\d+)\]")


class Snapshot(NamedTuple):
    """One version of the config file: its bytes' etag, the loaded config and lint findings."""

    path: Path
    etag: str
    text: str
    config: Config
    #: Lint warnings per rule position, and those about no one rule.
    rule_warnings: dict[int, list[str]]
    warnings: list[str]


def config_path(given: Path | None) -> Path:
    """The config file ``tacroute ui --config`` (or the usual search) names."""
    return find_config(given)


def read_snapshot(path: Path) -> Snapshot:
    """Read, load and lint one version of the file (the etag is of exactly these bytes)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror or exc}", path) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file is not UTF-8 text: {exc}", path) from exc
    registry = get_registry()
    config = checked_config(text, path) or parse_config(text, path, registry=registry)  # an edit loaded it
    per_rule: dict[int, list[str]] = {}
    general: list[str] = []
    for warning in lint_config(config, registry):
        m = _RULE_KEY.match(warning)
        if m:
            per_rule.setdefault(int(m.group(1)), []).append(warning)
        else:
            general.append(warning)
    return Snapshot(path, file_etag(data), text, config, per_rule, general)


def parse_text(text: str, path: Path) -> Config:
    """A config from an edited (unsaved) text (the one the editor's check loaded, when it is this text)."""
    return checked_config(text, path) or parse_config(text, path, registry=get_registry())


#: What routes a task: the plain router, or the preference router around it when
#: the config has ``[projects]``/``[users]`` (as ``tacroute route``).
Router = ModelRouter | PreferenceRouter


def router_for(config: Config) -> Router:
    """The router ``tacroute route`` uses: provider availability, cooldowns and limits from history."""
    return router_with_history(config)


def explain(router: Router, task: dict[str, Any]) -> list[dict[str, Any]]:
    """``tacroute route --explain --json``'s per-rule trace."""
    return [{**_trace_dict(t), "skip": _skip(router, t)} for t in router.explain(task)]


def live_check(manager: ProviderManager, status: Any) -> dict[str, Any] | None:
    """``tacroute providers --check`` for one provider."""
    return _live_check(manager, status)


def simulate_tasks(saved: Config, edited: Config, data: bytes, name: str) -> Report:
    """Saved config against the edited one on JSON lines of tasks (what ``simulate --compare`` does)."""
    return simulate_data(saved, data, name, compare=edited, defaults=estimate_usage(saved.raw))


#: One distinct recorded task (attributes with its hour, as orjson bytes) and its runs:
#: [count, input, output, cache read, cache creation tokens].
def simulate_groups(saved: Config, edited: Config, groups: list[TaskGroup], name: str,
                    decisions: SavedDecisions | None = None) -> Report:
    """:func:`simulate_tasks` on tasks already grouped by attribute set (routed once per group);
    ``decisions``: the saved config's, kept between requests."""
    return grouped_what_if(saved, edited, groups, name, defaults=estimate_usage(saved.raw), saved=decisions)


def since_epoch(text: str) -> float:
    return parse_since(text, time.time())
