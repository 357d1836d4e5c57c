"""Configuration of the pricing engine: demand model, elasticity, guard rails, benefits.

Money is integer minor units (fen for CNY; for the Dominick's data, whose prices are
US dollars, one "fen" is one cent). Shares and percentages are fractions (0.1 = 10%).
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from chainmall.config import EngineConfig

__all__ = ["BenefitConfig", "DemandConfig", "ElasticityConfig", "GuardRailConfig"]


class DemandConfig(EngineConfig):
    """XGBoost demand model on log units with a monotone own-price constraint."""

    price_feature: str = Field(
        "log_price", description="the single feature carrying own price (log of price)"
    )
    n_estimators: int = Field(2000, ge=1, description="boosting rounds (trees)")
    learning_rate: float = Field(0.03, gt=0, le=1, description="shrinkage per tree")
    max_depth: int = Field(4, ge=1, le=16, description="maximum tree depth (levels)")
    subsample: float = Field(0.8, gt=0, le=1, description="row share sampled per tree")
    colsample_bytree: float = Field(0.5, gt=0, le=1, description="feature share per tree")
    min_child_weight: float = Field(5.0, ge=0, description="minimum hessian sum per leaf")
    weight_power: float = Field(
        0.5,
        ge=0,
        le=1,
        description="training weight = units**weight_power (0 = unweighted); favours "
        "high-volume rows, which dominate WAPE",
    )
    interval_coverage: float = Field(
        0.8, gt=0, lt=1, description="default coverage of predicted intervals (share)"
    )
    calibration_share: float = Field(
        0.15,
        ge=0,
        lt=0.5,
        description="share of the latest periods held out to calibrate intervals "
        "(0 = use in-sample residuals, which under-cover)",
    )
    monotone_grid: int = Field(
        21, ge=3, description="price points per row in the post-fit monotonicity check"
    )
    own_price_max_corr: float = Field(
        0.995,
        gt=0,
        le=1,
        description="a non-price feature whose |correlation| with own price reaches this "
        "carries own price and is refused",
    )
    n_boosters: int = Field(
        1,
        ge=1,
        le=50,
        description="boosters averaged in log units, seeds seed, seed+1, ...; the mean of "
        "non-increasing curves is non-increasing (less seed noise, n times the fit time)",
    )
    n_jobs: int = Field(1, ge=1, description="threads used by XGBoost")
    seed: int = Field(0, description="random seed of the (first) booster")


class ElasticityConfig(EngineConfig):
    """Double machine learning (partially linear model) for own-price elasticity."""

    learner: Literal["hist_gradient_boosting", "random_forest", "ridge"] = Field(
        "hist_gradient_boosting", description="scikit-learn learner for both nuisances"
    )
    n_folds: int = Field(
        5, ge=2, description="cross-fitting folds (split by cluster when clusters are given)"
    )
    n_repeats: int = Field(
        1,
        ge=1,
        description="repeated cross-fitting: independent fold splits, aggregated by the "
        "median (estimate) and the median of variance plus squared spread (standard error)",
    )
    fold_by_cluster: bool = Field(
        True,
        description="with clusters, folds split clusters (no nuisance model sees a held-out "
        "store); False splits rows, for when the cluster's own identity is a confounder the "
        "nuisances must learn (e.g. a store-specific season)",
    )
    small_sample_correction: bool = Field(
        True,
        description="scale the sandwich by G/(G-1) * (n-1)/(n-k) per clustering (CR1/HC1, as "
        "Stata and statsmodels); False gives CR0/HC0 (as DoubleML)",
    )
    confidence: float = Field(0.95, gt=0, lt=1, description="confidence level of the CI")
    max_iter: int = Field(200, ge=10, description="boosting iterations / trees of the learner")
    min_rows: int = Field(50, ge=10, description="minimum rows per group to estimate")
    n_jobs: int = Field(1, ge=1, description="threads of the nuisance learners")
    seed: int = Field(0, description="seed of the fold splits and learners")


class GuardRailConfig(EngineConfig):
    """Objective and guard rails of the price optimiser (prices in fen)."""

    objective: Literal["profit", "revenue", "mix"] = Field(
        "profit", description="what to maximise per product-market"
    )
    mix_weight: float = Field(
        0.5, ge=0, le=1, description="profit weight when objective='mix' (rest is revenue)"
    )
    band: float = Field(
        0.10, gt=0, le=1, description="allowed band around the reference price (fraction)"
    )
    max_change: float = Field(
        0.10, gt=0, le=1, description="maximum change from the current price per period (fraction)"
    )
    min_margin: float = Field(
        0.0, ge=0, description="cost floor: price >= cost * (1 + min_margin) unless clearance"
    )
    emergency_cap: bool = Field(
        True, description="cap price at the highest price of the look-back window"
    )
    cap_lookback_days: int = Field(
        60, ge=1, description="look-back window of the emergency cap (days)"
    )
    price_step_fen: int = Field(1, ge=1, description="price grid step (fen)")
    price_endings_fen: list[int] = Field(
        default_factory=list,
        description="allowed values of price mod 100 (fen), e.g. [9, 49, 99]; empty = any",
    )
    cross_check_factor: float = Field(
        2.0, ge=1, description="flag when the lift exceeds the log-log lift by this factor"
    )
    cross_check_slack: float = Field(
        0.02, ge=0, description="absolute lift (fraction) tolerated above the cross-check"
    )

    @model_validator(mode="after")
    def _check_endings(self) -> Self:
        bad = [e for e in self.price_endings_fen if not 0 <= e < 100]
        if bad:
            raise ValueError(f"price_endings_fen must lie in 0..99 fen, got {bad}")
        return self


class BenefitConfig(EngineConfig):
    """Published, rule-based benefits applied below the list price (fen, fractions)."""

    tier_discount: dict[str, float] = Field(
        default_factory=lambda: {"silver": 0.02, "gold": 0.05, "platinum": 0.08},
        description="membership tier -> discount fraction of the line's list amount",
    )
    new_user_coupon_fen: int = Field(
        500, ge=0, description="new-user coupon per order (fen), once per order"
    )
    new_user_min_spend_fen: int = Field(
        3000, ge=0, description="order list amount needed for the new-user coupon (fen)"
    )
    quantity_breaks: dict[int, float] = Field(
        default_factory=lambda: {3: 0.05, 6: 0.10},
        description="units per line -> discount fraction (the largest met break applies)",
    )
    segment_coupon_fen: dict[str, int] = Field(
        default_factory=lambda: {"churning": 800, "potential": 300},
        description="published RFM-L segment -> coupon per order (fen)",
    )
    stacking: Literal["best_single", "stack"] = Field(
        "stack", description="'stack' adds all benefits; 'best_single' keeps the largest"
    )

    @model_validator(mode="after")
    def _check_fractions(self) -> Self:
        for name, table in (
            ("tier_discount", self.tier_discount),
            ("quantity_breaks", self.quantity_breaks),
        ):
            bad = {k: v for k, v in table.items() if not 0 <= v < 1}
            if bad:
                raise ValueError(f"{name} fractions must lie in [0, 1), got {bad}")
        neg = {k: v for k, v in self.segment_coupon_fen.items() if v < 0}
        if neg:
            raise ValueError(f"segment_coupon_fen must be >= 0 fen, got {neg}")
        return self
