"""Loaders of the real data sets: the figures of each SOURCE.txt, file lookup, download."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainmall.datasets import (
    data_home,
    load_cdnow,
    load_movielens_100k,
    load_orange_juice,
    load_walmart_sales,
    public,
)
from chainmall.datasets._files import Remote
from chainmall.exceptions import DataFileNotFoundError, DataValidationError
from tests.conftest import require_file

pytestmark = pytest.mark.realdata


def is_utc(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.DatetimeTZDtype) and str(series.dtype.tz) == "UTC"


def test_movielens_100k_matches_its_source(data_home: Path) -> None:
    require_file(data_home, "ml-100k/u.data")
    ratings = load_movielens_100k(data_home=data_home)
    assert list(ratings.columns) == ["user_id", "item_id", "rating", "ts"]
    assert len(ratings) == 100_000
    assert ratings["user_id"].nunique() == 943 and ratings["item_id"].nunique() == 1_682
    assert set(ratings["rating"]) == {1, 2, 3, 4, 5}
    assert is_utc(ratings["ts"])
    assert ratings["ts"].min() >= pd.Timestamp("1997-09-01", tz="UTC")
    assert ratings["ts"].max() < pd.Timestamp("1998-05-01", tz="UTC")


def test_cdnow_master_matches_its_source(data_home: Path) -> None:
    require_file(data_home, "cdnow/CDNOW_master.txt")
    master = load_cdnow(data_home=data_home)
    assert list(master.columns) == ["customer_id", "ts", "quantity", "amount"]
    assert len(master) == 69_659 and master["customer_id"].nunique() == 23_570
    assert master["customer_id"].str.len().eq(5).all()  # zero-padded strings
    assert master["quantity"].sum() == 167_881
    assert master["amount"].sum() == pytest.approx(2_500_315.63, abs=0.01)
    assert (master["amount"] == 0).sum() == 80
    assert is_utc(master["ts"])
    assert master["ts"].min() == pd.Timestamp("1997-01-01", tz="UTC")
    assert master["ts"].max() == pd.Timestamp("1998-06-30", tz="UTC")
    first = master.groupby("customer_id")["ts"].min()
    assert first.max() == pd.Timestamp("1997-03-25", tz="UTC")  # the Q1-1997 cohort


def test_cdnow_sample_is_a_subset_of_master(data_home: Path) -> None:
    require_file(data_home, "cdnow/CDNOW_sample.txt")
    require_file(data_home, "cdnow/CDNOW_master.txt")
    sample = load_cdnow("sample", data_home=data_home)
    master = load_cdnow("master", data_home=data_home)
    assert list(sample.columns) == ["customer_id", "ts", "quantity", "amount"]
    assert len(sample) == 6_919 and sample["customer_id"].nunique() == 2_357
    assert sample["amount"].sum() == pytest.approx(244_091.94, abs=0.01)
    assert set(sample["customer_id"]) <= set(master["customer_id"])
    assert is_utc(sample["ts"])
    # the sample keeps every row of its customers
    in_sample = master[master["customer_id"].isin(set(sample["customer_id"]))]
    assert len(in_sample) == len(sample)


def test_cdnow_rejects_an_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="kind must be 'master' or 'sample'"):
        load_cdnow("full", data_home=tmp_path)  # type: ignore[arg-type]


def test_orange_juice_matches_its_source(data_home: Path) -> None:
    require_file(data_home, "dominicks_oj/oj_large.csv")
    oj = load_orange_juice(data_home=data_home)
    assert oj.shape == (28_947, 18)  # 17 columns of the file + units
    assert list(oj.columns[:7]) == ["store", "brand", "week", "logmove", "units", "feat", "price"]
    assert oj["store"].nunique() == 83
    assert set(oj["brand"]) == {"tropicana", "minute.maid", "dominicks"}
    assert oj["week"].between(40, 160).all()
    assert oj["units"].dtype == np.int64
    assert np.allclose(np.log(oj["units"]), oj["logmove"], atol=1e-3)
    assert len(oj) == 3 * 9_649


@pytest.fixture(scope="module")
def walmart_complete(data_home: Path) -> pd.DataFrame:
    require_file(data_home, "walmart_store_sales/train.csv.zip")
    return load_walmart_sales(data_home=data_home, complete_only=True)


def test_walmart_sales_match_their_source(data_home: Path, walmart_complete: pd.DataFrame) -> None:
    sales = load_walmart_sales(data_home=data_home)
    assert list(sales.columns) == ["unique_id", "ds", "y", "store", "dept", "is_holiday"]
    assert len(sales) == 421_570
    assert sales["unique_id"].nunique() == 3_331 and sales["ds"].nunique() == 143
    assert sales["ds"].dt.tz is None  # calendar weeks, deliberately naive
    assert (sales["ds"].dt.day_of_week == 4).all()  # week-ending Fridays
    assert (sales["y"] < 0).sum() == 1_285
    assert sales["unique_id"].str.fullmatch(r"\d{2}_\d{2}").all()
    holidays = sales.loc[sales["is_holiday"], "ds"].unique()
    assert len(holidays) == 10

    complete = walmart_complete
    assert complete["unique_id"].nunique() == 2_660
    assert len(complete) == 2_660 * 143
    assert complete.groupby("unique_id")["ds"].nunique().eq(143).all()


def test_walmart_anchor_sample_is_reproduced_from_complete_series(
    data_home: Path, walmart_complete: pd.DataFrame
) -> None:
    ids_file = require_file(data_home, "walmart_store_sales/anchor_sample_ids.txt")
    lines = ids_file.read_text().splitlines()
    ids = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    complete_ids = sorted(walmart_complete["unique_id"].unique())
    drawn = np.random.default_rng(0).choice(complete_ids, 100, replace=False)
    assert ids == sorted(drawn)


@pytest.mark.parametrize(
    ("loader", "expected"),
    [
        (load_movielens_100k, "ml-100k/u.data"),
        (load_cdnow, "cdnow/CDNOW_master.txt"),
        (load_orange_juice, "dominicks_oj/oj_large.csv"),
        (load_walmart_sales, "walmart_store_sales/train.csv.zip"),
    ],
)
def test_missing_file_error_names_the_expected_path(
    tmp_path: Path, loader: object, expected: str
) -> None:
    with pytest.raises(DataFileNotFoundError) as caught:
        loader(data_home=tmp_path)  # type: ignore[operator]
    message = str(caught.value)
    assert str(tmp_path / expected) in message
    assert "CHAINMALL_DATA" in message


def test_missing_file_error_suggests_download(tmp_path: Path) -> None:
    with pytest.raises(DataFileNotFoundError, match="download=True"):
        load_movielens_100k(data_home=tmp_path)


def test_data_home_order_argument_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAINMALL_DATA", str(tmp_path / "env"))
    assert data_home() == tmp_path / "env"
    assert data_home(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("CHAINMALL_DATA")
    assert data_home() == Path.home() / ".chainmall" / "data"


def test_loaders_read_chainmall_data(data_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_file(data_home, "ml-100k/u.data")
    monkeypatch.setenv("CHAINMALL_DATA", str(data_home))
    assert len(load_movielens_100k()) == 100_000


U_DATA = "1\t10\t4\t881250949\n2\t20\t5\t891717742\n2\t10\t1\t878887116\n"


def test_download_fetches_the_zip_member(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("ml-100k/u.data", U_DATA)
        zipped.writestr("ml-100k/README", "not this one")
    monkeypatch.setattr(public, "_ML100K", Remote(archive.as_uri(), "ml-100k/u.data"))
    home = tmp_path / "home"

    ratings = load_movielens_100k(data_home=home, download=True)

    assert (home / "ml-100k" / "u.data").read_text() == U_DATA
    assert ratings["user_id"].tolist() == [1, 2, 2]
    assert ratings["ts"].iloc[0] == pd.Timestamp(881250949, unit="s", tz="UTC")
    assert sorted(p.name for p in (home / "ml-100k").iterdir()) == ["u.data"]  # no leftovers
    # a second call reads the file without downloading
    monkeypatch.setattr(public, "_ML100K", Remote("file:///nonexistent.zip", "ml-100k/u.data"))
    assert len(load_movielens_100k(data_home=home, download=True)) == 3


def test_download_fetches_a_plain_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "oj_large.csv"
    source.write_text("store,brand,week,logmove,feat,price\n2,tropicana,40,2.0,0,3.87\n")
    monkeypatch.setattr(public, "_OJ", Remote(source.as_uri()))
    oj = load_orange_juice(data_home=tmp_path / "home", download=True)
    assert (tmp_path / "home" / "dominicks_oj" / "oj_large.csv").is_file()
    assert oj["units"].tolist() == [7]  # rint(exp(2.0))


def test_walmart_download_explains_how_to_get_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataFileNotFoundError) as caught:
        load_walmart_sales(data_home=tmp_path, download=True)
    message = str(caught.value)
    assert "walmart-recruiting-store-sales-forecasting" in message and "Kaggle" in message
    assert str(tmp_path / "walmart_store_sales" / "train.csv.zip") in message


@pytest.mark.parametrize(
    ("folder", "name", "content"),
    [
        ("ml-100k", "u.data", b"1\t2\tthree\t4\n"),
        ("ml-100k", "u.data", b"\xff\xfe\x00garbage"),
        ("cdnow", "CDNOW_master.txt", b"00001 19970101\n"),
        ("dominicks_oj", "oj_large.csv", b"store,brand\n1,a\n"),
        ("walmart_store_sales", "train.csv.zip", b"PK\x03\x04 not a zip"),
    ],
)
def test_corrupt_data_files_raise_data_validation_error(
    tmp_path: Path, folder: str, name: str, content: bytes
) -> None:
    """Issue 23: a damaged data file names itself instead of raising a pandas error."""
    (tmp_path / folder).mkdir()
    (tmp_path / folder / name).write_bytes(content)
    loader = {
        "ml-100k": load_movielens_100k,
        "cdnow": load_cdnow,
        "dominicks_oj": load_orange_juice,
        "walmart_store_sales": load_walmart_sales,
    }[folder]
    with pytest.raises(DataValidationError, match=name.replace(".", r"\.")):
        loader(data_home=tmp_path)
