"""Contract cases of ``chainmall.datasets`` (the loaders' files: tests/datasets)."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from chainmall.datasets import data_home, load_cdnow, make_shop
from tests.contract.spec import Arg, Case

SAMPLE_LINES = "00001 1 19970101 1 11.77\n00002 2 19970112 2 24.50\n00002 2 19970301 1 12.00\n"


@cache
def _home() -> str:
    """A data home holding a three-line CDNOW sample in the official layout."""
    home = Path(tempfile.mkdtemp(prefix="chainmall-contract-"))
    (home / "cdnow").mkdir()
    (home / "cdnow" / "CDNOW_sample.txt").write_text(SAMPLE_LINES)
    return str(home)


CASES = [
    Case(
        "datasets.make_shop",
        build=lambda: {"seed": 1, "n_members": 60, "months": 2, "n_items": 20, "refund_rate": 0.05},
        call=lambda a: make_shop(**a),
        args={
            "seed": Arg("count", ge=0),
            "n_members": Arg("count", ge=1),
            "months": Arg("count", ge=1),
            "n_items": Arg("count", ge=1),
            "refund_rate": Arg("number", ge=0, le=1),
        },
    ),
    Case(
        "datasets.data_home",
        build=lambda: {"data_home": "/tmp/chainmall-data"},
        call=lambda a: data_home(a["data_home"]),
        args={"data_home": Arg("text", allow_none=True)},
    ),
    Case(
        "datasets.load_cdnow",
        build=lambda: {"kind": "sample"},
        call=lambda a: load_cdnow(a["kind"], data_home=_home()),
        args={"kind": Arg("text")},
    ),
]

RESULT_TYPES = {"Shop": "result of make_shop"}
FILES = "reads a data set file: missing, corrupt and hostile files in tests/datasets"
EXEMPT = {
    "load_movielens_100k": FILES,
    "load_orange_juice": FILES,
    "load_walmart_sales": FILES,
}
