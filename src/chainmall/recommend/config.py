"""Configuration of the collaborative-filtering models (one frozen config per model)."""

from __future__ import annotations

import warnings
from typing import Literal, Self

from pydantic import Field, model_validator

from chainmall.config import EngineConfig

__all__ = [
    "ALSConfig",
    "BaselineConfig",
    "BlendConfig",
    "EASEConfig",
    "InteractionsConfig",
    "KNNConfig",
    "MFConfig",
]


_LEGACY_NAMES = {
    "user_col": "user_id",
    "item_col": "item_id",
    "rating_col": "rating",
    "ts_col": "ts",
}
"""Deprecated column-name fields of :class:`InteractionsConfig` and their canonical names."""


class InteractionsConfig(EngineConfig):
    """How a long interactions frame becomes a user×item matrix.

    The frame's columns are ``user_id``, ``item_id``, ``rating`` and ``ts``; name
    yours with ``columns=`` where they differ (``Interactions.from_frame(frame,
    columns={"user_id": "openid"})``). Naming columns through ``user_col``,
    ``item_col``, ``rating_col`` or ``ts_col`` is deprecated; ``rating_col=None``
    (implicit feedback) and ``ts_col=None`` (no timestamps) stay the switches.
    """

    user_col: str = Field("user_id", description="deprecated: use columns={'user_id': ...}")
    item_col: str = Field("item_id", description="deprecated: use columns={'item_id': ...}")
    rating_col: str | None = Field(
        "rating",
        description="None for implicit feedback, where every row counts as one interaction "
        "(no rating column is read); naming the column here is deprecated: use "
        "columns={'rating': ...}",
    )
    ts_col: str | None = Field(
        "ts",
        description="None if there are no timestamps (none are read); naming the column here "
        "is deprecated: use columns={'ts': ...}",
    )
    rating_min: float = Field(1.0, description="lowest valid rating (rating units)")
    rating_max: float = Field(5.0, description="highest valid rating (rating units)")
    duplicates: Literal["raise", "keep_latest", "sum"] = Field(
        "raise",
        description="rule for repeated (user, item) rows: 'raise' fails naming them; "
        "'keep_latest' keeps the row with the latest ts (ties: the last row) and reports "
        "the others in Interactions.rejected; 'sum' adds the values (implicit counts)",
    )

    def legacy_names(self, only: tuple[str, ...] | None = None) -> dict[str, str]:
        """``{canonical: column}`` named through the deprecated fields (non-default text),
        for the canonical names in ``only`` (default: all four)."""
        named = {_LEGACY_NAMES[field]: getattr(self, field) for field in _LEGACY_NAMES}
        return {
            canonical: value
            for canonical, value in named.items()
            if value is not None and value != canonical and (only is None or canonical in only)
        }

    @model_validator(mode="after")
    def _warn_legacy_names(self) -> Self:
        legacy = self.legacy_names()
        if legacy:
            warnings.warn(
                "naming columns in InteractionsConfig (user_col, item_col, rating_col, ts_col) "
                "is deprecated and will be removed in the next release; pass "
                f"columns={legacy!r} to Interactions.from_frame instead",
                FutureWarning,
                stacklevel=2,
            )
        return self

    @model_validator(mode="after")
    def _check_range(self) -> Self:
        if self.rating_max <= self.rating_min:
            raise ValueError(
                f"rating_max ({self.rating_max}) must exceed rating_min ({self.rating_min})"
            )
        if self.duplicates == "keep_latest" and self.ts_col is None:
            raise ValueError("duplicates='keep_latest' needs ts_col; set ts_col or 'raise'")
        return self


class BaselineConfig(EngineConfig):
    """Regularised global + user + item bias model, fitted by alternating least squares."""

    reg_user: float = Field(15.0, ge=0, description="ridge penalty on user biases (ratings²)")
    reg_item: float = Field(10.0, ge=0, description="ridge penalty on item biases (ratings²)")
    n_iters: int = Field(10, ge=1, description="alternating passes (count)")


class KNNConfig(EngineConfig):
    """Neighbourhood model on baseline residuals with shrunk pearson-baseline similarity."""

    kind: Literal["item", "user"] = Field(
        "item", description="'item': neighbours are items the user rated; 'user': users"
    )
    k: int = Field(40, ge=1, description="neighbours used per prediction (count)")
    shrinkage: float = Field(
        100.0, ge=0, description="similarity shrinkage: s·(n-1)/(n-1+shrinkage), n co-raters"
    )
    baseline: BaselineConfig = Field(
        default_factory=BaselineConfig, description="baseline whose residuals are compared"
    )


class MFConfig(EngineConfig):
    """Biased matrix factorisation for explicit ratings, fitted by alternating least squares."""

    n_factors: int = Field(15, ge=1, description="latent dimensions (count)")
    reg: float = Field(1.25, ge=0, description="ridge penalty on factors, scaled by n^reg_exponent")
    reg_bias: float = Field(1.0, ge=0, description="ridge penalty on biases, scaled likewise")
    reg_exponent: float = Field(
        0.5, ge=0, le=1, description="penalty grows as (ratings of the row)^reg_exponent"
    )
    n_iters: int = Field(10, ge=1, description="alternating passes (count)")
    init_std: float = Field(0.1, gt=0, description="std of the initial factors (ratings)")
    seed: int = Field(0, description="seed of the initial factors")


class BlendConfig(EngineConfig):
    """Stacked blend of rating models with a fallback to the best single member.

    Everything is chosen on an inner validation split of the training ratings.
    """

    validation_fraction: float = Field(
        0.15, gt=0, lt=0.5, description="share of training ratings held out to learn the blend"
    )
    ridge_grid: tuple[float, ...] = Field(
        (1.0, 10.0, 100.0, 1000.0),
        min_length=1,
        description="ridge penalties (on squared ratings) tried for the stacked weights; the "
        "one with the lowest cross-validated error on the held-out ratings is used",
    )
    cv_folds: int = Field(
        5,
        ge=2,
        description="folds over the held-out ratings that estimate the stack's error, and "
        "folds of the cross-fitting used below kfold_below ratings (count)",
    )
    kfold_below: int = Field(
        20_000,
        ge=0,
        description="with fewer training ratings than this, every rating is held out once "
        "by cv_folds-fold cross-fitting of the members (a less noisy choice where data is "
        "small, at cv_folds times the fitting cost); else one split of validation_fraction",
    )
    min_gain: float = Field(
        0.0,
        ge=0,
        description="the stack is kept only if its cross-validated RMSE beats the best "
        "member's held-out RMSE by more than this (rating units); else the best member is used",
    )
    seed: int = Field(0, description="seed of the inner split and of the folds")

    @model_validator(mode="after")
    def _check_grid(self) -> Self:
        if any(r < 0 for r in self.ridge_grid):
            raise ValueError(f"ridge_grid values must be >= 0, got {self.ridge_grid}")
        return self


class ALSConfig(EngineConfig):
    """Implicit-feedback ALS (Hu, Koren & Volinsky 2008), exact per-row solves."""

    n_factors: int = Field(64, ge=1, description="latent dimensions (count)")
    reg: float = Field(10.0, ge=0, description="ridge penalty on factors")
    alpha: float = Field(2.0, ge=0, description="confidence slope: c = 1 + alpha·value")
    n_iters: int = Field(8, ge=1, description="alternating passes (count)")
    init_std: float = Field(0.01, gt=0, description="std of the initial factors")
    seed: int = Field(0, description="seed of the initial factors")


class EASEConfig(EngineConfig):
    """EASE item-item linear model (Steck 2019) with an optional recency weighting."""

    reg: float = Field(100.0, gt=0, description="ridge penalty λ on the item-item weights")
    recency_half_life: float | None = Field(
        None,
        gt=0,
        description="if set, a user's k-th most recent interaction weighs 0.5^(k/half_life) "
        "when scoring (interactions, counted from the latest); None weighs all equally",
    )
    feature_reg: float = Field(
        10.0,
        ge=0,
        description="ridge penalty of the map from item features to an item's column, "
        "used for items without interactions (cold start); features are standardised first",
    )
