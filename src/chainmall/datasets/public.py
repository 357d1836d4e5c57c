"""Loaders for the real public data sets, in the library's column conventions.

| loader | rows | columns |
|---|---|---|
| :func:`load_movielens_100k` | 100,000 ratings | ``user_id, item_id, rating, ts`` |
| :func:`load_cdnow` | 69,659 lines (master) | ``customer_id, ts, quantity, amount`` |
| :func:`load_orange_juice` | 28,947 store-brand-weeks | ``store, brand, week, logmove, units, feat, price, ...`` |
| :func:`load_walmart_sales` | 421,570 store-department-weeks | ``unique_id, ds, y, store, dept, is_holiday`` |

Timestamps of events (``ts``) are timezone-aware UTC; ``ds`` of the weekly
sales is a calendar date (the week's Friday), deliberately timezone-naive.
"""

from __future__ import annotations

import contextlib
import os
from typing import Literal

import numpy as np
import pandas as pd

from chainmall._storage import reading
from chainmall.datasets._files import Remote, locate
from chainmall.exceptions import DataValidationError

__all__ = ["load_cdnow", "load_movielens_100k", "load_orange_juice", "load_walmart_sales"]

PathLike = str | os.PathLike[str] | None

_ML100K = Remote("https://files.grouplens.org/datasets/movielens/ml-100k.zip", "ml-100k/u.data")
_CDNOW = {
    "master": Remote("https://www.brucehardie.com/datasets/CDNOW_master.zip", "CDNOW_master.txt"),
    "sample": Remote("https://www.brucehardie.com/datasets/CDNOW_sample.zip", "CDNOW_sample.txt"),
}
_OJ = Remote("https://msalicedatapublic.z5.web.core.windows.net/datasets/OrangeJuice/oj_large.csv")


def _parsing(path: os.PathLike[str]) -> contextlib.AbstractContextManager[None]:
    """Turn any failure to parse a data file into a DataValidationError naming it."""
    return reading(
        path,
        "data set file",
        DataValidationError,
        "it is not the official file: download it again (download=True) or restore it",
    )


def load_movielens_100k(*, data_home: PathLike = None, download: bool = False) -> pd.DataFrame:
    """MovieLens 100K ratings: ``user_id, item_id`` (int), ``rating`` (1-5), ``ts`` (UTC)."""
    path = locate("ml-100k", "u.data", home=data_home, download=download, remote=_ML100K)
    with _parsing(path):
        names = ["user_id", "item_id", "rating", "ts"]
        frame = pd.read_csv(path, sep="\t", names=names, dtype="int64")
        frame["ts"] = pd.to_datetime(frame["ts"], unit="s", utc=True)
    return frame


def load_cdnow(
    kind: Literal["master", "sample"] = "master",
    *,
    data_home: PathLike = None,
    download: bool = False,
) -> pd.DataFrame:
    """CDNOW purchases: ``customer_id`` (str), ``ts`` (UTC day), ``quantity`` (CDs), ``amount`` (US$).

    ``kind="sample"`` is the 2,357-customer sample of the published BTYD papers;
    its ``customer_id`` is the master id, so both kinds join.
    """
    if kind not in _CDNOW:
        raise DataValidationError(f"kind must be 'master' or 'sample', got {kind!r}")
    filename = f"CDNOW_{kind}.txt"
    path = locate("cdnow", filename, home=data_home, download=download, remote=_CDNOW[kind])
    with _parsing(path):
        if kind == "master":
            frame = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str})
            frame.columns = ["customer_id", "date", "quantity", "amount"]
        else:
            names = ["customer_id", "sample_id", "date", "quantity", "amount"]
            frame = pd.read_csv(path, sep=r"\s+", header=None, names=names, dtype={0: str, 1: str})
            frame = frame.drop(columns="sample_id")
        frame["ts"] = pd.to_datetime(frame["date"].astype(str), format="%Y%m%d", utc=True)
    return frame[["customer_id", "ts", "quantity", "amount"]]


def load_orange_juice(*, data_home: PathLike = None, download: bool = False) -> pd.DataFrame:
    """Dominick's orange juice (EconML ``oj_large.csv`` layout) plus ``units`` = exp(logmove).

    ``price`` is US$ per 64 oz carton; ``week`` 40-160; ``brand`` is one of
    ``tropicana``, ``minute.maid``, ``dominicks``; store demographics follow.
    """
    path = locate("dominicks_oj", "oj_large.csv", home=data_home, download=download, remote=_OJ)
    with _parsing(path):
        frame = pd.read_csv(path)
        frame.insert(4, "units", np.rint(np.exp(frame["logmove"])).astype("int64"))
    return frame


def load_walmart_sales(
    *, data_home: PathLike = None, complete_only: bool = False, download: bool = False
) -> pd.DataFrame:
    """Walmart weekly store x department sales in long format.

    ``unique_id`` is ``"SS_DD"`` (store, department, zero-padded), ``ds`` the
    week-ending Friday, ``y`` sales in US$ (negative = net returns).
    ``complete_only`` keeps the 2,660 series that have all 143 weeks.
    The file comes from a Kaggle competition that needs a login, so there is no
    automatic download: ``download=True`` raises with instructions.
    """
    path = locate(
        "walmart_store_sales",
        "train.csv.zip",
        home=data_home,
        download=download,
        remote=None,
        how_to_get=(
            "download train.csv.zip from the Kaggle competition "
            "'walmart-recruiting-store-sales-forecasting' (login required) and place it there"
        ),
    )
    with _parsing(path):
        raw = pd.read_csv(path, parse_dates=["Date"])
        store, dept = raw["Store"], raw["Dept"]
        frame = pd.DataFrame(
            {
                "unique_id": store.map("{:02d}".format) + "_" + dept.map("{:02d}".format),
                "ds": raw["Date"],
                "y": raw["Weekly_Sales"].astype("float64"),
                "store": store.astype("int64"),
                "dept": dept.astype("int64"),
                "is_holiday": raw["IsHoliday"].astype(bool),
            }
        )
    if complete_only:
        n_weeks = frame["ds"].nunique()
        sizes = frame.groupby("unique_id")["ds"].transform("size")
        frame = frame[sizes == n_weeks]
    return frame.sort_values(["unique_id", "ds"], ignore_index=True)
