"""No module of chainmall.segment imports one that imports it back, even lazily."""

from __future__ import annotations

import ast
from pathlib import Path

import chainmall.segment

PACKAGE = "chainmall.segment"


def _module_name(path: Path) -> str:
    return PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Package modules imported anywhere in the file (top level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in modules}
    return found


def import_graph() -> dict[str, set[str]]:
    folder = Path(chainmall.segment.__file__).parent
    files = {_module_name(path): path for path in folder.glob("*.py")}
    return {name: _imports(path, set(files)) - {name} for name, path in files.items()}


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in graph[node]:
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_segment_modules_form_no_import_cycle() -> None:
    graph = import_graph()
    assert "chainmall.segment.config" in graph and len(graph) >= 10
    cycles = [cycle for name in graph if (cycle := _cycle_from(name, graph))]
    assert cycles == []


def test_config_does_not_import_rules_or_summary() -> None:
    graph = import_graph()
    assert graph["chainmall.segment.config"] == set()


def test_cycle_finder_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _cycle_from("a", graph) == ["a", "b", "c", "a"]
    assert _cycle_from("d", graph) is None
