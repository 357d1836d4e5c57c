"""RFM-L segmentation, churn warnings and customer value.

``summarize`` turns a transaction log into per-customer measures; ``score`` and
``assign_segments`` (or ``segment_customers`` for all three) add scores and
segments; ``BetaGeo``, ``ModifiedBetaGeo``, ``ParetoNBD`` and ``GammaGamma``
forecast purchases and spend.
"""

from chainmall.segment.btyd import BetaGeo, BTYDConfig, ModifiedBetaGeo, ParetoNBD, load_model
from chainmall.segment.config import (
    DEFAULT_CLASSES,
    DEFAULT_GRID,
    ChurnConfig,
    RFMLConfig,
    SegmentRule,
)
from chainmall.segment.gamma_gamma import GammaGamma, customer_lifetime_value
from chainmall.segment.rfml import RFMLSummary, summarize
from chainmall.segment.rules import assign_segments, score, segment_customers

__all__ = [
    "DEFAULT_CLASSES",
    "DEFAULT_GRID",
    "BTYDConfig",
    "BetaGeo",
    "ChurnConfig",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "RFMLConfig",
    "RFMLSummary",
    "SegmentRule",
    "assign_segments",
    "customer_lifetime_value",
    "load_model",
    "score",
    "segment_customers",
    "summarize",
]
