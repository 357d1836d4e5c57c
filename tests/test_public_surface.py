"""The public surface is exactly what is documented (``docs/conventions.md``).

- Every name in an engine's ``__all__`` appears on that engine's docs pages.
- Every name the docs import from an engine (``from chainmall.segment import x`` in a
  code block) or render (``::: chainmall.segment.x``) is exported by it.
- No two engines export the same name (a clash reads as the same thing twice).
- No module of one engine imports another engine's private names: what it takes from
  another engine is in that engine's ``__all__``, or in the ``__all__`` of the public
  module it imports from, and no part of the path or the name starts with ``_``. The
  shared private modules ``chainmall._*`` are for every engine.
- Renamed names still work for one release with a ``FutureWarning`` and are not in
  ``__all__``.
"""

from __future__ import annotations

import ast
import importlib
import itertools
import re
from pathlib import Path

import pytest

import chainmall

ROOT = Path(chainmall.__file__).parent
DOCS = Path(__file__).resolve().parents[1] / "docs"

ENGINE_PAGES: dict[str, tuple[str, ...]] = {
    "campaign": ("campaign.md",),
    "card": ("card.md",),
    "datasets": ("datasets.md",),
    "distributed": ("distributed.md",),
    "events": ("events.md",),
    "pricing": ("pricing.md",),
    "recommend": ("recommend.md", "recommend_rl.md"),
    "referral": ("referral.md", "referral-store.md"),
    "replenish": ("replenish.md",),
    "report": ("report.md",),
    "segment": ("segment.md",),
    "stores": ("stores.md",),
    "trace": ("trace.md",),
}
RENAMED = {
    ("recommend", "summarize"): "summarize_episodes",
    ("distributed", "segment_customers"): "segment_customers_partitioned",
}
DIRECTIVE = re.compile(r"^:::\s+chainmall\.(?P<engine>\w+)\.(?P<name>\w+)\s*$", re.MULTILINE)


def _engines() -> list[str]:
    """Every public sub-package of chainmall but the command line and the examples."""
    return sorted(
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if not path.parent.name.startswith("_") and path.parent.name not in ("cli", "examples")
    )


def _public(module: str) -> set[str]:
    return set(getattr(importlib.import_module(module), "__all__", ()))


def _page_text(engine: str) -> str:
    return "\n".join((DOCS / page).read_text(encoding="utf-8") for page in ENGINE_PAGES[engine])


def test_every_engine_has_a_docs_page() -> None:
    assert set(_engines()) == set(ENGINE_PAGES)


# pages another issue is rewriting; strict: passing turns this red
NOT_YET_DOCUMENTED: dict[str, str] = {}


@pytest.mark.parametrize(
    "engine",
    [
        pytest.param(e, marks=pytest.mark.xfail(strict=True, reason=NOT_YET_DOCUMENTED[e]))
        if e in NOT_YET_DOCUMENTED
        else e
        for e in sorted(ENGINE_PAGES)
    ],
)
def test_every_exported_name_is_documented(engine: str) -> None:
    text = _page_text(engine)
    missing = sorted(
        name
        for name in _public(f"chainmall.{engine}")
        if not re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text)
    )
    assert not missing, f"chainmall.{engine} exports names its docs never mention: {missing}"


def _documented_imports() -> list[tuple[str, str, str]]:
    """``(page, module, name)`` for each ``from chainmall.x import name`` in a docs block."""
    from tests.test_docs_code import read_blocks

    found: list[tuple[str, str, str]] = []
    for page in sorted(DOCS.glob("*.md")):
        for block in read_blocks(page):
            for node in ast.walk(ast.parse(block.source)):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "chainmall."
                ):
                    found += [(page.name, str(node.module), a.name) for a in node.names]
    return found


def test_every_documented_import_is_exported() -> None:
    unexported = [
        f"{page}: from {module} import {name}"
        for page, module, name in _documented_imports()
        if name not in _public(module)
    ]
    assert not unexported, "the docs import names that are not exported:\n" + "\n".join(unexported)


def test_every_rendered_name_is_exported() -> None:
    unexported = [
        f"{page.name}: chainmall.{m['engine']}.{m['name']}"
        for page in sorted(DOCS.glob("*.md"))
        for m in DIRECTIVE.finditer(page.read_text(encoding="utf-8"))
        if m["engine"] in ENGINE_PAGES and m["name"] not in _public(f"chainmall.{m['engine']}")
    ]
    assert not unexported, "the docs render names that are not exported: " + ", ".join(unexported)


def test_no_two_engines_export_the_same_name() -> None:
    exports = {engine: _public(f"chainmall.{engine}") for engine in _engines()}
    clashes = {
        (a, b): sorted(exports[a] & exports[b])
        for a, b in itertools.combinations(sorted(exports), 2)
        if exports[a] & exports[b]
    }
    assert not clashes


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _cross_engine_imports() -> list[tuple[str, str, str]]:
    """``(importer, module, name)`` for every import of one engine's names by another."""
    engines = set(_engines())
    found: list[tuple[str, str, str]] = []
    for path in sorted(ROOT.rglob("*.py")):
        importer = _module_name(path)
        own = importer.split(".")[1] if importer.count(".") else ""
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            parts = node.module.split(".")
            if parts[0] == "chainmall" and len(parts) > 1 and parts[1] in engines - {own}:
                found += [(importer, node.module, alias.name) for alias in node.names]
    return found


def _is_public(module: str, name: str) -> bool:
    if any(part.startswith("_") for part in [*module.split("."), name]):
        return False
    engine = ".".join(module.split(".")[:2])
    return name in _public(engine) or name in _public(module)


def test_no_engine_imports_another_engines_private_names() -> None:
    private = [
        f"{importer}: from {module} import {name}"
        for importer, module, name in _cross_engine_imports()
        if not _is_public(module, name)
    ]
    assert not private, "engines import other engines' private names:\n" + "\n".join(private)


def test_the_import_check_sees_a_private_name() -> None:
    assert not _is_public("chainmall.segment.rfml", "_kernel")
    assert not _is_public("chainmall.segment._likelihoods", "anything")
    assert not _is_public("chainmall.segment.rules", "no_such_name")
    assert _is_public("chainmall.segment", "segment_customers")


@pytest.mark.parametrize(("engine", "old"), sorted(RENAMED), ids=lambda v: str(v))
def test_a_renamed_name_warns_and_still_works(engine: str, old: str) -> None:
    module = importlib.import_module(f"chainmall.{engine}")
    new = RENAMED[(engine, old)]
    with pytest.warns(FutureWarning, match=rf"chainmall\.{engine}\.{new}"):
        alias = getattr(module, old)
    assert alias is getattr(module, new)
    assert old not in module.__all__
    assert new in module.__all__
