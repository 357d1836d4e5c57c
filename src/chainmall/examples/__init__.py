"""The runnable examples, shipped with the package: ``python -m chainmall.examples [name]``.

The scripts are the repository's ``examples/*.py`` (jupytext percent format). A wheel
carries them in this package's ``scripts`` folder; in a checkout (an editable install)
they are read from ``examples/`` beside ``src/``. Parts that need a tool that is absent
(Tesseract, a browser, a CJK font) skip, saying so.
"""

from __future__ import annotations

import runpy
from pathlib import Path

from chainmall.exceptions import ConfigError

__all__ = ["example_folder", "list_examples", "run_example"]

_PACKAGED = Path(__file__).parent / "scripts"
_CHECKOUT = Path(__file__).resolve().parents[3] / "examples"


def example_folder() -> Path:
    """The folder holding the example scripts (the packaged copy first, else the checkout's)."""
    return _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT


def _title(script: Path) -> str:
    """The script's title: its first ``# # ...`` markdown heading, else its name."""
    for line in script.read_text(encoding="utf-8").splitlines()[:10]:
        if line.startswith("# # "):
            return line.removeprefix("# # ").strip()
    return script.stem


def list_examples() -> dict[str, str]:
    """``{name: title}`` of every example, sorted by name."""
    folder = example_folder()
    scripts = sorted(folder.glob("*.py")) if folder.is_dir() else []
    return {script.stem: _title(script) for script in scripts}


def run_example(name: str) -> None:
    """Run the example ``name`` as a script (``__name__ == "__main__"``).

    Raises:
        ConfigError: no example has that name (the message lists them).
    """
    known = list_examples()
    if name not in known:
        raise ConfigError(f"no example named {name!r}; the examples are: {', '.join(known)}")
    runpy.run_path(str(example_folder() / f"{name}.py"), run_name="__main__")
