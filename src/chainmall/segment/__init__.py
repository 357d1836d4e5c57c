"""RFM-L segmentation, churn warnings and customer value.

``summarize`` turns a transaction log into per-customer measures, ``score`` and
``assign_segments`` (or ``segment_customers`` for all three) add scores and
segments; ``BetaGeo``, ``ModifiedBetaGeo``, ``ParetoNBD`` and ``GammaGamma``
forecast purchases and value; ``churn_alerts`` emits warnings.
"""

from chainmall.segment.config import (
    DEFAULT_CLASSES,
    DEFAULT_GRID,
    ChurnConfig,
    RFMLConfig,
    SegmentRule,
)
from chainmall.segment.rfml import RFMLSummary, summarize
from chainmall.segment.rules import assign_segments, score, segment_customers

__all__ = [
    "DEFAULT_CLASSES",
    "DEFAULT_GRID",
    "ChurnConfig",
    "RFMLConfig",
    "RFMLSummary",
    "SegmentRule",
    "assign_segments",
    "score",
    "segment_customers",
    "summarize",
]
