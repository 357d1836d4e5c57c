"""``python -m chainmall.examples`` lists the shipped examples and runs one by name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chainmall.examples import example_folder, list_examples, run_example
from chainmall.examples.__main__ import main
from chainmall.exceptions import ConfigError

REPO_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_every_script_of_examples_is_listed_with_its_title() -> None:
    examples = list_examples()
    assert set(examples) == {path.stem for path in REPO_EXAMPLES.glob("*.py")}
    assert examples["ledger_quickstart"] == "A verifiable ledger in five steps"
    assert (example_folder() / "ledger_quickstart.py").is_file()


def test_an_unknown_name_is_refused_naming_the_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="ledger_quickstart"):
        run_example("no_such_example")
    assert main(["no_such_example"]) == 2
    assert capsys.readouterr().err.startswith("chainmall.examples: error: no example named")


def test_the_module_lists_and_runs_an_example(tmp_path: Path) -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "chainmall.examples"], capture_output=True, text=True, check=True
    )
    assert listing.stdout.splitlines()[0].split()[0] == sorted(list_examples())[0]
    run = subprocess.run(
        [sys.executable, "-m", "chainmall.examples", "ledger_quickstart"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert "tampering caught" in run.stdout
