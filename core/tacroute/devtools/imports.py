"""Import cycles and module sizes of a tree of packages.

``python -m tacroute.devtools.imports [ROOT ...]`` reads every module under
the given source roots (default: the core and the plugins of this checkout),
builds the graph of imports between them (a package's ``__init__`` counts as
a module; imports under ``if TYPE_CHECKING:`` are left out, since they never
run), and prints every import cycle and every module over the line limit.
Exit code 1 when there is either, so a test or CI can run it.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from tacroute.tuples import NamedTuple

__all__ = ["Module", "find_cycles", "main", "scan"]

MAX_LINES = 300


class Module(NamedTuple):
    name: str
    path: Path
    lines: int
    imports: frozenset[str]


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(body: Iterable[ast.stmt]) -> Iterator[ast.AST]:
    """Every node that can run, skipping ``if TYPE_CHECKING:`` bodies."""
    for stmt in body:
        if isinstance(stmt, ast.If) and _is_type_checking(stmt.test):
            yield from _runtime_nodes(stmt.orelse)
            continue
        yield stmt
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.stmt):
                yield from _runtime_nodes([child])
            else:
                yield from ast.walk(child)


def _imported(name: str, is_package: bool, tree: ast.Module) -> set[str]:
    found: set[str] = set()
    package = name if is_package else name.rpartition(".")[0]
    for node in _runtime_nodes(tree.body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            found.add(mod)
            # ``from pkg import sub`` imports the submodule ``pkg.sub`` when there is one.
            found.update(f"{mod}.{alias.name}" for alias in node.names)
    return found


def scan(roots: Iterable[Path]) -> dict[str, Module]:
    """The modules under ``roots`` (source folders holding top-level packages)."""
    modules: dict[str, Module] = {}
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if any(part in {"tests", "build", "__pycache__"} or part.endswith(".egg-info")
                   for part in path.relative_to(root).parts):
                continue
            name = _module_name(root, path)
            if not name or ("." not in name and path.name != "__init__.py"):
                continue  # a loose script beside the packages (setup.py, ...)
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text, filename=str(path))
            imports = _imported(name, path.name == "__init__.py", tree)
            modules[name] = Module(name, path, len(text.splitlines()), frozenset(imports))
    for name, mod in modules.items():
        local = {imp for imp in mod.imports if imp in modules and imp != name}
        modules[name] = mod._replace(imports=frozenset(local))
    return modules


def find_cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work = [(start, iter(sorted(modules[start].imports)))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(modules[child].imports))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))

    for name in sorted(modules):
        if name not in index:
            visit(name)
    return sorted(cycles)


def default_roots() -> list[Path]:
    top = Path(__file__).resolve().parents[3]
    roots = [top / "core"]
    roots += sorted(p for p in (top / "plugins").glob("*") if (p / "pyproject.toml").is_file())
    return [r for r in roots if r.is_dir()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tacroute.devtools.imports", description=__doc__)
    parser.add_argument("roots", nargs="*", type=Path, help="source folders (default: core and plugins)")
    parser.add_argument("--max-lines", type=int, default=MAX_LINES)
    args = parser.parse_args(argv)
    modules = scan(args.roots or default_roots())
    cycles = find_cycles(modules)
    big = sorted((m for m in modules.values() if m.lines > args.max_lines), key=lambda m: -m.lines)
    for cycle in cycles:
        print("cycle: " + " <-> ".join(cycle))
    for m in big:
        print(f"too long: {m.name} ({m.lines} lines > {args.max_lines})")
    largest = max(modules.values(), key=lambda m: m.lines, default=None)
    print(f"{len(modules)} modules, {len(cycles)} cycles, largest: "
          f"{largest.name if largest else '-'} ({largest.lines if largest else 0} lines)")
    return 1 if cycles or big else 0


if __name__ == "__main__":
    sys.exit(main())
