"""With the preferences plugin switched off, [projects]/[users] are tables nobody registered (a
warning in ``config validate``), never a crash: routing goes on with the global rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tacroute.config import parse_config
from tacroute.plugins import Registry, set_registry
from tacroute.preferences import has_preferences
from tacroute.routing import ModelRouter, router_with_history
from tacroute_conditions import labels, priority
from testkit.script_provider import ScriptPlugin, script_config

PREFS = '\n[projects."acme/api"]\ndeny_providers = ["s0"]\n'


def test_router_without_the_preferences_plugin_ignores_the_tables(tmp_path: Path) -> None:
    config_file = script_config(tmp_path, ["ok"])
    registry = Registry.from_plugins([labels, priority, ScriptPlugin()])
    config = parse_config(config_file.read_text() + PREFS, config_file, registry=registry)
    assert not has_preferences(config)
    set_registry(registry)
    try:
        router = router_with_history(config, registry=registry)
        assert type(router) is ModelRouter
        assert router.route({"project": "acme/api"}).provider == "s0"  # the deny list is not applied
    finally:
        set_registry(None)


def test_route_cli_with_the_plugin_disabled(tmp_path: Path) -> None:
    config_file = tmp_path / "c.toml"
    config_file.write_text('[providers.p]\ncommand_template = ["/bin/echo", "{model}"]\n[routing]\nenabled = true\n'
                           'default_provider = "p"\ndefault_model = "m"\n' + PREFS.replace("s0", "p"))
    env = {**os.environ, "TACROUTE_DISABLE_PLUGINS": "preferences", "TACROUTE_NO_PLUGIN_CACHE": "1"}
    proc = subprocess.run([str(Path(sys.executable).parent / "tacroute"), "route", "--project", "acme/api", "--json",
                           "--config", str(config_file)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["provider"] == "p"  # the deny list of the unknown table is not applied
