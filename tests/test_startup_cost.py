"""What keeps ``tacroute --help`` and ``tacroute route`` quick to start, and correct.

``--help`` lists plugin commands from a cache: no plugin is loaded on a hit, a broken
plugin is still reported, and the cache follows the plugins' sources. Registering
plugins takes a shortcut that must answer as pluggy does; the console script collects
young cycles less often."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
from tacroute.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="tacroute")
except SystemExit:
    pass
mods = sorted(m for m in sys.modules if m.startswith(("pluggy", "tacroute_", "tacroute.plugins.registry")))
print(json.dumps(mods), file=sys.stderr)
"""

PLUGIN = '''
import click
from tacroute import hookimpl


@click.command()
def hello() -> None:
    """{text}"""
    click.echo("hello from the plugin")


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(hello)
'''


def distribution(folder: Path, text: str) -> None:
    """A real installed distribution (dist-info on PYTHONPATH) with one command, ``hello``."""
    info = folder / "tacroute_hello-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tacroute-hello\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[tacroute]\nhello = tacroute_hello_plugin\n"
                                           "broken = tacroute_broken_missing:plugin\n")
    (folder / "tacroute_hello_plugin").mkdir(exist_ok=True)
    (folder / "tacroute_hello_plugin" / "__init__.py").write_text(PLUGIN.format(text=text))


def run(folder: Path, *args: str, probe: bool = False, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(folder / "cache"), "PYTHONPATH": str(folder / "site"),
           "PYTHONDONTWRITEBYTECODE": "1", **extra}
    env.pop("TACROUTE_NO_PLUGIN_CACHE", None)
    argv = [sys.executable, "-c", PROBE, *args] if probe else [str(Path(sys.executable).parent / "tacroute"), *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False)


def test_help_from_the_cache_loads_no_plugin_and_lists_the_same(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    distribution(tmp_path / "site", "Say hello, version one.")
    uncached = run(tmp_path, "--help", TACROUTE_NO_PLUGIN_CACHE="1")
    first = run(tmp_path, "--help")  # fills the cache
    second = run(tmp_path, "--help", probe=True)
    assert uncached.returncode == first.returncode == second.returncode == 0
    assert "hello" in uncached.stdout and "Say hello, version one." in uncached.stdout
    assert "ui " in uncached.stdout  # the installed plugins' commands too
    assert first.stdout == uncached.stdout == second.stdout
    assert json.loads(second.stderr.strip().splitlines()[-1]) == []  # neither pluggy nor any plugin
    # the broken plugin is reported whether the listing came from the cache or not
    for proc in (uncached, first, second):
        assert "skipping plugin 'broken' (distribution tacroute-hello)" in proc.stderr
    # the command itself still runs (its plugin loaded then)
    ran = run(tmp_path, "hello")
    assert ran.returncode == 0 and "hello from the plugin" in ran.stdout


def test_editing_a_plugin_source_refreshes_the_listing(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    distribution(tmp_path / "site", "Say hello, version one.")
    assert "version one" in run(tmp_path, "--help").stdout
    assert "version one" in run(tmp_path, "--help").stdout
    distribution(tmp_path / "site", "Say hello, the second version.")  # an editable install's edit
    assert "the second version" in run(tmp_path, "--help").stdout


def test_an_allow_list_is_part_of_the_key(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    distribution(tmp_path / "site", "Say hello, version one.")
    assert "Say hello" in run(tmp_path, "--help").stdout
    only = run(tmp_path, "--help", TACROUTE_LOAD_PLUGINS="priority")
    assert only.returncode == 0 and "Say hello" not in only.stdout and "ui " not in only.stdout


def _plugins_of_every_kind() -> list[object]:
    """The installed plugins and odd plugin objects: a class, an instance, a module of odd globals."""
    import types

    from tacroute import hookimpl, hookspecs
    from tacroute.plugins.discovery import discover_entry_points

    class ClassPlugin:
        @hookimpl
        def register_conditions(self, register: object) -> None: ...

        @staticmethod
        @hookimpl
        def register_providers(register: object) -> None: ...

        @classmethod
        @hookimpl(tryfirst=True)
        def register_output_parsers(cls, register: object) -> None: ...

        @property
        def observe_run(self) -> None:
            raise AssertionError("a property is never evaluated")

    odd = types.ModuleType("odd_plugin")
    odd.register_conditions = hookimpl(lambda register: None)  # type: ignore[attr-defined]
    odd.plain = lambda: None  # type: ignore[attr-defined]
    odd.bound = ClassPlugin().register_conditions  # type: ignore[attr-defined]
    odd.static = staticmethod(hookimpl(lambda register: None))  # type: ignore[attr-defined]
    odd.number = 3  # type: ignore[attr-defined]
    odd.observe_run = hookimpl(trylast=True)(lambda ctx, result: None)  # type: ignore[attr-defined]
    odd.other = hookimpl(specname="observe_decision", wrapper=True)(  # type: ignore[attr-defined]
        lambda ctx: (yield))
    return [*(ep.load() for ep in discover_entry_points()), ClassPlugin, ClassPlugin(), odd, hookspecs]


def test_the_managers_shortcut_answers_as_pluggy_does() -> None:
    """Every name of every installed plugin (and of odd plugin objects) is parsed alike."""
    import pluggy

    from tacroute import hookspecs
    from tacroute.plugins.hooks import make_plugin_manager
    from tacroute.plugins.isolation import isolated

    ours, theirs = make_plugin_manager(), pluggy.PluginManager(hookspecs.PROJECT)
    checked = 0
    for plugin in _plugins_of_every_kind():
        for obj in (plugin, isolated(ours, plugin, "p", lambda *a: None)):  # type: ignore[arg-type, return-value]
            for name in dir(obj):
                assert ours.parse_hookimpl_opts(obj, name) == theirs.parse_hookimpl_opts(obj, name), name
                checked += theirs.parse_hookimpl_opts(obj, name) is not None
    assert checked > 20


def test_a_proxy_registers_exactly_the_hooks_pluggy_finds_on_the_plugin() -> None:
    """The proxy names only its hook implementations, and registering it gives each hook
    the implementations (options, argument names) pluggy registers for the plugin itself."""
    import pluggy

    from tacroute import hookspecs
    from tacroute.plugins.hooks import make_plugin_manager
    from tacroute.plugins.isolation import isolated

    def registered(pm: pluggy.PluginManager, name: str) -> list[tuple[str, str, object, tuple[str, ...]]]:
        plugin = pm.get_plugin(name)
        return sorted((hook.name, impl.function.__name__, sorted(impl.opts.items()), impl.argnames)
                      for hook in pm.get_hookcallers(plugin) or ()
                      for impl in hook.get_hookimpls() if impl.plugin is plugin)

    hooks_seen = 0
    for i, plugin in enumerate(_plugins_of_every_kind()):
        ours, theirs = make_plugin_manager(), pluggy.PluginManager(hookspecs.PROJECT)
        theirs.add_hookspecs(hookspecs)
        proxy = isolated(ours, plugin, f"p{i}", lambda *a: None)  # type: ignore[arg-type, return-value]
        assert dir(proxy) == sorted(vars(proxy).keys() - {"__wrapped_plugin__"})
        ours.register(proxy, name=f"p{i}")
        theirs.register(plugin, name=f"p{i}")
        assert registered(ours, f"p{i}") == registered(theirs, f"p{i}"), plugin
        hooks_seen += len(registered(theirs, f"p{i}"))
    assert hooks_seen > 20


def test_the_console_script_collects_young_cycles_less_often() -> None:
    """``main()`` (the console script) raises the collector's young-generation threshold
    before the command's imports, keeping the older generations' settings."""
    probe = ("import gc, json, sys\n"
             "import tacroute.cli as c\n"
             "before = gc.get_threshold()\n"
             "def seen(**kwargs):\n"
             "    print(json.dumps([before, gc.get_threshold(), gc.isenabled()]), flush=True)\n"
             "    sys.exit(0)\n"
             "c.cli.main = seen\n"
             "c.main()\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    before, after, enabled = json.loads(proc.stdout)
    assert after[0] == 50_000 and after[1:] == before[1:] and enabled is True


def test_the_running_plugin_is_known_per_thread_and_only_inside_its_hook() -> None:
    """A registration made from a plugin's hook is credited to it; the same ``register``
    called later, or from another thread the hook starts, is refused."""
    import threading

    import pytest

    from tacroute import hookimpl
    from tacroute.errors import PluginError
    from tacroute.plugins.registry import Registry

    kept: list[object] = []
    errors: list[BaseException] = []

    class Cond:
        name = "threaded"

    class Plugin:
        __name__ = "threads"

        @hookimpl
        def register_conditions(self, register: object) -> None:
            kept.append(register)

            def other() -> None:
                try:
                    register(Cond())  # type: ignore[operator]
                except PluginError as exc:
                    errors.append(exc)

            worker = threading.Thread(target=other)
            worker.start()
            worker.join(60)
            register(Cond())  # type: ignore[operator]

    reg = Registry.from_plugins([Plugin()])
    assert reg.plugins["threads"].conditions == ["threaded"] and "threaded" in reg.conditions
    assert len(errors) == 1 and "from a register_conditions hook" in str(errors[0])
    with pytest.raises(PluginError, match="not later"):
        kept[0](Cond())  # type: ignore[operator]
