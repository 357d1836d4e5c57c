"""chainmall: composable engines for social-commerce growth.

Engines (each imported on its own, e.g. ``from chainmall import referral``):
``referral`` (2+1 team tree, commissions, ledger), ``segment`` (RFM-L, churn,
customer value), ``recommend`` (collaborative filtering, DDPG), ``replenish``
(demand forecasts, purchase suggestions), ``pricing`` (demand model, price
optimiser). ``import chainmall`` stays light: no torch, xgboost, dask,
matplotlib or statsmodels is imported until an engine needs it.
"""

import logging

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

# Engines log under "chainmall.<engine>"; the library adds no output handler (the
# application configures logging), and this one keeps Python's last-resort handler
# from printing their warnings when it has not.
logging.getLogger(__name__).addHandler(logging.NullHandler())

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
