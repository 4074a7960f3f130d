"""A loaded config with one rule edited in memory equals loading the text the editor writes for that edit.

Random configs and random edits (add, update of each key, enable, disable,
delete, edits the loader refuses); for each, the editor's new text (not
written) is loaded as before, and :func:`~tacroute.config.preview.with_rule_tables`
must give the same config (rules, their order, the document, the routing
defaults, the sections, the decision on random tasks), or None where the
loader refuses the edit.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacroute.config import edit, parse_config
from tacroute.config.model import Config
from tacroute.config.preview import with_rule_tables
from tacroute.config.textedit import doc_rules
from tacroute.errors import ConfigError, UsageError
from tacroute.whatif.inputs import what_if_router
from testkit.rulegen import MODELS, PRIORITIES, rules_config

LABELS = ["bug", "docs", "ui"]
BAD_CONDITIONS: list[dict[str, Any]] = [{"no_such_condition": 1}, {"retry_count": {"gte": "x"}}]


def _conditions(rnd: random.Random) -> dict[str, Any]:
    if rnd.random() < 0.1:
        return rnd.choice(BAD_CONDITIONS)
    return rnd.choice([{}, {"labels": [rnd.choice(LABELS)]}, {"priority": rnd.choice(PRIORITIES)},
                       {"retry_count": {"gte": rnd.randrange(3)}}, {"hour_range": [rnd.randrange(12), 20]}])


def config_text(rnd: random.Random, rules: int) -> str:
    return rules_config(rnd, rules, lambda r: r.choice([{}, {"labels": [r.choice(LABELS)]}]))


def random_edit(rnd: random.Random, config: Config) -> tuple[str, str, dict[str, Any]]:
    names = [r.name for r in config.rules]
    name = rnd.choice(names)
    op = rnd.choice(["add", "add", "update", "update", "update", "enable", "disable", "delete"])
    if op == "add":
        return op, rnd.choice(["new", name]), {
            "priority": rnd.randrange(12), "model": rnd.choice([*MODELS, "unpriced-model"]),
            "provider": rnd.choice([None, "openrouter", "no-such-provider"]),
            "conditions": _conditions(rnd), "enabled": rnd.random() < 0.8}
    if op != "update":
        return op, name, {}
    fields: dict[str, Any] = {}
    for key in rnd.sample(["priority", "model", "provider", "conditions", "enabled"], rnd.randrange(1, 4)):
        fields[key] = {"priority": rnd.randrange(12), "model": rnd.choice(MODELS),
                       "provider": rnd.choice([None, "openrouter", "claude-cli", "no-such-provider"]),
                       "conditions": _conditions(rnd), "enabled": rnd.random() < 0.5}[key]
    return op, name, fields


def editor_text(path: Path, op: str, name: str, fields: dict[str, Any]) -> str:
    if op == "add":
        return edit.add_rule(path, name, priority=fields["priority"], model=fields["model"],
                             provider=fields["provider"], conditions=fields["conditions"],
                             enabled=fields["enabled"], write=False)
    if op == "delete":
        return edit.remove_rule(path, name, write=False)
    kw = {"enabled": op == "enable"} if op in ("enable", "disable") else fields
    return edit.update_rule(path, name, **kw, write=False)


def _rule_fields(config: Config) -> list[tuple[Any, ...]]:
    return [(r.name, r.priority, r.provider, r.model, dict(r.conditions), r.enabled, r.position, dict(r.raw),
             r.targets, r.strategy, r.requires, len(r.predicates)) for r in config.rules]


def _sections(config: Config) -> dict[str, Any]:
    """Each section's value (the preferences' entry sets, which have no equality, as their entries)."""
    return {k: (v.exact, v.globs) if type(v).__name__ == "EntrySet" else v for k, v in config.sections.items()}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_one_rule_edited_in_memory_equals_loading_the_edited_text(seed: int) -> None:
    rnd = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.toml"
        path.write_text(config_text(rnd, rnd.randrange(1, 12)), encoding="utf-8")
        saved = parse_config(path.read_text(encoding="utf-8"), path)
        for _ in range(4):
            op, name, fields = random_edit(rnd, saved)
            tables = doc_rules(saved.raw)
            assert tables is not None
            planned = edit.edited_tables(tables, op, name, fields)
            got = None if planned is None else with_rule_tables(saved, *planned)
            try:
                want = parse_config(editor_text(path, op, name, fields), path)
            except (ConfigError, UsageError):
                assert got is None, (op, name, fields)
                continue
            if got is None:
                continue  # the full load answers (a warning on the rule, say): allowed, not wrong
            assert _rule_fields(got) == _rule_fields(want)
            assert got.raw == want.raw and _sections(got) == _sections(want)
            fixed = ("path", "providers", "routing_enabled", "default_provider", "default_model", "timezone_name")
            assert [getattr(got, k) for k in fixed] == [getattr(want, k) for k in fixed]
            ra, rb = what_if_router(got, 0), what_if_router(want, 0)
            for _ in range(40):
                task = {"priority": rnd.choice(PRIORITIES), "labels": rnd.sample(LABELS, rnd.randrange(3)),
                        "retry_count": rnd.randrange(3), "hour": rnd.randrange(24)}
                assert ra.route(task) == rb.route(task)


def test_edits_the_editor_refuses_are_left_to_it(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(config_text(random.Random(1), 3), encoding="utf-8")
    saved = parse_config(path.read_text(encoding="utf-8"), path)
    tables = doc_rules(saved.raw)
    assert tables is not None
    assert edit.edited_tables(tables, "update", "missing", {"priority": 1}) is None
    assert edit.edited_tables(tables, "add", "r0", {"priority": 1, "model": "m", "conditions": {}}) is None
    planned = edit.edited_tables(tables, "update", "r1", {"conditions": {"no_such_condition": 1}})
    assert planned is not None and with_rule_tables(saved, *planned) is None
    planned = edit.edited_tables(tables, "update", "r1", {"priority": 42})
    assert planned is not None
    got = with_rule_tables(saved, *planned)
    assert got is not None and got.rules_by_priority()[0].name == "r1"
