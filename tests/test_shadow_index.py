"""The indexed shadowing lint finds exactly what comparing every pair finds."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacroute.config.locate import locate, locate_all
from tacroute.config.model import RuleConfig
from tacroute.config.shadow import find_shadowers, shadows
from tacroute.plugins import Registry

REGISTRY = Registry.load(env={"TACROUTE_LOAD_PLUGINS": "priority,labels,retry_count,hour_range,"
                                                       "claude_cli,openrouter"})

LABELS = ["docs", "DOCS", "bug", "ui", "sec"]
conditions = st.fixed_dictionaries({}, optional={
    "labels": st.one_of(st.sampled_from(LABELS), st.lists(st.sampled_from(LABELS), max_size=3)),
    "priority": st.one_of(st.sampled_from(["high", "low", "Critical"]),
                          st.lists(st.sampled_from(["high", "low", "critical"]), max_size=2)),
    "retry_count": st.one_of(st.integers(0, 3), st.fixed_dictionaries({"gte": st.integers(0, 3)}),
                             st.fixed_dictionaries({"gte": st.integers(0, 2), "lte": st.integers(1, 3)})),
    "hour_range": st.tuples(st.integers(0, 23), st.integers(0, 23)).map(list),
})


def pairwise(ordered: list[RuleConfig], skip: set[int]) -> dict[int, str]:
    """The lint as it was: each rule against every rule checked before it."""
    out: dict[int, str] = {}
    for i, rule in enumerate(ordered):
        if i in skip:
            continue
        for higher in ordered[:i]:
            if shadows(higher, rule, REGISTRY):
                out[i] = higher.name
                break
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(conditions, max_size=14), st.sets(st.integers(0, 13)))
def test_index_finds_what_pairwise_finds(conds: list[dict[str, Any]], skip: set[int]) -> None:
    rules = [RuleConfig(name=f"r{i}", priority=0, provider="p", model="m", conditions=c, predicates=(),
                        position=i) for i, c in enumerate(conds)]
    found = find_shadowers(rules, REGISTRY, skip={i: True for i in skip})
    assert {i: r.name for i, r in found.items()} == pairwise(rules, skip)


TEXT = """\
top = 1
[provider.x]
a = 1
[routing]
enabled = true
[[routing.rules]]
name = "a"
targets = [
    ["nested", "array"],
]
[[routing.rules]]
name = "b"
[routing.rules.conditions]
labels = ["x"]
"""


def test_locate_all_matches_locate_and_finds_tables_given_only_by_their_children() -> None:
    paths: list[list[str | int]] = [["top"], ["provider"], ["provider", "x", "a"], ["routing", "enabled"],
                                    ["routing", "rules", 0, "targets", 0], ["routing", "rules", 1, "model"],
                                    ["routing", "rules", 1, "conditions", "labels"], ["nothing"]]
    lines = locate_all(TEXT, paths)
    assert lines == [1, 2, 3, 5, 8, 11, 14, None]
    assert lines == [locate(TEXT, p) for p in paths]


def test_lint_compares_rules_a_near_linear_number_of_times(monkeypatch: Any) -> None:
    """Counted, not timed: 1,000 rules with distinct labels must not cost a million covers() calls."""
    from tacroute.config import parse_config
    from tacroute.config.lint import lint_config
    from testkit.seed import seed_text

    n = 1_000
    text = seed_text() + "".join(
        f'\n[[routing.rules]]\nname = "x{i}"\npriority = {i % 7}\n'
        f'conditions = {{ labels = ["a{i}", "b{i % 10}"], priority = ["high", "p{i}"] }}\nmodel = "m"\n'
        f'\n[[routing.rules]]\nname = "y{i}"\npriority = {i % 7}\n'
        f'conditions = {{ labels = ["a{i}"], priority = "p{i}" }}\nmodel = "m"\n'
        for i in range(n // 2))
    config = parse_config(text, registry=REGISTRY)
    calls = 0
    for name in ("labels", "priority"):
        ctype = REGISTRY.conditions[name]
        original = ctype.covers

        def counting(broader: Any, narrower: Any, _original: Any = original) -> bool:
            nonlocal calls
            calls += 1
            return bool(_original(broader, narrower))

        monkeypatch.setattr(ctype, "covers", counting)
    warnings = lint_config(config, REGISTRY)
    shadowed = [w for w in warnings if "shadowed by" in w]
    # every y rule is shadowed by its x rule (same priority, x first in the file)
    assert len(shadowed) == n // 2
    assert all(f"('y{i}'): shadowed by 'x{i}'" in " ".join(shadowed) for i in range(0, n // 2, 50))
    assert calls < 20 * n
