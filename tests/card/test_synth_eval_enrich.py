"""Synthetic cards, field scoring and company enrichment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainmall.card import (
    CONTACT_FIELDS,
    CompanyProvider,
    LocalRegistryProvider,
    card_lines,
    company_key,
    extract_contact,
    field_scores,
    make_card_truth,
)
from chainmall.exceptions import DataValidationError

FIELDS = [f for f in CONTACT_FIELDS if f != "fax"]


def test_truth_is_seeded_and_complete() -> None:
    a, b = make_card_truth(20, seed=3), make_card_truth(20, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not a[FIELDS].isna().any().any()
    assert not make_card_truth(20, seed=4).equals(a)
    assert set(a["lang"]) == {"zh", "en"}


def test_extraction_on_clean_printed_text_is_exact() -> None:
    """Rules recover every field from the printed lines (the OCR-free upper bound)."""
    truth = make_card_truth(60, seed=11)
    predicted = pd.DataFrame(
        [
            {
                "card_id": row["card_id"],
                **extract_contact([t for _, t in card_lines(row, seed=i)]).as_record(),
            }
            for i, row in truth.iterrows()
        ]
    )
    scores = field_scores(predicted, truth, FIELDS).set_index("field")
    assert (scores["precision"] == 1.0).all(), scores
    assert (scores["recall"] == 1.0).all(), scores


def test_field_scores_golden() -> None:
    truth = pd.DataFrame(
        {"card_id": [1, 2, 3], "name": ["张伟", "Li Na", None], "mobile": ["1", "2;3", "4"]}
    )
    pred = pd.DataFrame(
        {"card_id": [1, 2, 3], "name": ["张 伟", "Wrong", "Extra"], "mobile": ["1", "3", None]}
    )
    s = field_scores(pred, truth, ["name", "mobile"]).set_index("field")
    # name: tp=1 (spaces ignored), fp=2 (wrong + extra), fn=1 (wrong)
    assert s.loc["name", ["tp", "fp", "fn"]].tolist() == [1, 2, 1]
    assert s.loc["name", "precision"] == pytest.approx(1 / 3)
    assert s.loc["name", "recall"] == pytest.approx(1 / 2)
    # mobile: tp=2, fp=0, fn=2 ("2" and "4")
    assert s.loc["mobile", ["tp", "fp", "fn"]].tolist() == [2, 0, 2]
    with pytest.raises(DataValidationError, match="only one of"):
        field_scores(pred.iloc[:2], truth, ["name"])


REGISTRY = pd.DataFrame(
    {
        "name": ["上海云帆信息科技股份有限公司", "Acme Trading Co., Ltd.", "星河食品有限公司"],
        "credit_code": ["91310000MA1FL0001X", "91440300MA5D00002Y", None],
        "legal_rep": ["张伟", "Alice Johnson", "李娜"],
    }
)


def test_company_key_ignores_suffix_punctuation_width() -> None:
    assert company_key("上海云帆信息科技有限公司") == company_key("上海云帆信息科技股份有限公司")
    assert company_key("ACME Trading Co.,Ltd") == company_key("Acme Trading Co., Ltd.")
    assert company_key("Ａｃｍｅ　Trading Inc.") == "acmetrading"


def test_local_registry_lookup(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    REGISTRY.to_csv(path, index=False)
    provider = LocalRegistryProvider.from_file(path)
    assert isinstance(provider, CompanyProvider)
    hit = provider.lookup("上海云帆信息科技有限公司")
    assert hit is not None
    assert hit.credit_code == "91310000MA1FL0001X"
    assert hit.extra == {"legal_rep": "张伟"}
    assert provider.lookup("acme trading co ltd") is not None
    missing_code = provider.lookup("星河食品有限公司")
    assert missing_code is not None and missing_code.credit_code is None
    assert provider.lookup("Unknown Corp.") is None
    assert provider.lookup("") is None


def test_parquet_registry(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "registry.parquet"
    REGISTRY.to_parquet(path)
    assert LocalRegistryProvider.from_file(path).lookup("Acme Trading Inc.") is not None


def test_registry_errors(tmp_path: Path) -> None:
    clash = pd.concat([REGISTRY, pd.DataFrame({"name": ["上海云帆信息科技有限公司"]})])
    with pytest.raises(DataValidationError, match="collide"):
        LocalRegistryProvider(clash)
    with pytest.raises(DataValidationError, match="name has missing values"):
        LocalRegistryProvider(pd.DataFrame({"name": ["a", np.nan]}))
    with pytest.raises(DataValidationError, match="does not exist"):
        LocalRegistryProvider.from_file(tmp_path / "none.csv")
