"""chainmall: composable engines for social-commerce growth.

Engines (each imported on its own, e.g. ``from chainmall import referral``):
``referral`` (2+1 team tree, commissions, ledger), ``segment`` (RFM-L, churn,
customer value), ``recommend`` (collaborative filtering, DDPG), ``replenish``
(demand forecasts, purchase suggestions), ``pricing`` (demand model, price
optimiser). ``import chainmall`` stays light: no torch, xgboost, dask,
matplotlib or statsmodels is imported until an engine needs it.
"""

from chainmall.config import EngineConfig
from chainmall.exceptions import (
    ChainmallError,
    ChainmallWarning,
    ColumnNotFoundError,
    ComplianceConfigError,
    ComplianceWarning,
    ConfigError,
    ConvergenceError,
    DataFileNotFoundError,
    DataValidationError,
    LedgerIntegrityError,
    ModelFileError,
    MonotonicityError,
    NotFittedError,
    OptionalDependencyError,
    ReferralIntegrityError,
    SchemaVersionError,
    StoreError,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "ChainmallError",
    "ChainmallWarning",
    "ColumnNotFoundError",
    "ComplianceConfigError",
    "ComplianceWarning",
    "ConfigError",
    "ConvergenceError",
    "DataFileNotFoundError",
    "DataValidationError",
    "EngineConfig",
    "LedgerIntegrityError",
    "ModelFileError",
    "MonotonicityError",
    "NotFittedError",
    "OptionalDependencyError",
    "ReferralIntegrityError",
    "SchemaVersionError",
    "StoreError",
    "__version__",
]
