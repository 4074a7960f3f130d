"""What-if on grouped tasks routing only the groups an edit can affect gives what routing every one gives.

Random configs and random single-rule edits made with the real rule editor
(priority changes, enable/disable, add, delete, condition, model and provider
changes), and edits outside the rules; each report from
:func:`~tacroute.whatif.grouped.simulate_groups` (with and without decisions
kept from earlier calls) must equal ``simulate --compare`` on the same tasks
one line per task.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacroute.config import edit, parse_config
from tacroute.config.model import Config
from tacroute.whatif.affected import changed_rules
from tacroute.whatif.grouped import SavedDecisions, simulate_groups
from tacroute.whatif.simulate import simulate_data
from testkit.rulegen import MODELS, PRIORITIES, rules_config

LABELS = ["bug", "docs", "ui", "perf"]


def _conditions(rnd: random.Random) -> dict[str, Any]:
    pick = rnd.randrange(6)
    return [{}, {"labels": [rnd.choice(LABELS)]}, {"priority": rnd.choice(PRIORITIES)},
            {"retry_count": {"gte": rnd.randrange(3)}}, {"hour_range": [rnd.randrange(12), 12 + rnd.randrange(12)]},
            {"labels": [rnd.choice(LABELS)], "priority": rnd.sample(PRIORITIES, 2)}][pick]


def config_text(rnd: random.Random, rules: int) -> str:
    return rules_config(rnd, rules, _conditions)


def groups_of(rnd: random.Random, n: int) -> list[tuple[bytes, list[int]]]:
    seen: dict[bytes, list[int]] = {}
    for _ in range(n):
        task = {"priority": rnd.choice(PRIORITIES), "labels": rnd.sample(LABELS, rnd.randrange(3)),
                "retry_count": rnd.randrange(3), "hour": rnd.randrange(24)}
        key = orjson.dumps(task)
        row = seen.setdefault(key, [0, 0, 0, 0, 0])
        for k, v in enumerate((1, rnd.randrange(1, 9_000), rnd.randrange(1, 900), rnd.randrange(99), 7)):
            row[k] += v
    return list(seen.items())


def per_task(groups: list[tuple[bytes, list[int]]]) -> bytes:
    """One line per task; the first of a group carries its token sums, the others none."""
    lines = []
    for key, (n, i, o, cr, cw) in groups:
        task = orjson.loads(key)
        lines.append(orjson.dumps({**task, "input_tokens": i, "output_tokens": o, "cache_read_tokens": cr,
                                   "cache_creation_tokens": cw}))
        lines.extend([orjson.dumps({**task, "input_tokens": 0, "output_tokens": 0})] * (n - 1))
    return b"\n".join(lines)


def edited(path: Path, rnd: random.Random, config: Config) -> str:
    """The text of one random edit of ``path`` (not written)."""
    names = [r.name for r in config.rules]
    name = rnd.choice(names)
    kind = rnd.randrange(9)
    if kind == 0:
        return edit.update_rule(path, name, priority=rnd.randrange(12), write=False)
    if kind == 1:
        return edit.update_rule(path, name, enabled=not config.rules[names.index(name)].enabled, write=False)
    if kind == 2:
        return edit.add_rule(path, "added", priority=rnd.randrange(12), model=rnd.choice(MODELS),
                             provider=rnd.choice([None, "openrouter"]), conditions=_conditions(rnd), write=False)
    if kind == 3:
        return edit.remove_rule(path, name, write=False)
    if kind == 4:
        return edit.update_rule(path, name, conditions=_conditions(rnd), write=False)
    if kind == 5:
        return edit.update_rule(path, name, model=rnd.choice(MODELS), write=False)
    if kind == 6:
        return edit.update_rule(path, name, provider=rnd.choice([None, "openrouter", "claude-cli"]), write=False)
    text = path.read_text(encoding="utf-8")
    if kind == 7:  # outside the rules: the default model
        return text.replace('default_model = "claude-sonnet-4-5"', f'default_model = "{rnd.choice(MODELS)}"', 1)
    return text  # no change at all


def _strip(report: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in report.items() if k != "source"}
    out["compare"] = {k: v for k, v in report["compare"].items() if k != "changed_lines"}
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_routing_only_affected_groups_equals_routing_every_task(seed: int) -> None:
    rnd = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.toml"
        path.write_text(config_text(rnd, rnd.randrange(1, 25)), encoding="utf-8")
        saved = parse_config(path.read_text(encoding="utf-8"), path)
        groups = groups_of(rnd, rnd.randrange(1, 300))
        data = per_task(groups)
        kept = SavedDecisions(saved)
        for _ in range(3):  # kept decisions serve the next edits too
            b = parse_config(edited(path, rnd, saved), path)
            want = _strip(simulate_data(saved, data, "x", compare=b).as_dict())
            assert _strip(simulate_groups(saved, b, groups, "x").as_dict()) == want
            assert _strip(simulate_groups(saved, b, groups, "x", saved=kept).as_dict()) == want


def test_only_rule_changes_take_the_shortcut(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(config_text(random.Random(3), 8), encoding="utf-8")
    a = parse_config(path.read_text(encoding="utf-8"), path)
    model = parse_config(edit.update_rule(path, "r2", model="claude-opus-4", write=False), path)
    assert [r.name for r in changed_rules(a, model) or ()] in (["r2", "r2"], [])
    added = parse_config(edit.add_rule(path, "new", priority=5, model="claude-haiku-4", provider=None,
                                       conditions={}, write=False), path)
    assert [r.name for r in changed_rules(a, added) or ("x",)] == ["new"]
    text = path.read_text(encoding="utf-8")
    other_default = parse_config(text.replace('default_model = "claude-sonnet-4-5"',
                                              'default_model = "claude-haiku-4"', 1), path)
    assert changed_rules(a, other_default) is None
    weighted = text + ('[[routing.rules]]\nname = "w"\npriority = 1\nconditions = {}\nstrategy = "weighted"\n'
                       'targets = [{ model = "claude-haiku-4" }, { model = "claude-opus-4" }]\n')
    assert changed_rules(a, parse_config(weighted, path)) is None
