"""Every error and warning chainmall raises.

One tree, so a caller can catch as broadly or as narrowly as it needs::

    ChainmallError
    ├── ConfigError                  bad configuration (unknown key, bad value, bad file)
    │   └── ComplianceConfigError    a legally risky setting without ``unsafe_allow=True``
    ├── DataValidationError          input data that breaks the documented contract
    │   ├── ColumnNotFoundError      a required column is absent
    │   ├── DataFileNotFoundError    a data set file is not where the loader looks
    │   ├── ReferralIntegrityError   referral events that break the tree's rules
    │   ├── LedgerIntegrityError     a ledger whose hashes do not match (edited, removed, reordered)
    │   └── ModelFileError           a saved model file that is missing, corrupt or not ours
    ├── NotFittedError               a model used before ``fit``
    ├── ConvergenceError             an optimiser did not converge
    ├── MonotonicityError            a demand model whose predicted demand rises with own price
    ├── OptionalDependencyError      an extra (torch, xgboost, ...) is not installed
    └── StoreError                   a durable store that cannot serve the call
        └── SchemaVersionError       a database whose schema is older or newer than this library

    ChainmallWarning (UserWarning)
    └── ComplianceWarning            a risky choice made explicitly with ``unsafe_allow``

Every message says what is wrong, where (column, first offending ids, counts)
and how to fix it.
"""

from __future__ import annotations

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
    "LedgerIntegrityError",
    "ModelFileError",
    "MonotonicityError",
    "NotFittedError",
    "OptionalDependencyError",
    "ReferralIntegrityError",
    "SchemaVersionError",
    "StoreError",
]


class ChainmallError(Exception):
    """Base class of every error raised by chainmall."""


class ConfigError(ChainmallError, ValueError):
    """A configuration is invalid: unknown key, out-of-range value or unreadable file.

    ``problems`` lists ``(location, text)`` pairs when the error comes from
    validating fields, e.g. ``(("inner", "window_day"), "unknown key; ...")``.
    """

    problems: tuple[tuple[tuple[str | int, ...], str], ...] = ()


class ComplianceConfigError(ConfigError):
    """A setting crosses a legal line and ``unsafe_allow=True`` was not given."""


class DataValidationError(ChainmallError, ValueError):
    """Input data breaks the documented contract (columns, dtypes, ranges, ids)."""


class ColumnNotFoundError(DataValidationError, KeyError):
    """A required column is missing from an input frame."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataFileNotFoundError(DataValidationError, FileNotFoundError):
    """A data set file is not at the path a loader expects."""


class ReferralIntegrityError(DataValidationError):
    """Referral events violate the tree's integrity rules (cycles, unknown users, ...)."""


class LedgerIntegrityError(DataValidationError):
    """A ledger's recomputed hashes disagree with the stored ones: it was tampered with."""


class ModelFileError(DataValidationError):
    """A saved model (or its folder) is missing, truncated, corrupt, hostile or of another class.

    Loading never runs code from the file; anything it cannot parse ends here,
    with the file named and the cause chained.
    """


class NotFittedError(ChainmallError, AttributeError):
    """A model's ``predict``/``recommend``/``forecast`` was called before ``fit``."""


class ConvergenceError(ChainmallError, RuntimeError):
    """An optimiser stopped without converging; the message suggests what to try."""


class MonotonicityError(ChainmallError, RuntimeError):
    """A demand model's predicted demand rises with own price on its grid check."""


class OptionalDependencyError(ChainmallError, ImportError):
    """An optional extra is not installed; the message gives the pip command."""


class ChainmallWarning(UserWarning):
    """Base class of every warning emitted by chainmall."""


class ComplianceWarning(ChainmallWarning):
    """A legally risky option was enabled explicitly (``unsafe_allow=True``)."""


class StoreError(ChainmallError):
    """A durable store cannot serve the call (database unreachable, programme missing, ...)."""


class SchemaVersionError(StoreError):
    """The database schema is older or newer than this library; the message says how to upgrade."""
