"""Every ```` ```python ```` block of ``docs/*.md`` runs, and the output it shows is checked.

How a page runs (one test item per page, ``tests/test_docs_code.py::test_page_runs[segment.md]``):

- its blocks run in order in one namespace, like a notebook, with ``__name__`` set to
  ``"__main__"`` (so a block may guard a script body the way a script must), in a fresh
  temporary working directory, with ``CHAINMALL_DATA`` pointing at the shared data and
  ``MPLBACKEND=Agg``. A page that loads a real data set skips, saying so, when the data
  is absent.
- **Shown output** is a comment block directly under a top-level ``print(...)`` call: every
  line starts with ``#`` (``# `` then the printed line; a lone ``#`` is an empty line). It
  is compared with what the call printed by doctest's rules with ``ELLIPSIS`` (``...``
  matches anything) and ``NORMALIZE_WHITESPACE``. A comment separated from the print by a
  blank line, or on the print's own line, is prose and is not checked.
- ``<!-- skip: reason -->`` on the line before a fence (blank lines allowed between)
  leaves that block out; it shows up as its own skipped item with the reason
  (``test_block_skipped``). Use it for blocks that need what a test run cannot have (a
  network, a server), never to hide a broken example.
- A block may include a file the way the docs build does (``--8<-- "examples/x.py"``, the
  ``pymdownx.snippets`` syntax, paths from the repository root); the file runs in its place.
- A block that uses a deprecated spelling (a ``FutureWarning`` or ``DeprecationWarning``
  raised at a line of the page) fails: the docs show the current API.
- A page whose blocks need an optional extra that is not installed (``import_optional``'s
  ``OptionalDependencyError``, or a missing ``torch``, ``dask``, ... module) skips, naming it.
- Pages listed in ``SLOW_PAGES`` are marked ``slow`` (run with ``-m slow``), with the reason.
- Pages listed in ``BROKEN_PAGES`` are known to fail and are being fixed elsewhere: they
  are strict ``xfail`` (the reason names the failure), so the day they pass, the test
  turns red until the entry is removed.

A failure names the page and the line of the block in it.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import io
import re
import sys
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from chainmall.exceptions import OptionalDependencyError
from tests.conftest import shared_data_dir

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SLOW_PAGES: dict[str, str] = {
    "recommend_rl.md": "fits a DDPG agent: about 30 s on two busy cores",
}
BROKEN_PAGES: dict[str, str] = {}
NEEDS_DATA = re.compile(r"load_(movielens_100k|cdnow|orange_juice|walmart_sales)|CHAINMALL_DATA")
SKIP_MARK = re.compile(r"^\s*<!--\s*skip:\s*(?P<reason>.+?)\s*-->\s*$")
SNIPPET = re.compile(r'^\s*--8<--\s+"(?P<path>[^"]+)"\s*$')
OPTIONAL_MODULES = frozenset(
    {"torch", "xgboost", "dask", "distributed", "matplotlib", "gymnasium", "pyarrow", "PIL"}
)
OUTPUT_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@dataclass(frozen=True)
class Block:
    """One fenced python block: its page, the page line of its first code line, its code.

    ``code_file`` is where the code comes from (the page, or the file a block includes),
    used for tracebacks; ``line`` is then counted in that file.
    """

    page: Path
    line: int
    source: str
    skip: str | None
    code_file: Path | None = None


@dataclass(frozen=True)
class Chunk:
    """Consecutive top-level statements of a block, then the output they should print."""

    first_line: int
    source: str
    expected: str | None


def _skip_reason(lines: list[str], fence: int) -> str | None:
    """The reason of a ``<!-- skip: ... -->`` comment above the fence at index ``fence``."""
    above = fence - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    match = SKIP_MARK.match(lines[above]) if above >= 0 else None
    return match["reason"] if match else None


def read_blocks(page: Path) -> list[Block]:
    """The ```` ```python ```` blocks of ``page``, in order (indented fences dedented)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        if lines[index].strip() == "```python":
            end = index + 1
            while lines[end].strip() != "```":
                end += 1
            source = textwrap.dedent("\n".join(lines[index + 1 : end])) + "\n"
            blocks.append(_included(Block(page, index + 2, source, _skip_reason(lines, index))))
            index = end
        index += 1
    return blocks


def _included(block: Block) -> Block:
    """A block that is one ``--8<-- "path"`` line becomes the included file's code."""
    match = SNIPPET.match(block.source.strip())
    if match is None:
        return block
    path = REPO / match["path"]
    return Block(block.page, 1, path.read_text(encoding="utf-8"), block.skip, path)


def _is_print(statement: ast.stmt) -> bool:
    call = statement.value if isinstance(statement, ast.Expr) else None
    return (
        isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print"
    )


def _comment_block(lines: list[str], start: int) -> tuple[str | None, int]:
    """The output shown by the ``#`` lines from index ``start`` on, and the index after them."""
    shown: list[str] = []
    end = start
    while end < len(lines) and lines[end].startswith("#"):
        shown.append(lines[end][2:] if lines[end].startswith("# ") else lines[end][1:])
        end += 1
    return ("\n".join(shown) + "\n" if shown else None), end


def split_chunks(source: str) -> list[Chunk]:
    """Cut a block after every top-level ``print`` that is followed by shown output."""
    lines = source.splitlines()
    chunks: list[Chunk] = []
    start = 0  # index of the first line of the current chunk
    for statement in ast.parse(source).body:
        end = statement.end_lineno or statement.lineno
        if not _is_print(statement):
            continue
        expected, after = _comment_block(lines, end)
        if expected is not None:
            chunks.append(Chunk(start, "\n".join(lines[start:end]) + "\n", expected))
            start = after
    if start < len(lines):
        chunks.append(Chunk(start, "\n".join(lines[start:]) + "\n", None))
    return chunks


def _output_mismatch(expected: str, got: str) -> str | None:
    checker = doctest.OutputChecker()
    if checker.check_output(expected, got, OUTPUT_FLAGS):
        return None
    example = doctest.Example("print()", expected)
    return checker.output_difference(example, got, OUTPUT_FLAGS)


def run_block(block: Block, namespace: dict[str, object]) -> None:
    """Run ``block`` in ``namespace``; fail naming the page line if its shown output differs."""
    for chunk in split_chunks(block.source):
        first = block.line + chunk.first_line
        padded = "\n" * (first - 1) + chunk.source  # tracebacks show the page's line numbers
        code = compile(padded, str(block.code_file or block.page), "exec")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(code, namespace)
        if chunk.expected is None:
            continue
        mismatch = _output_mismatch(chunk.expected, printed.getvalue())
        if mismatch:
            pytest.fail(
                f"{block.page.name}, block at line {block.line}: the output shown after line "
                f"{first + chunk.source.count(chr(10)) - 1} differs\n{mismatch}",
                pytrace=False,
            )


def _pages() -> list[object]:
    params: list[object] = []
    for page in sorted(DOCS.glob("*.md")):
        if not any(block.skip is None for block in read_blocks(page)):
            continue
        marks = [pytest.mark.slow] if page.name in SLOW_PAGES else []
        if page.name in BROKEN_PAGES:
            marks.append(pytest.mark.xfail(strict=True, reason=BROKEN_PAGES[page.name]))
        params.append(pytest.param(page, id=page.name, marks=marks))
    return params


def _skipped_blocks() -> list[object]:
    return [
        pytest.param(block, id=f"{page.name}:{block.line}")
        for page in sorted(DOCS.glob("*.md"))
        for block in read_blocks(page)
        if block.skip is not None
    ] or [pytest.param(None, id="none")]


@pytest.mark.parametrize("page", _pages())
def test_page_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [block for block in read_blocks(page) if block.skip is None]
    data = shared_data_dir()
    if data is None and any(NEEDS_DATA.search(block.source) for block in blocks):
        pytest.skip(f"{page.name} loads a shared data set: set CHAINMALL_DATA")
    if data is not None:
        monkeypatch.setenv("CHAINMALL_DATA", str(data))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__main__"}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FutureWarning)
            warnings.simplefilter("always", DeprecationWarning)
            for block in blocks:
                _run_or_skip_missing_extra(block, namespace)
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
    _fail_on_deprecated_spellings(page, {str(b.code_file or b.page) for b in blocks}, caught)


def _run_or_skip_missing_extra(block: Block, namespace: dict[str, object]) -> None:
    try:
        run_block(block, namespace)
    except OptionalDependencyError as exc:
        pytest.skip(f"{block.page.name}, block at line {block.line}: {exc}")
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in OPTIONAL_MODULES:
            raise
        pytest.skip(f"{block.page.name}, block at line {block.line}: {exc.name} is not installed")


def _fail_on_deprecated_spellings(
    page: Path, files: set[str], caught: list[warnings.WarningMessage]
) -> None:
    """Fail on the deprecation warnings raised at a line of the page (or a file it includes)."""
    shown = [
        f"{Path(w.filename).name}, line {w.lineno}: {w.message}"
        for w in caught
        if issubclass(w.category, FutureWarning | DeprecationWarning) and w.filename in files
    ]
    if shown:
        pytest.fail(f"{page.name} uses deprecated spellings:\n" + "\n".join(shown), pytrace=False)


@pytest.mark.parametrize("block", _skipped_blocks())
def test_block_skipped(block: Block | None) -> None:
    """Each block marked ``<!-- skip: reason -->``, shown as a skip with its reason."""
    if block is None:
        return
    pytest.skip(f"{block.page.name}, block at line {block.line}: {block.skip}")


def test_shown_output_is_checked() -> None:
    source = 'x = 2\nprint(x + 1)\n# 3\nprint("a")  # prose\ny = x\nprint(y)\n\n# prose\n'
    chunks = split_chunks(source)
    assert [chunk.expected for chunk in chunks] == ["3\n", None]
    assert chunks[1].first_line == 3
    block = Block(DOCS / "example.md", 10, 'print("one")\n# two\n', None)
    with pytest.raises(pytest.fail.Exception, match=r"example\.md, block at line 10"):
        run_block(block, {})
    run_block(Block(DOCS / "example.md", 10, 'print("a long line")\n# a ...\n', None), {})


def test_a_failing_block_names_the_page_line() -> None:
    block = Block(DOCS / "example.md", 20, "x = 1\nundefined_name\n", None)
    with pytest.raises(NameError) as raised:
        run_block(block, {})
    frames = [frame for frame in raised.traceback if str(frame.path) == str(DOCS / "example.md")]
    assert frames and frames[-1].lineno + 1 == 21


def test_a_skip_comment_names_its_reason(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n<!-- skip: needs network -->\n\n```python\nx = 1\n```\n\n```python\ny = 2\n```\n",
        encoding="utf-8",
    )
    blocks = read_blocks(page)
    assert [(block.line, block.skip) for block in blocks] == [(6, "needs network"), (10, None)]
    assert blocks[1].source == "y = 2\n"


def test_an_included_file_runs_in_place_of_the_block(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text('```python\n--8<-- "examples/ledger_quickstart.py"\n```\n', encoding="utf-8")
    (block,) = read_blocks(page)
    assert block.code_file == REPO / "examples" / "ledger_quickstart.py"
    assert block.source == block.code_file.read_text(encoding="utf-8")


def test_a_deprecated_spelling_in_a_page_fails() -> None:
    page = DOCS / "example.md"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FutureWarning)
        run_block(
            Block(page, 5, "import warnings\nwarnings.warn('old', FutureWarning)\n", None), {}
        )
    with pytest.raises(pytest.fail.Exception, match=r"example\.md, line 6: old"):
        _fail_on_deprecated_spellings(page, {str(page)}, caught)
    _fail_on_deprecated_spellings(page, {"elsewhere.md"}, caught)  # raised elsewhere: fine


def test_a_missing_extra_skips_the_page() -> None:
    block = Block(DOCS / "example.md", 3, "import torch_that_is_not_there\n", None)
    with pytest.raises(ModuleNotFoundError):
        _run_or_skip_missing_extra(block, {})
    code = (
        "from chainmall._optional import import_optional\nimport_optional('no_such', extra='x')\n"
    )
    with pytest.raises(pytest.skip.Exception, match=r"chainmall\[x\]"):
        _run_or_skip_missing_extra(Block(DOCS / "example.md", 3, code, None), {})
