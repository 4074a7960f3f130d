from __future__ import annotations

from pathlib import Path

import pytest

from tacroute.config import load_config, parse_config
from tacroute.plugins import Registry
from tacroute.routing import ModelRouter
from testkit.seed import seed_text


@pytest.fixture
def router(seed_file: Path, builtin_registry: Registry) -> ModelRouter:
    return ModelRouter(load_config(seed_file, registry=builtin_registry), registry=builtin_registry)


@pytest.mark.parametrize(("task", "model", "rule"), [
    ({"priority": "critical", "labels": ["security"], "retry_count": 0, "hour": 14},
     "claude-opus-4", "critical-issues-opus"),
    ({"priority": "low", "labels": ["documentation"], "retry_count": 0, "hour": 14},
     "claude-haiku-4", "docs-haiku"),
    ({"priority": "normal", "retry_count": 2, "hour": 14}, "claude-haiku-4", "retry-use-haiku"),
    ({"priority": "HIGH", "hour": 14}, "claude-sonnet-4-5", "high-priority-sonnet"),
    ({"priority": "low", "hour": 3}, "claude-haiku-4", "off-hours-haiku"),
    ({"priority": "low", "labels": ["Docs"], "hour": 12}, "claude-haiku-4", "docs-haiku"),
    ({"priority": "low", "hour": 12}, "claude-sonnet-4-5", None),
])
def test_seed_scenarios(router: ModelRouter, task: dict[str, object], model: str, rule: str | None) -> None:
    d = router.route(task)
    assert (d.provider, d.model, d.rule) == ("claude-cli", model, rule)
    assert d.available


def test_fallbacks_are_later_matches_then_default(router: ModelRouter) -> None:
    d = router.route({"priority": "critical", "retry_count": 1, "labels": ["docs"], "hour": 3})
    assert d.rule == "critical-issues-opus"
    # retry-use-haiku, off-hours-haiku and docs-haiku all pick claude-haiku-4: tried once.
    assert [(c.model, c.rule) for c in d.fallbacks] == [
        ("claude-haiku-4", "retry-use-haiku"), ("claude-sonnet-4-5", None)]
    assert d.as_dict()["fallbacks"][1] == {"provider": "claude-cli", "model": "claude-sonnet-4-5", "rule": None}


def test_single_match_has_default_as_fallback(router: ModelRouter) -> None:
    d = router.route({"priority": "critical", "hour": 12})
    assert [(c.model, c.rule) for c in d.fallbacks] == [("claude-sonnet-4-5", None)]
    d = router.route({"priority": "high", "hour": 12})
    assert d.fallbacks == ()  # the default is the same provider/model


def test_routing_disabled_uses_default(seed_file: Path, builtin_registry: Registry) -> None:
    seed_file.write_text(seed_text(enabled=False))
    r = ModelRouter(load_config(seed_file, registry=builtin_registry), registry=builtin_registry)
    d = r.route({"priority": "critical"})
    assert (d.model, d.rule) == ("claude-sonnet-4-5", None)
    assert "disabled" in d.reason


def test_ties_keep_file_order(seed_file: Path, builtin_registry: Registry) -> None:
    text = seed_text() + """
[[routing.rules]]
name = "tie-first"
priority = 10
conditions = { labels = ["x"] }
model = "m1"
[[routing.rules]]
name = "tie-second"
priority = 10
conditions = { labels = ["x"] }
model = "m2"
"""
    r = ModelRouter(parse_config(text, seed_file, registry=builtin_registry), registry=builtin_registry)
    d = r.route({"labels": ["x"], "hour": 12, "priority": "low"})
    assert d.rule == "tie-first" and d.fallbacks[0].rule == "tie-second"


def test_unavailable_provider_is_skipped_with_reason(seed_file: Path, builtin_registry: Registry,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    text = seed_text() + """
[[routing.rules]]
name = "low-priority-openrouter"
priority = 99
conditions = { priority = "low" }
provider = "openrouter"
model = "anthropic/claude-3.5-haiku"
"""
    r = ModelRouter(parse_config(text, seed_file, registry=builtin_registry), registry=builtin_registry)
    d = r.route({"priority": "low", "hour": 12})
    assert d.available and d.rule is None and d.provider == "claude-cli"
    assert [(c.rule, c.reason) for c in d.skipped] == [("low-priority-openrouter", "OPENROUTER_API_KEY not set")]
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-test")
    r = ModelRouter(parse_config(text, seed_file, registry=builtin_registry), registry=builtin_registry)
    assert r.route({"priority": "low", "hour": 12}).provider == "openrouter"


def test_no_available_candidate_still_names_the_choice(seed_file: Path, builtin_registry: Registry,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    r = ModelRouter(load_config(seed_file, registry=builtin_registry), registry=builtin_registry)
    d = r.route({"priority": "critical", "hour": 12})
    assert not d.available
    assert (d.provider, d.model, d.rule) == ("claude-cli", "claude-opus-4", "critical-issues-opus")
    assert "not found" in d.reason
    d = r.route({"priority": "low", "hour": 12})
    assert not d.available and d.rule is None


class Gate:
    def __init__(self, blocked: set[str]) -> None:
        self.blocked = blocked

    def skip_reason(self, provider: str, model: str) -> str | None:
        return "cooling down" if model in self.blocked else None


def test_gate_skips_candidates(seed_file: Path, builtin_registry: Registry) -> None:
    cfg = load_config(seed_file, registry=builtin_registry)
    r = ModelRouter(cfg, registry=builtin_registry, gate=Gate({"claude-opus-4"}))
    d = r.route({"priority": "critical", "hour": 12})
    assert (d.model, d.rule) == ("claude-sonnet-4-5", None)
    assert [(c.model, c.reason) for c in d.skipped] == [("claude-opus-4", "cooling down")]
    r = ModelRouter(cfg, registry=builtin_registry, gate=Gate({"claude-opus-4", "claude-sonnet-4-5"}))
    d = r.route({"priority": "critical", "hour": 12})
    assert not d.available and d.model == "claude-opus-4" and "cooling down" in d.reason


def test_explain_shows_each_condition(router: ModelRouter) -> None:
    traces = router.explain({"priority": "normal", "retry_count": 0, "hour": 12})
    by_name = {t.name: t for t in traces}
    assert by_name["high-priority-sonnet"].matched
    assert [c.passed for c in by_name["retry-use-haiku"].conditions] == [False]
    assert next(t.name for t in traces) == "critical-issues-opus"


def test_disabled_rule_is_skipped(seed_file: Path, builtin_registry: Registry) -> None:
    text = seed_text().replace('name = "critical-issues-opus"\n', 'name = "critical-issues-opus"\nenabled = false\n')
    r = ModelRouter(parse_config(text, seed_file, registry=builtin_registry), registry=builtin_registry)
    assert r.route({"priority": "critical", "hour": 12}).rule is None


def test_reload_keeps_old_config_when_new_is_invalid(seed_file: Path, builtin_registry: Registry) -> None:
    r = ModelRouter(load_config(seed_file, registry=builtin_registry), registry=builtin_registry)
    errors: list[Exception] = []
    seed_file.write_text(seed_text().replace("priority = 100", "priority = 'top'"))
    assert r.reload(on_error=errors.append) is False
    assert "routing.rules[0].priority" in str(errors[0])
    assert r.route({"priority": "critical", "hour": 12}).model == "claude-opus-4"
    seed_file.write_text(seed_text().replace('model = "claude-opus-4"', 'model = "claude-opus-4-5"'))
    assert r.reload() is True
    assert r.route({"priority": "critical", "hour": 12}).model == "claude-opus-4-5"


def test_reload_if_changed(seed_file: Path, builtin_registry: Registry) -> None:
    import os

    r = ModelRouter(load_config(seed_file, registry=builtin_registry), registry=builtin_registry)
    assert r.reload_if_changed() is False
    seed_file.write_text(seed_text().replace('model = "claude-opus-4"', 'model = "opus-next"'))
    st = seed_file.stat()
    os.utime(seed_file, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert r.reload_if_changed() is True
    assert r.route({"priority": "critical", "hour": 12}).model == "opus-next"


def test_hour_from_clock_when_task_has_none(seed_file: Path, builtin_registry: Registry) -> None:
    text = seed_text().replace("[routing]\n", '[routing]\ntimezone = "UTC"\n')
    cfg = parse_config(text, seed_file, registry=builtin_registry)
    import datetime as dt

    hour = dt.datetime.now(dt.UTC).hour
    d = ModelRouter(cfg, registry=builtin_registry).route({"priority": "low"})
    assert (d.rule == "off-hours-haiku") == (hour < 8)
