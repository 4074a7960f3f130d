"""Per-project and per-user preferences: the layering, the deny filter, prefer and budgets."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tacroute.config import parse_config
from tacroute.errors import ConfigError, InvalidTaskError
from tacroute.plugins import Registry
from tacroute.preferences import plugin as preferences_plugin
from tacroute.preferences import preferences
from tacroute.preferences.router import PreferenceRouter
from tacroute.preferences.spend import SpendTable, period_bounds
from tacroute.whatif.inputs import AssumeAvailable
from tacroute_conditions import labels, priority
from testkit.script_provider import ScriptPlugin

PREFS = """
[providers.cli]
type = "script"
command_template = [{py}, "agent.py", "{{model}}"]
[providers.router]
type = "script"
command_template = [{py}, "agent.py", "{{model}}"]
[providers.other]
type = "script"
command_template = [{py}, "agent.py", "{{model}}"]

[routing]
enabled = true
default_provider = "router"
default_model = "g-default"
timezone = "UTC"

[[routing.rules]]
name = "g-docs"
priority = 50
conditions = {{ labels = ["docs"] }}
provider = "router"
model = "g-docs-model"

[[routing.rules]]
name = "g-bug"
priority = 40
conditions = {{ labels = ["bug"] }}
provider = "cli"
model = "g-bug-model"

[projects."acme/api"]
deny_providers = ["router"]
default_provider = "cli"
default_model = "api-default"
budget = {{ monthly_usd = 1, over = "downgrade", to = "other/cheap" }}

[[projects."acme/api".rules]]
name = "api-sec"
priority = 1
conditions = {{ labels = ["security"] }}
provider = "cli"
model = "opus"

[projects."acme/*"]
allow_providers = ["cli", "other"]
default_provider = "other"
default_model = "acme-default"

[projects."docs/*"]
budget = {{ daily_usd = 0.02, over = "block" }}

[projects."pool/*"]
budget = {{ monthly_usd = 0.02, over = "block", shared = true }}

[users.alice]
prefer_providers = ["cli"]

[[users.alice.rules]]
name = "alice-review"
priority = 100
conditions = {{ labels = ["review"] }}
provider = "cli"
model = "opus"

[users.bob]
default_model = "bob-default"
budget = {{ daily_usd = 5, reserve_usd = 4.99, over = "block" }}
"""

NOW = 1_750_000_000.0  # 2025-06-15 15:06:40 UTC


def registry() -> Registry:
    return Registry.from_plugins([labels, priority, ScriptPlugin(), preferences_plugin])


def load(text: str = PREFS, path: Path | None = None) -> Any:
    return parse_config(text.format(py=f'"{sys.executable}"'), path, registry=registry())


def router(spent: dict[tuple[str, str], float] | None = None, now: float = NOW) -> PreferenceRouter:
    config = load()
    prefs = preferences(config)
    table = SpendTable(prefs, config.timezone)
    table.current(now)
    for key, usd in (spent or {}).items():
        table.spend[key] = [usd, usd]
    return PreferenceRouter(config, prefs, providers=AssumeAvailable(config, registry()),
                            registry=registry(), spend=table, clock=lambda: now)


# task, spend so far, expected (provider, model, rule) or None for "no candidate"
SCENARIOS: list[tuple[str, dict[str, Any], dict[tuple[str, str], float], tuple[str, str, str | None] | None]] = [
    ("no project, no user: global rules", {"labels": ["docs"]}, {}, ("router", "g-docs-model", "g-docs")),
    ("no rule matches: global default", {}, {}, ("router", "g-default", None)),
    ("denied provider never chosen, whatever a rule says",
     {"project": "acme/api", "labels": ["docs"]}, {}, ("cli", "api-default", None)),
    ("project rule before global rules, whatever its priority",
     {"project": "acme/api", "labels": ["docs", "security"]}, {}, ("cli", "opus", "api-sec")),
    ("exact entry wins over the glob", {"project": "acme/api", "labels": ["bug"]}, {},
     ("cli", "g-bug-model", "g-bug")),
    ("glob entry: allow list filters, its default replaces the global one",
     {"project": "acme/web", "labels": ["docs"]}, {}, ("other", "acme-default", None)),
    ("user rule before global rules", {"user": "alice", "labels": ["docs", "review"]}, {},
     ("cli", "opus", "alice-review")),
    ("prefer_providers reorders what remains", {"user": "alice", "labels": ["docs", "bug"]}, {},
     ("cli", "g-bug-model", "g-bug")),
    ("project default before user default", {"project": "acme/api", "user": "bob"}, {},
     ("cli", "api-default", None)),
    ("user default before the global one", {"user": "bob"}, {}, ("router", "bob-default", None)),
    ("budget under: unchanged", {"project": "acme/api"}, {("project", "acme/api"): 0.99},
     ("cli", "api-default", None)),
    ("monthly budget spent: downgrade", {"project": "acme/api", "labels": ["security"]},
     {("project", "acme/api"): 1.0}, ("other", "cheap", None)),
    ("reserve: less than reserve_usd left blocks", {"user": "bob"}, {("user", "bob"): 0.02}, None),
    ("glob budget applies to each project on its own: docs/site blocked",
     {"project": "docs/site"}, {("project", "docs/site"): 0.02}, None),
    ("... while docs/blog still runs", {"project": "docs/blog"}, {("project", "docs/site"): 0.02},
     ("router", "g-default", None)),
    ("shared budget pools every project", {"project": "pool/c"}, {("project*", "pool/*"): 0.02}, None),
    ("project blocked wins over nothing else", {"project": "docs/x", "user": "alice"},
     {("project", "docs/x"): 0.5}, None),
]


@pytest.mark.parametrize(("name", "task", "spent", "expected"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_scenarios(name: str, task: dict[str, Any], spent: dict[tuple[str, str], float],
                   expected: tuple[str, str, str | None] | None) -> None:
    d = router(spent).route(task)
    if expected is None:
        assert not d.available
        assert "budget" in d.reason and "spent" in d.reason and "resets at" in d.reason
        assert d.fallbacks == ()
    else:
        assert d.available, d.reason
        assert (d.provider, d.model, d.rule) == expected
    for c in d.candidates if d.available else ():
        assert (task.get("project", "").startswith("acme/") and c.provider == "router") is False


def test_block_message_names_budget_spend_and_reset() -> None:
    d = router({("project", "docs/site"): 0.03}).route({"project": "docs/site"})
    assert "daily budget of project 'docs/*' for 'docs/site' is spent: $0.03 of $0.02 today" in d.reason
    assert "resets at 2025-06-16 00:00 UTC" in d.reason


def test_downgrade_reason_and_original_candidates_listed_as_skipped() -> None:
    d = router({("project", "acme/api"): 2.0}).route({"project": "acme/api"})
    assert "downgraded to other/cheap" in d.reason
    assert any(c.model == "api-default" and "budget" in (c.reason or "") for c in d.skipped)


def test_explain_names_each_layer() -> None:
    r = router({("project", "acme/api"): 2.0})
    task = {"project": "acme/api", "user": "alice", "labels": ["docs"]}
    steps = {s["layer"]: s["what"] for s in r.layers(task, r.route(task))}
    assert "exactly" in steps["project"] and "'alice'" in steps["user"]
    assert "denied by project 'acme/api'" in steps["deny filter"]
    assert "downgraded" in steps["budget"]
    assert "from project 'acme/api'" in steps["default"]


def test_project_and_user_must_be_strings() -> None:
    with pytest.raises(InvalidTaskError, match="project must be a string"):
        router().route({"project": 5})


def test_config_errors_name_file_and_key(tmp_path: Path) -> None:
    bad = PREFS + """
[projects."x/y"]
deny_providers = ["nope"]
default_provider = "router"
deny = 1
budget = {{ monthly_usd = 5, over = "downgrade", to = "router/m" }}
[projects."z"]
deny_providers = ["cli"]
default_provider = "cli"
default_model = "m"
"""
    path = tmp_path / "c.toml"
    with pytest.raises(ConfigError) as info:
        load(bad, path)
    text = str(info.value)
    assert 'projects."x/y".deny_providers[0]: unknown provider \'nope\'' in text
    assert 'projects."x/y".deny: unknown key' in text
    assert "projects.z.default_provider: the default provider 'cli' is one this project denies" in text
    assert str(path) in text


def test_overlapping_globs_are_listed_as_warnings() -> None:
    config = load(PREFS.replace('[projects."pool/*"]', '[projects."docs/s*"]\ndeny_providers = ["cli"]\n'
                                '[projects."pool/*"]'))
    assert any("'docs/s*' and 'docs/*' overlap" in w or "'docs/*' and 'docs/s*' overlap" in w
               for w in config.warnings), config.warnings


def test_a_new_period_resets_the_spend() -> None:
    config = load()
    prefs = preferences(config)
    table = SpendTable(prefs, config.timezone)
    now = [NOW]
    r = PreferenceRouter(config, prefs, providers=AssumeAvailable(config, registry()), registry=registry(),
                         spend=table, clock=lambda: now[0])
    table.current(NOW)
    table.add("docs/site", None, 0.05, NOW)
    assert not r.route({"project": "docs/site"}).available
    now[0] = period_bounds(NOW, config.timezone, "day")[1]  # midnight UTC
    assert r.route({"project": "docs/site"}).available


def test_a_repository_file_may_only_narrow(tmp_path: Path) -> None:
    from tacroute.preferences.repo import with_repo_config

    config = load(PREFS + "\n[policy]\nrepo_config = true\n")
    prefs = preferences(config)
    (tmp_path / ".tacroute.toml").write_text(
        '[projects."acme/api"]\ndeny_providers = ["other"]\nbudget = { monthly_usd = 0.5, over = "downgrade", '
        'to = "cli/cheap" }\n', encoding="utf-8")
    narrowed = with_repo_config(config, prefs, tmp_path, registry()).projects.match("acme/api")
    assert narrowed is not None and narrowed.deny == {"router", "other"}
    assert narrowed.budget is not None and narrowed.budget.limits[0].usd == 0.5
    (tmp_path / ".tacroute.toml").write_text(
        '[projects."acme/api"]\nallow_providers = ["router"]\nbudget = { monthly_usd = 5 }\n[routing]\n',
        encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        with_repo_config(config, prefs, tmp_path, registry())
    text = str(info.value)
    assert ".tacroute.toml" in text and "cannot allow provider 'router'" in text
    assert "cannot raise the monthly budget" in text and "routing: a repository's .tacroute.toml" in text
