"""Demand features for the list-price layer: product, region (store), time, market.

:class:`DemandFeatureBuilder` learns store x product histories on the training rows
only (``fit``) and builds, for any rows (``transform``):

* ``log_price`` — the **only** feature carrying own price (monotone in the model);
* ``lag_log_price``, ``lead_log_price``, ``lag_gap`` — own price last period and the
  planned price next period (promotion calendar), periods since the last row;
* ``store_product_mean/std``, ``store_product_regular_mean`` (weeks without
  promotion), ``store_mean``, ``ref_log_price`` — training history encodings;
* ``seasonal_lag_log_units`` — mean training ``log1p(units)`` of the store x product one
  season earlier (periods ``t - season_length ± 1``; NaN where the training history has
  none), so a row never sees its own or any later target;
* ``week_of_year``, ``season_sin``/``season_cos`` (smooth season), ``product_code``
  and the promotion columns (e.g. ``feat``);
* from an optional long ``market`` frame of all products' prices in each store and
  period: ``comp_log_price__<p>``, ``comp_feat__<p>``, ``comp_deal__<p>`` with the
  row's own product masked (NaN), so competitor columns never carry own price, plus
  ``comp_min_log_price`` and ``comp_feat_count``.

Every output feature is declared list-price eligible by :meth:`catalog_for`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from chainmall._columns import canonical_frame, column_mapping
from chainmall._persist import InitParamsMixin, json_values, load_folder, save_folder
from chainmall._storage import reading
from chainmall._validation import (
    Column,
    check_frame,
    require_columns,
    require_frame,
    require_unique,
)
from chainmall.exceptions import ConfigError, NotFittedError
from chainmall.pricing.layers import DEFAULT_CATALOG, FeatureCatalog, FeatureSpec

__all__ = ["DemandFeatureBuilder", "oj_market_frame"]

_STORE, _ITEM, _DS, _PRICE, _UNITS = "store_id", "item_id", "ds", "price", "units"
_ACCEPTED = (_STORE, _ITEM, _DS, _PRICE, _UNITS)
_LEGACY = {"store": _STORE, "product": _ITEM, "period": _DS, "price": _PRICE, "units": _UNITS}
"""The per-column keywords of earlier releases -> the canonical names they set."""
_OLD_DEFAULTS = {_STORE: "store", _ITEM: "brand", _DS: "week"}
"""The orange-juice names the builder read by default in earlier releases."""
_OJ_BRANDS = {1: "tropicana", 5: "minute.maid", 10: "dominicks"}
_OUNCES_PER_CARTON = 64


def oj_market_frame(yx: pd.DataFrame) -> pd.DataFrame:
    """Long market frame from bayesm's ``orangeJuice_yx`` layout (all 11 brands).

    Returns ``store, week, brand, price`` (US$ per 64 oz, like ``oj_large.csv``),
    ``feat`` (share of feature ads, 0..1) and ``deal`` (0/1). Brands 1, 5 and 10 get the ``oj_large`` names
    (``tropicana``, ``minute.maid``, ``dominicks``), the others ``brand<k>``.
    """
    price_cols = [f"price{k}" for k in range(1, 12)]
    check_frame(
        yx,
        (
            Column("store", "label"),
            Column("brand", "count", ge=1, le=11),
            Column("week", "count"),
            Column("feat", "number", ge=0, le=1),
            Column("deal", "number", ge=0, le=1),
            *(Column(c, "number", gt=0) for c in price_cols),
        ),
        name="yx",
        id_column="store",
    )
    store_week = yx.drop_duplicates(["store", "week"])[["store", "week", *price_cols]]
    prices = store_week.melt(["store", "week"], price_cols, var_name="k", value_name="price")
    prices["brand_no"] = prices["k"].str.removeprefix("price").astype("int64")
    prices["price"] = (prices["price"] * _OUNCES_PER_CARTON).round(2)
    promo = yx[["store", "week", "brand", "feat", "deal"]].rename(columns={"brand": "brand_no"})
    out = prices.drop(columns="k").merge(promo, on=["store", "week", "brand_no"], how="left")
    out["brand"] = [_OJ_BRANDS.get(int(k), f"brand{int(k)}") for k in out["brand_no"]]
    return out[["store", "week", "brand", "price", "feat", "deal"]].reset_index(drop=True)


def _slug(value: object) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", str(value)).strip("_")


class DemandFeatureBuilder(InitParamsMixin):
    """Builds list-price-eligible demand features (see the module docstring).

    The history is read under the canonical names ``store_id``, ``item_id``, ``ds``
    (an integer period index, e.g. the week number), ``price`` (own price, > 0, any
    one currency unit: the features use its log, so fen and yuan give the same
    model) and ``units`` (units sold, >= 0; the target is ``log1p(units)``); name
    yours with ``columns=``. A frame under the orange-juice names of earlier
    releases (``store``, ``brand``, ``week``) is still read, with a
    :class:`FutureWarning`. ``transform`` returns the key columns under the
    canonical names.

    Args:
        columns: ``{canonical name: your column}`` for the names that differ.
        promo_columns: own promotion columns (0/1 or shares) passed through.
        region_columns: numeric store/region aggregates passed through (e.g. a trade
            area's distance to the nearest rival); names revealing protected
            attributes (age, income, ethnicity, ...) are refused by the catalogue.
        season_length: periods per year for ``week_of_year``.
        **legacy: the deprecated ``store=``, ``product=``, ``period=``, ``price=``,
            ``units=`` keywords (:class:`FutureWarning`; use ``columns=``).

    Raises:
        ConfigError: an unknown ``columns`` key or keyword.
    """

    def __init__(
        self,
        *,
        columns: Mapping[str, str] | None = None,
        promo_columns: tuple[str, ...] = ("feat",),
        region_columns: tuple[str, ...] = (),
        season_length: int = 52,
        **legacy: str,
    ) -> None:
        unknown = sorted(set(legacy) - set(_LEGACY))
        if unknown:
            raise ConfigError(
                f"DemandFeatureBuilder has no parameter(s) {unknown}; name columns with "
                f"columns={{canonical: yours}}, canonical names {list(_ACCEPTED)}"
            )
        self.columns = column_mapping(
            columns,
            accepted=_ACCEPTED,
            name="history",
            legacy={k: (canonical, legacy.get(k)) for k, canonical in _LEGACY.items()},
        )
        self.promo_columns = promo_columns
        self.region_columns = region_columns
        self.season_length = season_length

    def canonical(self, frame: pd.DataFrame, name: str = "frame") -> pd.DataFrame:
        """``frame`` under the canonical names, read through this builder's ``columns``."""
        return canonical_frame(
            frame, self.columns, accepted=_ACCEPTED, name=name, old_defaults=_OLD_DEFAULTS
        )

    # -- validation -------------------------------------------------------------
    def _check(self, frame: pd.DataFrame, *, with_units: bool, name: str = "frame") -> None:
        columns = [
            Column(_STORE, "label"),
            Column(_ITEM, "label", one_type=True),
            Column(_DS, "count"),
            Column(_PRICE, "number", gt=0),
            *(Column(c, "number") for c in (*self.promo_columns, *self.region_columns)),
        ]
        if with_units:
            columns.append(Column(_UNITS, "number", ge=0))
        check_frame(frame, columns, name=name, id_column=_STORE)
        require_unique(frame, [_STORE, _ITEM, _DS], name=name)

    # -- learning ----------------------------------------------------------------
    def fit(self, history: pd.DataFrame) -> DemandFeatureBuilder:
        """Learn store x product encodings from training rows (their units are used)."""
        history = self.canonical(history, "history")
        self._check(history, with_units=True, name="history")
        keyed = history.assign(
            _y=np.log1p(history[_UNITS].to_numpy(dtype=float)),
            _lp=np.log(history[_PRICE].to_numpy(dtype=float)),
        )
        by_sp = keyed.groupby([_STORE, _ITEM], sort=True)
        self.store_product_ = pd.DataFrame(
            {
                "store_product_mean": by_sp["_y"].mean(),
                "store_product_std": by_sp["_y"].std(ddof=1),
                "ref_log_price": by_sp["_lp"].median(),
            }
        )
        promo = np.asarray(
            keyed[list(self.promo_columns)].to_numpy(dtype=float).any(axis=1), dtype=bool
        )
        regular = keyed[~promo].groupby([_STORE, _ITEM], sort=True)["_y"].mean()
        self.store_product_["store_product_regular_mean"] = regular.reindex(
            self.store_product_.index
        )
        self.store_mean_ = keyed.groupby(_STORE)["_y"].mean().rename("store_mean")
        self.history_units_ = keyed.set_index([_STORE, _ITEM, _DS])["_y"]
        self.products_ = tuple(sorted(history[_ITEM].unique().tolist(), key=str))
        return self

    # -- persistence ------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the fitted encodings to folder ``path`` (:mod:`chainmall._persist`:
        manifest with the constructor arguments and ids, ``arrays.npz``); returns it."""
        if not hasattr(self, "store_product_"):
            raise NotFittedError("DemandFeatureBuilder.save called before fit(history)")
        pairs, history = self.store_product_.index, self.history_units_.index
        state = {
            "pairs": [json_values(pairs.get_level_values(k)) for k in range(2)],
            "stores": json_values(self.store_mean_.index),
            "history": [json_values(history.get_level_values(k)) for k in range(3)],
            "products": json_values(self.products_),
            "encodings": [str(c) for c in self.store_product_.columns],
        }
        arrays = {
            "encodings": self.store_product_.to_numpy(dtype=np.float64),
            "store_mean": self.store_mean_.to_numpy(dtype=np.float64),
            "history_units": self.history_units_.to_numpy(dtype=np.float64),
        }
        return save_folder(path, self, config=self.get_params(), state=state, arrays=arrays)

    @classmethod
    def load(cls, path: str | Path) -> DemandFeatureBuilder:
        """Read a builder written by :meth:`save` (hashes and class checked, no pickle).

        Raises:
            ModelFileError: the folder is missing, changed, corrupt or of another class.
        """
        saved = load_folder(path, cls)
        with reading(path):
            params = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.config.items()}
            builder = cls(**params)  # type: ignore[arg-type]  # checked by the constructor
            meta, arrays = saved.state, saved.arrays()
            names = [_STORE, _ITEM, _DS]
            builder.store_product_ = pd.DataFrame(
                arrays["encodings"],
                index=pd.MultiIndex.from_arrays(meta["pairs"], names=names[:2]),
                columns=meta["encodings"],
            )
            builder.store_mean_ = pd.Series(
                arrays["store_mean"],
                index=pd.Index(meta["stores"], name=names[0]),
                name="store_mean",
            )
            builder.history_units_ = pd.Series(
                arrays["history_units"],
                index=pd.MultiIndex.from_arrays(meta["history"], names=names),
                name="_y",
            )
            builder.products_ = tuple(meta["products"])
        return builder

    def target(self, frame: pd.DataFrame) -> pd.Series:
        """``log1p(units)``, the demand model's target, indexed like ``frame``."""
        frame = self.canonical(frame)
        self._check(frame, with_units=True)
        return pd.Series(
            np.log1p(frame[_UNITS].to_numpy(dtype=float)), index=frame.index, name="log_units"
        )

    # -- features ----------------------------------------------------------------
    def transform(self, frame: pd.DataFrame, market: pd.DataFrame | None = None) -> pd.DataFrame:
        """Feature frame aligned with ``frame``'s rows (same order and index).

        Args:
            frame: rows to describe (store, product, period, price, promotions), read
                through ``columns`` like the history.
            market: optional long frame ``store_id, ds, item_id, price`` (read through
                ``columns`` too) and optional ``feat``/``deal`` for every product on
                sale (own product included: it is masked per row).

        Returns:
            ``store_id, item_id, ds`` and the features (:meth:`feature_columns`).
        """
        if not hasattr(self, "store_product_"):
            raise NotFittedError("DemandFeatureBuilder.transform called before fit(history)")
        market = None if market is None else self.canonical(market, "market")
        return self._features(self.canonical(frame), market)

    def _features(self, frame: pd.DataFrame, market: pd.DataFrame | None) -> pd.DataFrame:
        """:meth:`transform` of frames already under the canonical names."""
        self._check(frame, with_units=False)
        keys = [_STORE, _ITEM, _DS]
        base = frame[[*keys, _PRICE]].copy()
        base["_row"] = np.arange(len(base))
        base["log_price"] = np.log(base[_PRICE].to_numpy(dtype=float))
        base = base.sort_values(keys, kind="stable")
        grouped = base.groupby([_STORE, _ITEM], sort=False)
        base["lag_log_price"] = grouped["log_price"].shift(1)
        base["lead_log_price"] = grouped["log_price"].shift(-1)
        base["lag_gap"] = base[_DS] - grouped[_DS].shift(1)
        base = base.sort_values("_row")
        out = pd.DataFrame(index=frame.index)
        for key in keys:
            out[key] = frame[key].to_numpy()
        out["log_price"] = base["log_price"].to_numpy()
        for col in (*self.promo_columns, *self.region_columns):
            out[col] = frame[col].to_numpy(dtype=float)
        for col in ("lag_log_price", "lead_log_price", "lag_gap"):
            out[col] = base[col].to_numpy(dtype=float)
        out["week_of_year"] = (frame[_DS].to_numpy() % self.season_length).astype(float)
        angle = 2 * np.pi * frame[_DS].to_numpy(dtype=float) / self.season_length
        out["season_sin"] = np.sin(angle)
        out["season_cos"] = np.cos(angle)
        codes = {p: i for i, p in enumerate(self.products_)}
        out["product_code"] = [float(codes.get(p, -1)) for p in frame[_ITEM]]
        sp = self.store_product_.reindex(pd.MultiIndex.from_frame(frame[[_STORE, _ITEM]]))
        for col in sp.columns:
            out[col] = sp[col].to_numpy(dtype=float)
        out["store_mean"] = frame[_STORE].map(self.store_mean_).to_numpy(dtype=float)
        out["seasonal_lag_log_units"] = self._seasonal_lag(frame)
        if market is not None:
            comp = self._competitors(frame, market)
            for col in comp.columns:
                out[col] = comp[col].to_numpy()
        return out

    def _seasonal_lag(self, frame: pd.DataFrame) -> np.ndarray:
        """Mean training ``log1p(units)`` of the same store x product one season earlier (±1)."""
        total = np.zeros(len(frame))
        count = np.zeros(len(frame))
        for offset in (-1, 0, 1):
            index = pd.MultiIndex.from_arrays(
                [
                    frame[_STORE].to_numpy(),
                    frame[_ITEM].to_numpy(),
                    frame[_DS].to_numpy() - self.season_length + offset,
                ]
            )
            values = self.history_units_.reindex(index).to_numpy(dtype=float)
            known = np.isfinite(values)
            total += np.where(known, values, 0.0)
            count += known
        with np.errstate(invalid="ignore"):
            return np.where(count > 0, total / count, np.nan)

    def _competitors(self, frame: pd.DataFrame, market: pd.DataFrame) -> pd.DataFrame:
        require_frame(market, "market")
        require_columns(market, [_STORE, _DS, _ITEM, _PRICE], name="market")
        require_unique(market, [_STORE, _DS, _ITEM], name="market")
        values = ["price", *[c for c in ("feat", "deal") if c in market.columns]]
        wide = market.assign(price=np.log(market[_PRICE].to_numpy(dtype=float))).pivot_table(
            index=[_STORE, _DS],
            columns=_ITEM,
            values=values,
            aggfunc="first",
            dropna=False,
        )
        products = list(wide["price"].columns)
        idx = pd.MultiIndex.from_frame(frame[[_STORE, _DS]])
        wide = wide.reindex(idx)
        own = frame[_ITEM].to_numpy()
        comp = {}
        names = {"price": "comp_log_price__", "feat": "comp_feat__", "deal": "comp_deal__"}
        for value in values:
            for p in products:
                col = wide[(value, p)].to_numpy(dtype=float).copy()
                col[own == p] = np.nan
                comp[names[value] + _slug(p)] = col
        result = pd.DataFrame(comp, index=frame.index)
        price_cols = [c for c in result.columns if c.startswith("comp_log_price__")]
        result["comp_min_log_price"] = result[price_cols].min(axis=1, skipna=True)
        if "feat" in values:
            feat_cols = [c for c in result.columns if c.startswith("comp_feat__")]
            result["comp_feat_count"] = result[feat_cols].sum(axis=1, skipna=True)
        return result

    def catalog_for(self, columns: list[str]) -> FeatureCatalog:
        """The default catalogue plus this builder's competitor and promotion columns."""
        declared = {s.name for s in DEFAULT_CATALOG.specs}
        extra = [
            FeatureSpec(name, "market", "list_price", "competitor price/promotion or own promotion")
            for name in columns
            if name not in declared and (name.startswith("comp_") or name in self.promo_columns)
        ]
        extra += [
            FeatureSpec(name, "market", "list_price", "store / region aggregate")
            for name in columns
            if name not in declared and name in self.region_columns
        ]
        return DEFAULT_CATALOG.with_features(extra)

    def feature_columns(self, features: pd.DataFrame) -> list[str]:
        """The model inputs of a ``transform`` output (everything but the id columns)."""
        ids = {_STORE, _ITEM, _DS}
        return [c for c in features.columns if c not in ids]
