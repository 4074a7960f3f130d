"""Plugins loaded when first used (tacroute.plugins.deferred), against loading every plugin at start.

In-process tests use the installed plugins with a private cache folder: the
first registry learns each plugin's manifest, the next defers what it may.
Tests of edits and clashes run each start as its own process, since a module
once imported stays imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tacroute.plugins import Registry

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "config.toml"
#: What the seed config does not use: never imported by `tacroute route` on it.
UNUSED_BY_SEED = {"tacroute_codex_cli", "tacroute_gemini_cli", "tacroute_weekday", "tacroute_redis.plugin",
                  "tacroute_ui.plugin", "tacroute_conditions.match"}
TABLES = ("providers", "conditions", "output_parsers", "state_backends", "plugins")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TACROUTE_NO_PLUGIN_CACHE", raising=False)
    return tmp_path / "cache"


def learned() -> Registry:
    """A registry started after another one learned the manifests."""
    Registry.load(env={})
    return Registry.load(env={})


def everything() -> dict[str, list[str]]:
    reg = Registry.load(env={"TACROUTE_NO_PLUGIN_CACHE": "1"})
    return {t: sorted(getattr(reg, t)) for t in TABLES}


def test_register_only_plugins_wait_and_the_others_load_at_start(cache: Path) -> None:
    first = Registry.load(env={})
    assert first.deferred == []  # nothing known yet: everything loads, and is learned
    reg = Registry.load(env={})
    waiting = set(reg.deferred)
    assert {"codex_cli", "gemini_cli", "weekday", "match", "labels", "claude_cli", "redis", "ui"} <= waiting
    assert "history" not in waiting       # observer hooks: it must see every run
    assert "preferences" not in waiting   # config sections: the loader needs them up front


def test_a_lookup_loads_only_the_plugin_that_provides_the_name(cache: Path) -> None:
    reg = learned()
    before = set(reg.deferred)
    labels = reg.conditions.get("labels")
    assert labels is not None and labels.name == "labels"
    assert set(reg.deferred) == before - {"labels"}
    assert "claude-cli" in reg.providers and "claude_cli" not in reg.deferred
    assert "codex_cli" in reg.deferred and "weekday" in reg.deferred


def test_enumerating_or_an_unknown_name_loads_every_plugin(cache: Path) -> None:
    want = everything()
    reg = learned()
    assert reg.conditions.get("no-such-condition") is None
    assert reg.deferred == []
    assert sorted(reg.conditions) == want["conditions"]
    reg = learned()
    assert sorted(reg.providers.items()) and reg.deferred == []
    assert {t: sorted(getattr(reg, t)) for t in TABLES} == want
    assert reg.plugins["weekday"].conditions == ["weekday"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(TABLES), st.sampled_from(
    ["labels", "priority", "weekday", "match", "claude-cli", "codex-cli", "gemini-cli", "openrouter",
     "redis", "claude_cli", "history", "ui", "nope", "hour_range", "retry_count"]),
    st.sampled_from(["get", "in", "[]", "iter", "len"])), max_size=8))
def test_a_deferred_registry_answers_as_a_loaded_one(ops: list[tuple[str, str, str]]) -> None:
    lazy, full = learned(), Registry.load(env={"TACROUTE_NO_PLUGIN_CACHE": "1"})

    def answer(reg: Registry, table: str, name: str, how: str) -> Any:
        t = getattr(reg, table)
        if how == "get":
            found = t.get(name)
            return None if found is None else type(found).__name__ if table != "plugins" else found.as_dict()
        if how == "in":
            return name in t
        if how == "[]":
            return name in t and (type(t[name]).__name__ if table != "plugins" else t[name].as_dict())
        return sorted(t) if how == "iter" else len(t)

    for table, name, how in ops:
        assert answer(lazy, table, name, how) == answer(full, table, name, how), (table, name, how)


def test_nothing_waits_without_the_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Registry.load(env={})
    monkeypatch.setenv("TACROUTE_NO_PLUGIN_CACHE", "1")
    assert Registry.load(env={}).deferred == []


def test_lookups_from_threads_load_each_plugin_once(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reg = learned()
    names = ["labels", "priority", "weekday", "match", "hour_range", "retry_count"] * 4
    threads = [threading.Thread(target=lambda n=n: reg.conditions.get(n)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(reg.conditions.get(n) is not None for n in names)
    assert "skipping" not in capsys.readouterr().err  # no plugin registered twice
    assert len(reg.pm.get_plugins()) == len({reg.pm.get_name(p) for p in reg.pm.get_plugins()})


# --------------------------------------------------------------- real processes
def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TACROUTE_NO_PLUGIN_CACHE", "TACROUTE_CONFIG")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), TACROUTE_HISTORY=str(tmp_path / "none" / "h.db"),
               PATH=f"{ROOT / 'bench' / 'fakebin'}:{env.get('PATH', '')}", **extra)
    return env


ROUTE_PROBE = """
import json, sys
from tacroute.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="tacroute")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def test_route_imports_only_the_plugins_the_config_uses(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", ROUTE_PROBE, "route", "--config", str(SEED), "--priority", "critical",
            "--label", "bug", "--json"]
    outs = [subprocess.run(argv, capture_output=True, text=True, env=_env(tmp_path), cwd=tmp_path, timeout=120)
            for _ in range(2)]  # the first start learns the manifests
    assert all(out.returncode == 0 for out in outs), outs[0].stderr
    loaded = set(json.loads(outs[1].stderr.strip().splitlines()[-1]))
    assert not UNUSED_BY_SEED & loaded, UNUSED_BY_SEED & loaded
    assert {"tacroute_conditions.labels", "tacroute_claude_cli"} <= loaded
    full = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env=_env(tmp_path, TACROUTE_NO_PLUGIN_CACHE="1"))
    assert outs[1].stdout == outs[0].stdout == full.stdout and json.loads(full.stdout)["provider"]


def test_plugins_listing_and_unknown_condition_message_see_every_plugin(tmp_path: Path) -> None:
    tacroute = Path(sys.executable).parent / "tacroute"
    runs = [subprocess.run([str(tacroute), "plugins", "--json"], capture_output=True, text=True, cwd=tmp_path,
                           env=_env(tmp_path, **extra), timeout=120)
            for extra in ({}, {}, {"TACROUTE_NO_PLUGIN_CACHE": "1"})]
    assert runs[1].stdout == runs[2].stdout and '"weekday"' in runs[1].stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(SEED.read_text(encoding="utf-8").replace('priority = "critical"', 'wekday = "mon"', 1),
                   encoding="utf-8")
    out = subprocess.run([str(tacroute), "route", "--config", str(bad), "--priority", "low"], cwd=tmp_path,
                         capture_output=True, text=True, env=_env(tmp_path), timeout=120)
    assert out.returncode == 2 and "unknown condition type 'wekday'" in out.stderr
    assert "weekday" in out.stderr and "match" in out.stderr  # the full list, deferred plugins included


PLUGIN = '''
from tacroute import ConditionType, hookimpl

class C(ConditionType):
    name = {name!r}
    def compile(self, value, ctx):
        return lambda task: True

@hookimpl
def register_conditions(register):
    register(C())
{extra}
'''

REG_PROBE = """
import json
from tacroute.plugins import Registry
reg = Registry.load(env={})
waiting = sorted(reg.deferred)
print(json.dumps({"waiting": waiting, "conditions": sorted(reg.conditions)}))
"""


def _dist(site: Path, dist: str, eps: dict[str, str], modules: dict[str, str]) -> None:
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[tacroute]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()))
    for name, text in modules.items():
        pkg = site / name
        pkg.mkdir()
        (pkg / "__init__.py").write_text(text)


def _start(tmp_path: Path, site: Path) -> tuple[dict[str, Any], str]:
    out = subprocess.run([sys.executable, "-c", REG_PROBE], capture_output=True, text=True, cwd=tmp_path,
                         env=_env(tmp_path, PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1"), timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout), out.stderr


def test_an_edited_plugin_loads_at_start_again_and_its_new_names_are_seen(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _dist(site, "tr-edit", {"edit": "tr_edit_plugin"}, {"tr_edit_plugin": PLUGIN.format(name="ed1", extra="")})
    _start(tmp_path, site)
    seen, _ = _start(tmp_path, site)
    assert "edit" in seen["waiting"]
    edited = PLUGIN.format(name="ed1", extra="class D(C):\n    name = 'ed2'\n")
    edited = edited.replace("    register(C())\n", "    register(C())\n    register(D())\n")
    (site / "tr_edit_plugin" / "__init__.py").write_text(edited)
    seen, _ = _start(tmp_path, site)
    assert "edit" not in seen["waiting"] and "ed2" in seen["conditions"]
    seen, _ = _start(tmp_path, site)
    assert "edit" in seen["waiting"] and "ed2" in seen["conditions"]  # learned again


def test_a_clash_and_a_broken_plugin_are_reported_at_every_start(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _dist(site, "tr-one", {"one": "tr_one_plugin"}, {"tr_one_plugin": PLUGIN.format(name="same", extra="")})
    _dist(site, "tr-two", {"two": "tr_two_plugin", "gone": "tr_missing_module"},
          {"tr_two_plugin": PLUGIN.format(name="same", extra="")})
    for _ in range(3):  # the first plugin keeps the name at every start, as when nothing waits
        seen, err = _start(tmp_path, site)
        assert "skipping plugin 'two' (distribution tr-two): register_conditions failed: DuplicateNameError: " \
               "condition 'same' is registered by both plugin 'one' and plugin 'two'" in err
        assert "skipping plugin 'gone'" in err and "ModuleNotFoundError" in err
        assert seen["waiting"] == []  # a plugin that failed could claim any name: nothing waits


def test_another_layouts_first_start_keeps_this_layouts_manifests(cache: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    learned()
    extra = tmp_path / "other-layout"
    extra.mkdir()
    with monkeypatch.context() as m:  # e.g. `python -m` next to the console script: another sys.path
        m.syspath_prepend(str(extra))
        assert Registry.load(env={}).deferred == []  # its entry points scanned, nothing known yet
    assert Registry.load(env={}).deferred  # this layout's manifests were kept


def test_a_name_its_claimed_owner_no_longer_registers_is_looked_for_everywhere(cache: Path) -> None:
    learned()
    (path,) = (cache / "tacroute").glob("entry-points-*.json")
    doc = json.loads(path.read_text())
    for rows in doc["manifests"].values():  # a stale claim: `match` said it provided "ghost"
        rows["match"]["provides"]["conditions"].append("ghost")
    path.write_text(json.dumps(doc))
    reg = Registry.load(env={})
    assert "match" in reg.deferred and "weekday" in reg.deferred
    assert reg.conditions.get("ghost") is None
    assert reg.deferred == []  # not only `match`: every plugin was asked, as for an unknown name
