"""What ``tacroute route`` and a run's start leave unimported, checked in real processes.

``route`` on the seed config with a history file present whose cooldown horizon
has passed (nothing can be cooling down) reads neither the history nor SQLite;
with a cooldown running it reads the database and skips the model. It loads neither the preferences layer (no ``[projects]``/``[users]``)
nor anything only a run needs; ``tacroute-claude`` spawns the CLI before
loading what only the end of a run or a rare case needs (``shutil``,
``tempfile``, ``uuid`` with ``platform``, ``random``, the record helpers,
the pricing table, the bounds on the worker's figures).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tacroute.config import load_config
from tacroute.history import HistoryGate
from tacroute.history.store import HistoryStore
from tacroute.types import ErrorClass
from testkit.dropin import dropin_folder
from testkit.history import make_attempt

ROOT = Path(__file__).resolve().parent.parent

ROUTE_PROBE = """
import json, sys
compiled = []
sys.addaudithook(lambda event, args: compiled.append(str(args[0])) if event == "compile" else None)
from tacroute.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="tacroute")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
print(json.dumps({"compiled": compiled}), file=sys.stderr)
"""

SPAWN_PROBE = """
import json, subprocess, sys
seen = []
spawn = subprocess.Popen._execute_child
def spy(self, *args, **kwargs):
    if not seen:
        seen.append(1)
        print(json.dumps(sorted(sys.modules)), file=sys.stderr, flush=True)
    return spawn(self, *args, **kwargs)
subprocess.Popen._execute_child = spy
sys.argv = ["tacroute-claude", "-p", "Say OK.", "--model", "sonnet", "--output-format", "stream-json", "--verbose"]
from tacroute_claude_cli.dropin.main import main
main()
"""

#: Loaded only by a run that needs them (publishing --output-file, waiting for a slot,
#: a result without a session id), never before the worker starts.
RUN_ONLY = {"shutil", "tempfile", "uuid", "platform", "random"}
#: The state seam: loaded when a slot is taken, [state] names a backend or state is shown.
STATE_BACKENDS = {"tacroute.state", "tacroute.state.api", "tacroute.state.settings", "tacroute.state.sqlite",
                  "tacroute.state.shared", "tacroute.state.holds", "tacroute.state.fleet"}
#: What only taking a slot or running an attempt needs: provider slots (no provider of the seed
#: config has a limit) and the attempt seam.
SLOTS_AND_ATTEMPTS = {"tacroute.history.slots", "tacroute.providers.execute"}
#: Parsed only for a --attr option.
ATTR_PARSER = "tacroute.keyvalue"
#: Needed only once the worker has exited (recording, the bounds on its figures, an
#: estimated cost) or by another kind of provider: loaded after the spawn, while
#: the CLI starts up, so they delay neither its start nor our end.
AFTER_SPAWN = {"tacroute.history.records", "tacroute.bounds", "tacroute.pricing", "tacroute.runner.inprocess",
               "tacroute.runner.plain"}
#: The TOML parser (with ``string``, which only it and command templates used): a config read
#: before with the same text comes from the parsed-config cache; ``locale``: click's run-time
#: gettext (the help option's text, ``click.Path``'s name), which route's classes do without.
TOML_AND_GETTEXT = {"tomllib", "tomllib._parser", "string", "locale"}
#: A rule's ``targets``/``strategy``/``requires`` checks and the recorded stats ``cheapest`` reads.
TARGETS = {"tacroute.config.targets", "tacroute.routing.stats"}
#: The checks of [pricing] and [estimate], and [secrets] with its env file.
TABLES_AND_SECRETS = {"tacroute.config.tables", "tacroute.secrets"}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TACROUTE_")}
    return {**env, "XDG_CACHE_HOME": str(tmp_path / "cache"), **extra}


def _modules(proc: subprocess.CompletedProcess[str]) -> set[str]:
    lines = [line for line in proc.stderr.splitlines() if line.startswith("[")]
    assert lines, proc.stderr
    return set(json.loads(lines[0]))


def _route(tmp_path: Path, config: Path) -> set[str]:
    return _modules(_route_process(tmp_path, config))


def _route_process(tmp_path: Path, config: Path) -> subprocess.CompletedProcess[str]:
    history = tmp_path / "history.db"
    with HistoryStore(history):
        pass  # a machine that ran tasks before: the gate reads it
    argv = [sys.executable, "-c", ROUTE_PROBE, "route", "--config", str(config), "--priority", "critical", "--json"]
    env = _env(tmp_path, TACROUTE_HISTORY=str(history))
    for _ in range(2):  # the first run fills the entry-point cache (a scan loads zipfile, shutil...)
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False)
        assert '"provider"' in proc.stdout, proc.stderr
    return proc


def test_route_reads_the_history_without_the_preferences_layer_or_the_run_helpers(tmp_path: Path) -> None:
    mods = _route(tmp_path, ROOT / "examples" / "config.toml")
    # the gate is there, but the cooldown horizon beside the history file has passed: no cooldown
    # can be running, so neither SQLite nor the store loads and the database is not opened
    assert "tacroute.history.gate" in mods
    assert {"sqlite3", "tacroute.history.store", "tacroute.history.schema"} & mods == set()
    assert {"tacroute.preferences.check", "tacroute.preferences.model", "tacroute.routing.scenarios"} & mods == set()
    assert (RUN_ONLY - {"uuid", "platform"}) & mods == set()  # click itself imports uuid
    # no [state] table: the gate reads the store itself; the Redis plugin's backend type
    # subclasses a plugin base class: neither the state seam, its backends nor [state]'s settings load
    assert STATE_BACKENDS & mods == set()
    assert SLOTS_AND_ATTEMPTS & mods == set()
    assert ATTR_PARSER not in mods
    assert TOML_AND_GETTEXT & mods == set()
    assert "contextvars" not in mods  # the registry knows the running plugin per thread without it
    assert TARGETS & mods == set()  # no rule of the seed has targets
    assert TABLES_AND_SECRETS & mods == set()  # nor [pricing], [estimate] or [secrets]
    assert "bisect" not in mods  # five rules are matched by their predicates: no range bisected


def test_route_compiles_no_namedtuple_constructor(tmp_path: Path) -> None:
    """tacroute.tuples gives each class a renamed copy of a ``__new__`` compiled with it, where
    ``collections.namedtuple`` compiles one from text per class (~20 classes on route's path)."""
    proc = _route_process(tmp_path, ROOT / "examples" / "config.toml")
    compiled = set(next(json.loads(line)["compiled"] for line in proc.stderr.splitlines() if line.startswith("{")))
    ours = [value for name in _modules(proc) if name.startswith("tacroute")
            for value in vars(importlib.import_module(name)).values()
            if isinstance(value, type) and issubclass(value, tuple) and hasattr(value, "_fields")
            and value.__module__ == name]
    assert len(ours) >= 15  # Config, RuleConfig, Decision, Candidate, the history's ...
    namedtuples_text = {f"lambda _cls, {', '.join(c._fields)}: _tuple_new(_cls, ({', '.join(c._fields)}))"
                        for c in ours}  # what collections.namedtuple compiles for each
    assert {str(text.encode()) for text in namedtuples_text} & compiled == set()
    assert any("_tuple_new(_cls" in text for text in compiled)  # the stdlib's own (dis, inspect) were seen


def test_route_reads_the_database_while_a_cooldown_runs_and_skips_the_model(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"  # a `claude` on PATH: the seed's claude-cli candidates are available
    bin_dir.mkdir()
    (bin_dir / "claude").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "claude").chmod(0o755)
    env = _env(tmp_path, TACROUTE_HISTORY=str(tmp_path / "history.db"), PATH=f"{bin_dir}:/usr/bin:/bin")
    argv = [sys.executable, "-c", ROUTE_PROBE, "route", "--config", str(ROOT / "examples" / "config.toml"),
            "--priority", "critical", "--json"]

    def route() -> tuple[dict[str, Any], set[str]]:
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False)
        return json.loads(proc.stdout), _modules(proc)

    quiet, mods = route()  # no history file yet: no gate at all
    assert (quiet["model"], quiet["available"], quiet["skipped"]) == ("claude-opus-4", True, [])
    def rate_limited(ago: float, retry_after: float) -> None:
        with HistoryStore(tmp_path / "history.db") as store:
            store.record_attempt(make_attempt(f"r{ago}", provider="claude-cli", model="claude-opus-4",
                                              success=False, error_class=ErrorClass.RATE_LIMIT,
                                              started_at=time.time() - ago, duration_ms=0,
                                              retry_after_s=retry_after))

    rate_limited(7200, 60)  # over long ago: the horizon has passed
    passed, mods = route()
    assert passed == quiet and "sqlite3" not in mods and "tacroute.history.gate" in mods
    os.unlink(tmp_path / "history.db-cooldowns")  # no horizon: the database is read, to the same decision
    again, mods = route()
    assert again == quiet and "sqlite3" in mods
    rate_limited(120, 3600)  # a rate limit answered two minutes ago, for an hour
    cooling, mods = route()
    assert "sqlite3" in mods  # the horizon is an hour away: the database was read
    assert (cooling["provider"], cooling["model"], cooling["available"]) == ("claude-cli", "claude-sonnet-4-5", True)
    (skip,) = cooling["skipped"]
    assert (skip["model"], skip["rule"]) == ("claude-opus-4", "critical-issues-opus")
    assert skip["reason"].startswith("cooldown until ") and skip["reason"].endswith(
        "rate limited (retry-after 3600 s)")


def test_route_parses_a_changed_config_and_no_cache_means_tomllib(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    seed = (ROOT / "examples" / "config.toml").read_text(encoding="utf-8")
    config.write_text(seed, encoding="utf-8")
    assert "tomllib" not in _route(tmp_path, config)  # the first of _route's two runs parsed it
    config.write_text(seed.replace("claude-opus-4", "claude-opus-5"), encoding="utf-8")
    probe = [sys.executable, "-c", ROUTE_PROBE, "route", "--config", str(config), "--priority", "critical", "--json"]
    proc = subprocess.run(probe, capture_output=True, text=True, cwd=ROOT, env=_env(tmp_path), timeout=120, check=False)
    assert json.loads(proc.stdout)["model"] == "claude-opus-5" and "tomllib" in _modules(proc)
    off = _env(tmp_path, TACROUTE_NO_CONFIG_CACHE="1")
    proc = subprocess.run(probe, capture_output=True, text=True, cwd=ROOT, env=off, timeout=120, check=False)
    assert json.loads(proc.stdout)["model"] == "claude-opus-5" and "tomllib" in _modules(proc)


def test_a_config_with_projects_still_has_them_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text((ROOT / "examples" / "config.toml").read_text(encoding="utf-8")
                      + '\n[projects."acme/*"]\ndeny_providers = ["openrouter"]\n', encoding="utf-8")
    assert {"tacroute.preferences.check", "tacroute.preferences.model"} <= _route(tmp_path, config)
    bad = tmp_path / "bad.toml"
    bad.write_text(config.read_text(encoding="utf-8") + '\n[users.ann]\nbudget = 3\n', encoding="utf-8")
    proc = subprocess.run([str(Path(sys.executable).parent / "tacroute"), "route", "--config", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, env=_env(tmp_path), timeout=120, check=False)
    assert proc.returncode == 2 and "users.ann.budget" in proc.stderr


def test_the_claude_dropin_starts_the_cli_before_loading_what_only_some_runs_need(tmp_path: Path) -> None:
    dropin_folder(tmp_path)
    for _ in range(2):  # the first run fills the entry-point cache
        proc = subprocess.run([sys.executable, "-c", SPAWN_PROBE], capture_output=True, text=True, cwd=tmp_path,
                              env=_env(tmp_path), stdin=subprocess.DEVNULL, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["result"] == "OK"
    assert RUN_ONLY & _modules(proc) == set()
    assert AFTER_SPAWN & _modules(proc) == set()
    # the prompt went through run_task's own private file, removed at the end
    assert {p.name for p in (tmp_path / "runs").glob("*/*")} == {"attempt-1-claude.jsonl"}


def test_a_rule_with_targets_still_has_them_checked_and_routed(tmp_path: Path) -> None:
    seed = (ROOT / "examples" / "config.toml").read_text(encoding="utf-8")
    rule = """
[[routing.rules]]
name = "cheap-critical"
priority = 200
conditions = { priority = "critical" }
strategy = "cheapest"
targets = [{ provider = "claude-cli", model = "claude-sonnet-4-5" }, { model = "claude-haiku-4" }]
requires = { min_success_rate = 0.5 }
"""
    good = tmp_path / "good.toml"
    good.write_text(seed + rule, encoding="utf-8")
    proc = _route_process(tmp_path, good)
    assert _modules(proc) >= TARGETS and json.loads(proc.stdout)["rule"] == "cheap-critical"
    bad = tmp_path / "bad.toml"
    bad.write_text(seed + rule.replace('"cheapest"', '"cheapst"').replace("targets = [", "x = ["), encoding="utf-8")
    proc = subprocess.run([str(Path(sys.executable).parent / "tacroute"), "route", "--config", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, env=_env(tmp_path), timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "strategy: unknown strategy 'cheapst'" in proc.stderr and "strategy needs targets" in proc.stderr


def test_a_table_matched_by_its_groups_still_bisects_its_ranges(tmp_path: Path) -> None:
    """More rules than groups: the router matches by bitsets, and a ``retry_count`` range is
    looked up by bisection (which a seed-sized table does without)."""
    rules = "".join(f'\n[[routing.rules]]\nname = "retry-{n}"\npriority = {300 + n}\n'
                    f'conditions = {{ retry_count = {{ gte = {n} }} }}\nmodel = "m{n}"\n' for n in range(1, 9))
    config = tmp_path / "config.toml"
    config.write_text((ROOT / "examples" / "config.toml").read_text(encoding="utf-8") + rules, encoding="utf-8")
    history = tmp_path / "history.db"
    with HistoryStore(history):
        pass
    argv = [sys.executable, "-c", ROUTE_PROBE, "route", "--config", str(config), "--retry-count", "5", "--json"]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
                          env=_env(tmp_path, TACROUTE_HISTORY=str(history)))
    assert json.loads(proc.stdout)["rule"] == "retry-5", proc.stderr
    assert "bisect" in _modules(proc)


def test_pricing_estimate_and_secrets_tables_are_still_checked_and_read(tmp_path: Path) -> None:
    seed = (ROOT / "examples" / "config.toml").read_text(encoding="utf-8")
    good = tmp_path / "good.toml"
    good.write_text(seed + '\n[secrets]\nenv_file = ".env"\n[pricing."claude-opus-4"]\ninput = 1.0\noutput = 2.0\n'
                    '[estimate]\ninput_tokens = 10\n', encoding="utf-8")
    assert _route(tmp_path, good) >= TABLES_AND_SECRETS
    for table, message in [('[pricing."m"]\ninput = -1.0\noutput = 1.0\n', "pricing.m.input: must be a price >= 0"),
                           ("[estimate]\ninput_tokens = -5\n", "estimate.input_tokens: must be a token count"),
                           ('[secrets]\nenv_file = ""\n', "secrets.env_file: must be a file name")]:
        bad = tmp_path / "bad.toml"
        bad.write_text(seed + "\n" + table, encoding="utf-8")
        proc = subprocess.run([str(Path(sys.executable).parent / "tacroute"), "route", "--config", str(bad)],
                              capture_output=True, text=True, cwd=ROOT, env=_env(tmp_path), timeout=120, check=False)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_a_state_table_is_still_checked_and_read(tmp_path: Path) -> None:
    seed = (ROOT / "examples" / "config.toml").read_text(encoding="utf-8")
    good = tmp_path / "good.toml"
    good.write_text(seed + '\n[state]\nbackend = "sqlite"\nretry_s = 2\n', encoding="utf-8")
    assert "tacroute.state.settings" in _route(tmp_path, good)
    bad = tmp_path / "bad.toml"
    bad.write_text(seed + '\n[state]\nbackend = "nowhere"\n', encoding="utf-8")
    proc = subprocess.run([str(Path(sys.executable).parent / "tacroute"), "route", "--config", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, env=_env(tmp_path), timeout=120, check=False)
    assert proc.returncode == 2 and "unknown state backend 'nowhere'" in proc.stderr, proc.stderr


def test_a_provider_limit_still_loads_the_slots_and_is_enforced(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text((ROOT / "examples" / "config.toml").read_text(encoding="utf-8").replace(
        '[providers.claude-cli]\n', '[providers.claude-cli]\nmax_concurrent = 1\n', 1), encoding="utf-8")
    assert "tacroute.history.slots" in _route(tmp_path, config)
    with HistoryStore(tmp_path / "history.db") as store:
        gate = HistoryGate(store, load_config(config))
        with gate.acquire_slot("r1", 1, "claude-cli", "claude-opus-4"):
            gate.refresh_s = 0
            assert (gate.skip_reason("claude-cli", "claude-opus-4") or "").startswith("limit: 1 attempt(s)")
        assert gate.skip_reason("claude-cli", "claude-opus-4") is None
