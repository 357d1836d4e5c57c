"""Contract cases of ``chainmall.card`` (the text and table parts; OCR needs an engine)."""

from __future__ import annotations

import pandas as pd

from chainmall.card import (
    LocalRegistryProvider,
    company_key,
    extract_contact,
    field_scores,
    make_card_truth,
)
from tests.contract.spec import Arg, Case, Col

TEXT = "上海云帆信息科技股份有限公司\n张伟 销售总监\n手机：138 0013 8000\nzhang.wei@yunfan-tech.com"
FIELDS = ["name", "mobile", "email"]


def registry() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["上海云帆信息科技股份有限公司", "杭州绿野农业有限公司"],
            "credit_code": ["X1", None],
        }
    )


def scored(kind: str) -> pd.DataFrame:
    truth = make_card_truth(4, seed=1)[["card_id", *FIELDS]]
    if kind == "truth":
        return truth
    return truth.assign(email=[None, *truth["email"].iloc[1:]])


CASES = [
    Case(
        "card.extract_contact",
        build=lambda: {"text": TEXT},
        call=lambda a: extract_contact(a["text"]),
        args={"text": Arg("text")},
        check=lambda c, a: None if c.as_record()["mobile"] == "13800138000" else _fail(),
    ),
    Case(
        "card.company_key",
        build=lambda: {"name": "上海云帆信息科技股份有限公司"},
        call=lambda a: company_key(a["name"]),
        args={"name": Arg("text")},
    ),
    Case(
        "card.make_card_truth",
        build=lambda: {"n": 3, "seed": 0},
        call=lambda a: make_card_truth(a["n"], seed=a["seed"]),
        args={"n": Arg("count", ge=0), "seed": Arg("count", ge=0)},
    ),
    Case(
        "card.LocalRegistryProvider",
        build=lambda: {"registry": registry()},
        call=lambda a: LocalRegistryProvider(a["registry"]).lookup("上海云帆信息科技有限公司"),
        columns={"registry": {"name": Col("label")}},
        args={"registry": Arg("frame")},
    ),
    Case(
        "card.field_scores",
        build=lambda: {"predicted": scored("predicted"), "truth": scored("truth")},
        call=lambda a: field_scores(a["predicted"], a["truth"], FIELDS),
        columns={
            "predicted": {"card_id": Col("id", unique=True)},
            "truth": {"card_id": Col("id", unique=True)},
        },
        args={"predicted": Arg("frame"), "truth": Arg("frame")},
    ),
]


def _fail() -> None:
    raise AssertionError("the mobile number was not read")


RESULT_TYPES = {
    "CardReading": "result of read_card",
    "CompanyRecord": "result of a registry look-up",
    "Contact": "result of extract_contact",
    "FieldValue": "part of a Contact",
    "OcrLine": "result of an OCR backend",
}
NEEDS_ENGINE = "reads images through an OCR engine (RapidOCR or the tesseract program): tests/card"
EXEMPT = {
    "CompanyProvider": "a protocol (LocalRegistryProvider implements it)",
    "OcrBackend": "a protocol (the two backends implement it)",
    "RapidOcrBackend": NEEDS_ENGINE,
    "TesseractBackend": NEEDS_ENGINE,
    "default_backend": NEEDS_ENGINE,
    "read_card": NEEDS_ENGINE,
    "render_card": "draws with Pillow and a CJK font (system package): tests/card",
    "find_cjk_font": "looks up a system font; no input",
    "card_lines": "lays out a row of make_card_truth (covered)",
}
