"""Pricing: demand model, elasticities, and a list-price optimiser with guard rails.

Two layers, because the law draws a line (see :mod:`chainmall.pricing.layers`): the
list price depends on product, region, time and market state only; published
benefits (tier, coupons, quantity) apply below it and nobody pays above it.

Importing this package does not import xgboost; :class:`DemandModel` does when fitted.
"""

from chainmall.exceptions import MonotonicityError
from chainmall.pricing.benefits import apply_benefits
from chainmall.pricing.config import BenefitConfig, DemandConfig, ElasticityConfig, GuardRailConfig
from chainmall.pricing.demand import DemandModel, MonotoneReport
from chainmall.pricing.elasticity import LogLogModel, estimate_elasticity
from chainmall.pricing.features import DemandFeatureBuilder, oj_market_frame
from chainmall.pricing.layers import (
    BLOCKED_TOKENS,
    DEFAULT_CATALOG,
    FeatureCatalog,
    FeatureSpec,
    blocked_reason,
)
from chainmall.pricing.market import (
    SyntheticMarket,
    oracle_prices,
    realised_profit,
    simulate_market,
)
from chainmall.pricing.offers import offers_from_history
from chainmall.pricing.optimize import (
    AuditSink,
    PriceDecision,
    candidate_grid,
    optimize_prices,
    trailing_max_price,
)

__all__ = [
    "BLOCKED_TOKENS",
    "DEFAULT_CATALOG",
    "AuditSink",
    "BenefitConfig",
    "DemandConfig",
    "DemandFeatureBuilder",
    "DemandModel",
    "ElasticityConfig",
    "FeatureCatalog",
    "FeatureSpec",
    "GuardRailConfig",
    "LogLogModel",
    "MonotoneReport",
    "MonotonicityError",
    "PriceDecision",
    "SyntheticMarket",
    "apply_benefits",
    "blocked_reason",
    "candidate_grid",
    "estimate_elasticity",
    "offers_from_history",
    "oj_market_frame",
    "optimize_prices",
    "oracle_prices",
    "realised_profit",
    "simulate_market",
    "trailing_max_price",
]
