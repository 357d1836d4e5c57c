"""RFM-L segmentation, churn warnings and customer value.

``summarize`` turns a transaction log into per-customer measures; ``score`` and
``assign_segments`` (or ``segment_customers`` for all three) add scores and
segments. ``CustomerValueModel`` is the default "buys again / expected
purchases / value" model; ``BetaGeo``, ``ModifiedBetaGeo``, ``ParetoNBD`` and
``GammaGamma`` forecast purchases and spend; ``BetaGeoBetaBinom`` (discrete
opportunities) and ``ShiftedBetaGeometric`` (membership renewals) cover the
discrete-time settings.
"""

from chainmall.segment.alerts import churn_alerts
from chainmall.segment.btyd import BetaGeo, BTYDConfig, ModifiedBetaGeo, ParetoNBD
from chainmall.segment.config import (
    DEFAULT_CLASSES,
    DEFAULT_GRID,
    ChurnConfig,
    RFMLConfig,
    SegmentRule,
)
from chainmall.segment.discrete import BetaGeoBetaBinom, ShiftedBetaGeometric, survival_table
from chainmall.segment.gamma_gamma import GammaGamma, customer_lifetime_value
from chainmall.segment.persist import load_model
from chainmall.segment.rfml import RFMLSummary, summarize
from chainmall.segment.rules import assign_segments, score, segment_customers
from chainmall.segment.value import CustomerValueModel, ValueConfig

__all__ = [
    "DEFAULT_CLASSES",
    "DEFAULT_GRID",
    "BTYDConfig",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "ChurnConfig",
    "CustomerValueModel",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "RFMLConfig",
    "RFMLSummary",
    "SegmentRule",
    "ShiftedBetaGeometric",
    "ValueConfig",
    "assign_segments",
    "churn_alerts",
    "customer_lifetime_value",
    "load_model",
    "score",
    "segment_customers",
    "summarize",
    "survival_table",
]
