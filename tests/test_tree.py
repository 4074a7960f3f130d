"""The tree stays readable: no import cycles in the core or any plugin, no module of 300 lines or more.

``python -m tacroute.devtools.imports`` is the same check, for a person.
"""

from __future__ import annotations

from pathlib import Path

from tacroute.devtools.imports import Module, default_roots, find_cycles, main, scan

ROOT = Path(__file__).resolve().parents[1]


def test_the_core_and_every_plugin_are_scanned() -> None:
    roots = {p.relative_to(ROOT).as_posix() for p in default_roots()}
    plugins = {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "plugins").glob("*/pyproject.toml")}
    assert roots == {"core"} | plugins


def test_no_import_cycles() -> None:
    assert find_cycles(scan(default_roots())) == []


def test_no_module_reaches_300_lines() -> None:
    modules = scan(default_roots())
    assert [(m.name, m.lines) for m in modules.values() if m.lines >= 300] == []


def test_the_check_finds_a_cycle_through_a_package_init_and_skips_type_checking(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from pkg.a import x\n")
    (pkg / "a.py").write_text("def f():\n    import pkg\n    return pkg\nx = 1\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n")
    modules = scan([tmp_path])
    assert find_cycles(modules) == [["pkg", "pkg.a"]]
    assert modules["pkg.b"] == Module("pkg.b", pkg / "b.py", 3, frozenset())
    assert main([str(tmp_path)]) == 1
