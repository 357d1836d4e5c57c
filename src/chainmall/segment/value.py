"""Customer value: "buys again", expected purchases and value, chosen by an inner time split.

:class:`CustomerValueModel` combines a BTYD purchase model with a gradient-boosted
ranker trained on BTYD + RFM-L features, and lets the customer's own history
decide how much of each to use. With ``W = validation_days`` and the
calibration ending at ``as_of``:

1. **Family** — each BTYD family in ``families`` is fitted at ``as_of - W`` and
   forecasts the last ``W`` days; the lowest per-customer MAE wins.
2. **Ranker** — for each setting in ``ranker_grid`` a Poisson gradient-boosted
   model learns purchases in ``(as_of - 2W, as_of - W]`` from features at
   ``as_of - 2W`` (RFM-L measures and the family's own forecasts, see
   :mod:`~chainmall.segment.value_features`). It is then scored on the last
   window.
3. **Choice** on that last window, never on anything after ``as_of``:
   the "buys again" score is the candidate (the family's ``P(X > 0)`` or
   ``E[X]``, the RFM quintile sum, each ranker) with the highest AUC; expected
   purchases are the candidate with the lowest MAE among the family's
   forecast, that forecast re-ranked by a score (see below) and that forecast
   times a ranker's correction (its forecast over the family's). The family
   wins ties.
4. **Refit** — the family is refitted at ``as_of``; the chosen rankers are
   retrained on the last window (features at ``as_of - W``) and score the
   customers at ``as_of``.

*Re-ranking* (``quantile_map``) keeps the BTYD forecast's distribution —
hence its total — and hands its sorted values out in the order of another
score: the level comes from the purchase model, the order from the score.
The horizon of a forecast may differ from ``W``: the family supplies the
horizon (``expected_purchases(t)``, ``P(X(t) > 0)``), the scores only the order
or the correction. Value = expected purchases x Gamma-Gamma spend per purchase.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal, Self

import numpy as np
import pandas as pd
from pydantic import Field

from chainmall._persist import ParamsMixin, load_folder, save_folder
from chainmall._progress import fit_done, fit_started
from chainmall._storage import reading
from chainmall._validation import check_scalar
from chainmall.config import EngineConfig
from chainmall.exceptions import (
    ConvergenceError,
    DataValidationError,
    ModelFileError,
    NotFittedError,
)
from chainmall.segment.btyd import BetaGeo, BTYDConfig, ModifiedBetaGeo, ParetoNBD, _PurchaseModel
from chainmall.segment.config import UNIT_DAYS, RFMLConfig
from chainmall.segment.gamma_gamma import GammaGamma
from chainmall.segment.rfml import canonical_transactions, summarize
from chainmall.segment.value_features import (
    FEATURES,
    Cut,
    add_model_features,
    cut_at,
    purchases_between,
)

__all__ = ["CustomerValueModel", "ValueConfig", "quantile_map"]

logger = logging.getLogger(__name__)

Family = Literal["ParetoNBD", "ModifiedBetaGeo", "BetaGeo"]
FAMILIES: Mapping[str, type[_PurchaseModel]] = MappingProxyType(
    {"ParetoNBD": ParetoNBD, "ModifiedBetaGeo": ModifiedBetaGeo, "BetaGeo": BetaGeo}
)
LeafNodes = Annotated[int, Field(ge=2)]
LeafSize = Annotated[int, Field(ge=1)]
_MIN_BASE = 1e-3
"""Floor of the family's forecast where a ranker's forecast is divided by it (purchases)."""


class ValueConfig(EngineConfig):
    """Settings of :class:`CustomerValueModel`."""

    rfml: RFMLConfig = Field(
        default_factory=RFMLConfig,
        description="Summary settings: as_of (end of calibration), timezone, time_unit "
        "(the unit of forecast horizons), refunds, RFM scoring.",
    )
    validation_days: int = Field(
        default=91,
        ge=7,
        description="Length W of each inner window (days): choices are validated on the "
        "last W days before as_of, rankers learn from the W days before that.",
    )
    families: tuple[Family, ...] = Field(
        default=("ParetoNBD", "ModifiedBetaGeo", "BetaGeo"),
        min_length=1,
        description="BTYD families tried; the one with the lowest inner MAE is used.",
    )
    ranker_grid: tuple[tuple[LeafNodes, LeafSize], ...] = Field(
        default=((3, 200), (7, 200), (15, 100)),
        description="Ranker settings tried, each (max leaf nodes, min customers per "
        "leaf); an empty grid leaves BTYD and the RFM sum as the only candidates.",
    )
    learning_rate: float = Field(
        default=0.05, gt=0, le=1, description="Shrinkage of each boosting step (ratio)."
    )
    max_iter: int = Field(default=200, ge=1, description="Boosting iterations (count).")
    min_train_customers: int = Field(
        default=200,
        ge=10,
        description="Fewest customers with a purchase by as_of - 2W that the inner "
        "split needs (count).",
    )
    max_train_customers: int = Field(
        default=200_000,
        ge=1_000,
        description="Rankers train on a seeded sample of at most this many customers (count).",
    )
    seed: int = Field(default=0, ge=0, description="Seed of the training sample.")
    n_jobs: int = Field(default=1, ge=1, description="Threads of the gradient boosting (count).")
    btyd: BTYDConfig = Field(
        default_factory=BTYDConfig, description="Fitting options of the BTYD families."
    )


def quantile_map(reference: np.ndarray, score: np.ndarray) -> np.ndarray:
    """``reference``'s values handed out in the order of ``score``.

    The customer with the k-th smallest score gets the k-th smallest reference
    value; customers with equal scores share the mean of their values, so the
    sum (and hence the total forecast) is kept exactly up to rounding.
    """
    order = np.argsort(score, kind="stable")
    ranked = np.asarray(score)[order]
    values = np.sort(np.asarray(reference, dtype=np.float64))
    if len(values) == 0:
        return values
    starts = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:-1])))
    lengths = np.diff(np.append(starts, len(values)))
    means = np.add.reduceat(values, starts) / lengths
    out = np.empty_like(values)
    out[order] = np.repeat(means, lengths)
    return out


def _auc(labels: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (ties count half); NaN without both classes."""
    positive = labels.astype(bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(score).rank(method="average").to_numpy(dtype=np.float64)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@dataclass(frozen=True)
class _Window:
    """A cut-off's customers, its fitted family and features (with the forecast over W)."""

    cut: Cut
    model: _PurchaseModel
    features: pd.DataFrame

    @property
    def base(self) -> np.ndarray:
        return np.asarray(
            np.maximum(self.features["expected"].to_numpy(dtype=np.float64), _MIN_BASE)
        )


class CustomerValueModel(ParamsMixin):
    """Default customer-value model: P(buys again), expected purchases and value.

    Example::

        cfg = ValueConfig(rfml=RFMLConfig(as_of="1997-09-30", timezone="UTC"))
        model = CustomerValueModel(cfg).fit(log)     # user_id, ts, amount_fen
        forecast = model.predict(39)                  # horizon in cfg.rfml.time_unit

    Attributes (after ``fit``): ``as_of_``, ``family_`` (the BTYD family used)
    and ``family_mae_`` (each family's inner MAE), ``purchase_model_`` (the
    family fitted at ``as_of``), ``buys_method_`` and ``count_method_`` (the
    chosen candidates), ``selection_`` (every candidate's inner score),
    ``customers_`` (the summary at ``as_of``), ``buys_score_`` and
    ``count_score_`` (the chosen rankers' scores per customer) and
    ``spend_per_purchase_`` (fen).
    """

    def __init__(self, config: ValueConfig | None = None) -> None:
        self.config = config or ValueConfig()

    def fit(
        self,
        transactions: pd.DataFrame,
        *,
        columns: Mapping[str, str] | None = None,
        customer_id: str | None = None,
        ts: str | None = None,
        amount: str | None = None,
    ) -> Self:
        """Choose and fit on ``transactions`` up to ``config.rfml.as_of``.

        ``transactions`` and ``columns`` are as in :func:`~chainmall.segment.summarize`
        (``customer_id``, ``ts``, ``amount`` are its deprecated keywords).

        Raises:
            DataValidationError: bad transactions (as :func:`summarize`), or
                fewer than ``min_train_customers`` customers by ``as_of - 2W``.
            ConvergenceError: no BTYD family converged on the inner split.
        """
        cfg = self.config
        transactions = canonical_transactions(
            transactions, columns, customer_id=customer_id, ts=ts, amount=amount
        )
        as_of = summarize(transactions, cfg.rfml).as_of
        start = fit_started(logger, "CustomerValueModel", transactions=len(transactions))
        width = pd.Timedelta(days=cfg.validation_days)
        horizon = cfg.validation_days / UNIT_DAYS[cfg.rfml.time_unit]
        train_cut, valid_cut, final_cut = (
            cut_at(transactions, cfg.rfml, as_of - k * width) for k in (2, 1, 0)
        )
        self._check_history(train_cut, as_of - 2 * width)
        assert train_cut is not None and valid_cut is not None and final_cut is not None

        def labels(cut: Cut) -> np.ndarray:
            ids = pd.Index(cut.customers["user_id"])
            return purchases_between(transactions, cfg.rfml, ids, cut.day, cut.day + width)

        valid_labels = labels(valid_cut)
        family, valid_model = self._choose_family(valid_cut.customers, valid_labels, horizon)
        train = self._window(train_cut, self._fit_family(family, train_cut.customers), horizon)
        valid = self._window(valid_cut, valid_model, horizon)
        final = self._window(final_cut, self._fit_family(family, final_cut.customers), horizon)
        self._validate(train, labels(train_cut), valid, valid_labels)
        self._refit(valid, valid_labels, final)
        self.family_ = family
        self.purchase_model_ = final.model
        self.customers_ = final_cut.customers
        self.customer_id_ = "user_id"
        self.as_of_ = as_of
        self.spend_per_purchase_ = self._spend(final_cut.customers)
        fit_done(logger, "CustomerValueModel", start)
        return self

    def _check_history(self, train_cut: Cut | None, day: pd.Timestamp) -> None:
        n = 0 if train_cut is None else len(train_cut.customers)
        if n < self.config.min_train_customers:
            raise DataValidationError(
                f"the inner time split needs >= {self.config.min_train_customers} customers "
                f"with a purchase by {day:%Y-%m-%d} (as_of - 2 x validation_days), found {n}; "
                "pass more history, a later as_of or a smaller validation_days"
            )

    def _fit_family(self, name: str, customers: pd.DataFrame) -> _PurchaseModel:
        return FAMILIES[name](self.config.btyd).fit(customers)

    def _choose_family(
        self, customers: pd.DataFrame, labels: np.ndarray, horizon: float
    ) -> tuple[str, _PurchaseModel]:
        """The family whose forecast of the last window has the lowest MAE, fitted before it."""
        errors: dict[str, float] = {}
        models: dict[str, _PurchaseModel] = {}
        for name in self.config.families:
            try:
                models[name] = self._fit_family(name, customers)
            except ConvergenceError as exc:
                logger.warning("value model: %s skipped on the inner split: %s", name, exc)
                continue
            predicted = models[name].expected_purchases(horizon, customers).to_numpy()
            errors[name] = float(np.abs(predicted - labels).mean())
        if not errors:
            raise ConvergenceError(
                f"no BTYD family in {self.config.families} converged on the inner split; "
                "try BTYDConfig(penalizer=0.001) or more customers"
            )
        self.family_mae_ = errors
        best = _best(errors, larger=False)
        return best, models[best]

    @staticmethod
    def _window(cut: Cut, model: _PurchaseModel, horizon: float) -> _Window:
        return _Window(cut, model, add_model_features(cut, model, horizon))

    def _validate(
        self, train: _Window, train_labels: np.ndarray, valid: _Window, labels: np.ndarray
    ) -> None:
        """Score every candidate on the last window; keep the best of each output."""
        base = valid.features["expected"].to_numpy()
        ranks: dict[str, np.ndarray] = {
            "btyd": valid.features["p_buy"].to_numpy(),
            "btyd_expected": base,
            "rfm": valid.features["rfm_sum"].to_numpy(),
        }
        forecasts = {
            _ranker_name(setting): self._predict(self._train(train, train_labels, setting), valid)
            for setting in self.config.ranker_grid
        }
        ranks |= forecasts
        counts: dict[str, np.ndarray] = {"btyd": base}
        counts |= {f"{k}_rank": quantile_map(base, v) for k, v in ranks.items() if k != "btyd"}
        counts |= {f"{k}_ratio": v for k, v in forecasts.items()}  # base x (forecast / base)
        auc = {k: _auc(labels > 0, v) for k, v in ranks.items()}
        mae = {k: float(np.abs(v - labels).mean()) for k, v in counts.items()}
        del mae["btyd_expected_rank"]  # the identity of "btyd"
        self.buys_method_ = _best(auc, larger=True)
        self.count_method_ = _best(mae, larger=False)
        self.selection_ = pd.DataFrame(
            [("buys", k, "auc", v) for k, v in auc.items()]
            + [("count", k, "mae", v) for k, v in mae.items()],
            columns=["output", "candidate", "metric", "value"],
        )
        logger.info(
            "value model: buys again by %s, expected purchases by %s",
            self.buys_method_,
            self.count_method_,
        )

    def _refit(self, valid: _Window, labels: np.ndarray, final: _Window) -> None:
        """Retrain the chosen rankers on the last window and score the customers at as_of."""
        settings = {_ranker_name(s): s for s in self.config.ranker_grid}
        forecasts: dict[str, np.ndarray] = {}
        for name in {self.buys_method_, _score_name(self.count_method_)} & set(settings):
            forecasts[name] = self._predict(self._train(valid, labels, settings[name]), final)

        def score(method: str) -> np.ndarray:
            if method in forecasts:
                return forecasts[method]
            if method == "rfm":
                return final.features["rfm_sum"].to_numpy()
            return np.zeros(len(final.features))  # BTYD methods use the family at predict

        self.buys_score_ = score(self.buys_method_)
        self.count_score_ = score(_score_name(self.count_method_))
        if self.count_method_.endswith("_ratio"):  # a correction of the family's forecast
            self.count_score_ = self.count_score_ / final.base

    def _train(self, window: _Window, labels: np.ndarray, setting: tuple[int, int]) -> Any:
        """Poisson gradient boosting of purchases over W on the window's features."""
        from sklearn.ensemble import HistGradientBoostingRegressor
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        rows = np.arange(len(window.features))
        if len(rows) > self.config.max_train_customers:
            rng = np.random.default_rng(self.config.seed)
            rows = np.sort(rng.choice(rows, self.config.max_train_customers, replace=False))
        booster = HistGradientBoostingRegressor(
            loss="poisson",
            learning_rate=self.config.learning_rate,
            max_iter=self.config.max_iter,
            max_leaf_nodes=setting[0],
            min_samples_leaf=setting[1],
            early_stopping=False,
            random_state=self.config.seed,
        )
        with threadpool_limits(limits=self.config.n_jobs):
            return booster.fit(window.features.iloc[rows][list(FEATURES)], labels[rows])

    def _predict(self, booster: Any, window: _Window) -> np.ndarray:
        """The ranker's forecast of purchases over W."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.config.n_jobs):
            return np.asarray(booster.predict(window.features[list(FEATURES)]))

    def _spend(self, customers: pd.DataFrame) -> np.ndarray:
        """Gamma-Gamma spend per purchase (fen); each customer's mean spend if it cannot fit."""
        try:
            spend = GammaGamma(self.config.btyd).fit(customers).expected_spend(customers)
            return spend.to_numpy()
        except (DataValidationError, ConvergenceError) as exc:
            logger.warning("value model: Gamma-Gamma not used (%s); mean spend instead", exc)
            return customers["mean_spend_fen"].to_numpy(dtype=np.float64)

    def predict(self, horizon: float) -> pd.DataFrame:
        """Forecast for ``(as_of, as_of + horizon]`` (``horizon`` in ``rfml.time_unit``).

        Returns:
            One row per customer: the id column, ``p_buy`` (probability of at
            least one purchase), ``expected_purchases``, ``spend_per_purchase_fen``
            and ``value_fen`` (expected purchases x spend per purchase).
        """
        if not hasattr(self, "purchase_model_"):
            raise NotFittedError("CustomerValueModel is not fitted; call fit(transactions) first")
        horizon = check_scalar(horizon, "horizon", "number", ge=0)
        customers = self.customers_
        base_count = self.purchase_model_.expected_purchases(horizon, customers).to_numpy()
        base_buy = 1.0 - self.purchase_model_.p_no_purchase(horizon, customers).to_numpy()
        buys_order = {"btyd": base_buy, "btyd_expected": base_count}.get(
            self.buys_method_, self.buys_score_
        )
        count_order = base_count if self.count_method_.startswith("btyd") else self.count_score_
        counts = _apply_count_method(self.count_method_, base_count, count_order)
        return pd.DataFrame(
            {
                self.customer_id_: customers[self.customer_id_].to_numpy(),
                "p_buy": quantile_map(base_buy, buys_order),
                "expected_purchases": counts,
                "spend_per_purchase_fen": self.spend_per_purchase_,
                "value_fen": counts * self.spend_per_purchase_,
            }
        )

    def save(self, path: str | Path) -> Path:
        """Write the fitted state to the folder ``path`` (:mod:`chainmall._persist`:
        ``manifest.json`` + ``arrays.npz``, no pickle); returns the folder.

        Parameters and choices go to the manifest, per-customer arrays to the
        ``.npz``. Ids must be integers or strings (others are written as strings).
        """
        if not hasattr(self, "purchase_model_"):
            raise NotFittedError("CustomerValueModel is not fitted; call fit(transactions) first")
        customers = self.customers_
        ids = customers[self.customer_id_].to_numpy()
        arrays: dict[str, Any] = {
            "customer_id": ids if ids.dtype.kind in "iu" else ids.astype(str),
            "buys_score": self.buys_score_,
            "count_score": self.count_score_,
            "spend_per_purchase_fen": self.spend_per_purchase_,
        }
        arrays |= {column: customers[column].to_numpy(np.float64) for column in ("x", "t_x", "T")}
        state = {
            "as_of": f"{self.as_of_:%Y-%m-%d}",
            "customer_id": self.customer_id_,
            "family": self.family_,
            "params": self.purchase_model_.params_,
            "family_mae": self.family_mae_,
            "buys_method": self.buys_method_,
            "count_method": self.count_method_,
            "selection": self.selection_.to_dict(orient="records"),
        }
        return save_folder(path, self, config=self.config, state=state, arrays=arrays)

    @classmethod
    def load(cls, path: str | Path) -> CustomerValueModel:
        """Read a model written by :meth:`save` (checks the class, format and hashes).

        Raises:
            ModelFileError: the folder is incomplete, corrupt, changed after save or
                holds another model.
        """
        saved = load_folder(path, cls)
        with reading(path):
            return cls._from_manifest({**saved.state, "config": saved.config}, saved.arrays())

    @classmethod
    def _from_manifest(
        cls, manifest: dict[str, Any], arrays: dict[str, np.ndarray]
    ) -> CustomerValueModel:
        """The model a checked manifest and its arrays describe."""
        model = cls(ValueConfig.from_dict(manifest["config"]))
        model.customer_id_ = manifest["customer_id"]
        model.customers_ = pd.DataFrame(
            {
                model.customer_id_: arrays["customer_id"],
                **{column: arrays[column] for column in ("x", "t_x", "T")},
            }
        )
        model.buys_score_ = arrays["buys_score"]
        model.count_score_ = arrays["count_score"]
        model.spend_per_purchase_ = arrays["spend_per_purchase_fen"]
        family = FAMILIES.get(str(manifest["family"]))
        if family is None:
            raise ModelFileError(
                f"unknown purchase model family {manifest['family']!r}; known: {sorted(FAMILIES)}"
            )
        purchase_model = family(model.config.btyd)
        purchase_model.params_ = {k: float(v) for k, v in manifest["params"].items()}
        model.purchase_model_ = purchase_model
        model.family_ = manifest["family"]
        model.family_mae_ = manifest["family_mae"]
        model.buys_method_ = manifest["buys_method"]
        model.count_method_ = manifest["count_method"]
        model.selection_ = pd.DataFrame(manifest["selection"])
        model.as_of_ = pd.Timestamp(manifest["as_of"])
        return model


def _ranker_name(setting: tuple[int, int]) -> str:
    return f"ranker_{setting[0]}x{setting[1]}"


def _best(scores: dict[str, float], *, larger: bool) -> str:
    """Best candidate; the first listed (BTYD) wins ties and NaN scores never win."""
    best = next(iter(scores))
    for name, value in scores.items():
        current = scores[best]
        better = value > current if larger else value < current
        if np.isfinite(value) and (better or not np.isfinite(current)):
            best = name
    return best


def _score_name(count_method: str) -> str:
    """The score a count method reads: ``ranker_7x200_rank`` -> ``ranker_7x200``."""
    return count_method.rsplit("_", 1)[0] if count_method != "btyd" else "btyd"


_COUNT_METHODS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "btyd": lambda base, score: base,
    "rank": quantile_map,
    "ratio": lambda base, score: base * score,
}


def _apply_count_method(method: str, base: np.ndarray, score: np.ndarray) -> np.ndarray:
    kind = "btyd" if method == "btyd" else method.rsplit("_", 1)[1]
    return np.asarray(_COUNT_METHODS[kind](base, score))
