"""Checks shared by every engine's public boundary.

Entry points declare their constraints (:class:`Column` per input column,
:func:`check_scalar` / :func:`check_array` per argument) and check them before
computing; kernels behind the boundary trust their input. Every failure is a
:class:`~chainmall.exceptions.DataValidationError` subclass whose message says
what is wrong, where (argument or ``frame.column``, the first offending ids or
positions and a count) and how to fix it.
"""

from chainmall._validation.basic import (
    describe_offenders,
    require_columns,
    require_frame,
    require_integer,
    require_non_negative,
    require_not_null,
    require_numeric,
    require_tz_aware,
    require_unique,
)
from chainmall._validation.columns import MAX_EXACT_INT, Column, Kind, check_frame
from chainmall._validation.scalars import ScalarKind, check_array, check_scalar

__all__ = [
    "MAX_EXACT_INT",
    "Column",
    "Kind",
    "ScalarKind",
    "check_array",
    "check_frame",
    "check_scalar",
    "describe_offenders",
    "require_columns",
    "require_frame",
    "require_integer",
    "require_non_negative",
    "require_not_null",
    "require_numeric",
    "require_tz_aware",
    "require_unique",
]
