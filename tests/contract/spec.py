"""What a contract case declares: the valid call, and what each input must hold.

A :class:`Case` is one public entry point: ``build()`` returns a fresh valid call
(the arguments by name), ``call(args)`` runs the entry point, and the declared
:class:`Col` / :class:`Arg` constraints say which malformed inputs the entry point
must refuse. These declarations are the test's own statement of the contract,
written independently of the library's validation code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ColKind = Literal["id", "label", "money", "count", "number", "time", "flag"]
ArgKind = Literal[
    "count", "money", "number", "flag", "text", "object", "frame", "counts", "numbers"
]
"""Scalars (count, money, number, flag, text), a library object (``object``: only
``None`` and a number are tried), a frame, or 1-D arrays (counts, numbers)."""
Args = dict[str, Any]


@dataclass(frozen=True)
class Col:
    """A column of a frame argument, as the contract states it.

    ``ge``/``gt``/``lt`` are the sign rules (only ``0`` is used). ``rows_rejected``:
    bad values in this column go to a ``rejected`` frame of the result instead of
    raising (the result must then name the row and the column).
    """

    kind: ColKind
    nullable: bool = False
    unique: bool = False
    ge: float | None = None
    gt: float | None = None
    lt: float | None = None
    rows_rejected: bool = False
    required: bool = True  # an optional column may be dropped


@dataclass(frozen=True)
class Arg:
    """A scalar argument (or a frame argument, for the whole-frame mutations)."""

    kind: ArgKind
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    allow_none: bool = False
    empty_ok: bool = False  # for frames and arrays: empty input is valid
    allow_nan: bool = False  # for arrays of numbers: NaN means "missing" and is valid
    any_shape: bool = False  # for arrays: more dimensions are valid too


@dataclass(frozen=True)
class Case:
    """One public entry point under contract.

    Attributes:
        name: ``engine.callable`` (``segment.summarize``, ``recommend.EASE.fit``).
        build: a fresh, valid set of arguments (frames are copied per mutation).
        call: runs the entry point on the arguments.
        columns: per frame argument, its declared columns.
        args: per argument (frame or scalar), its declared kind.
        rejected: where a result keeps refused rows (``rows_rejected`` columns).
        check: optional check of the result of the valid call (correctness).
        requires: optional packages (``torch``, ``xgboost``) the case needs.
    """

    name: str
    build: Callable[[], Args]
    call: Callable[[Args], Any]
    columns: Mapping[str, Mapping[str, Col]] = field(default_factory=dict)
    args: Mapping[str, Arg] = field(default_factory=dict)
    rejected: Callable[[Any], Any] | None = None
    check: Callable[[Any, Args], None] | None = None
    requires: tuple[str, ...] = ()  # optional packages; the case skips without them

    @property
    def callable_name(self) -> str:
        """The public name this case covers (``EASE`` for ``recommend.EASE.fit``)."""
        return self.name.split(".")[1]
