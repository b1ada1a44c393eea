"""The package's imports go one way: no circles, no asset module importing another, values and transforms below
storage and assets (lazy imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "after_sales"
# Modules that hold values, rules and transforms: they must not reach up into storage, BI or Dagster wiring.
LOWER = ("transforms", "checks", "marketplaces", "tables", "measures", "sources", "windows", "arrow_frames")
UPPER = ("resources", "bi", "assets")


def _module(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")


MODULES = {_module(p): p for p in PACKAGE.rglob("*.py")}


def _target(name: str) -> str | None:
    """The package module an imported name lives in."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(path: Path) -> set[str]:
    """Package modules a file imports, anywhere in it (re-exporting __init__ files resolved to their modules)."""
    here = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = here.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names]
        found |= {t for n in names if n.startswith("after_sales") and (t := _target(n)) and t != _module(path)}
    return found


GRAPH = {m: _imports(p) for m, p in MODULES.items()}


def _top(module: str) -> str:
    """The package's first-level module or folder a module is in ('' for the package itself)."""
    return [*module.split("."), ""][1]


def _is_asset_module(module: str) -> bool:
    text = MODULES[module].read_text(encoding="utf-8")
    return "@dg.asset(" in text or "@dg.multi_asset(" in text or "dg.multi_asset(" in text


def test_no_import_circles() -> None:
    """No module reaches itself through the modules it imports (package __init__ files that only re-export
    are not hops)."""
    graph = {m: {t for t in ts if MODULES[t].name != "__init__.py"} for m, ts in GRAPH.items()}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                pytest.fail("import circle: " + " -> ".join([*path[path.index(t) :], t]))
            if t not in state:
                visit(t, [*path, t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_no_asset_module_imports_another() -> None:
    """Shared lists and helpers live in non-asset modules (sources.py, tables.py, assets/staging.py, ...)."""
    assets = {m for m in MODULES if _is_asset_module(m)}
    wrong = sorted(f"{m} -> {t}" for m in assets for t in GRAPH[m] if t in assets)
    assert not wrong


def test_values_and_transforms_stay_below_storage_and_assets() -> None:
    """Date windows, table and measure registries, transforms and checks import nothing from resources/, bi/ or
    assets/."""
    lower = [m for m in MODULES if _top(m) in LOWER]
    wrong = sorted(f"{m} -> {t}" for m in lower for t in GRAPH[m] if _top(t) in UPPER)
    assert not wrong
