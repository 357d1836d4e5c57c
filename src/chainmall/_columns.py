"""One way to name a caller's columns: ``columns={canonical: theirs}`` (``docs/conventions.md``).

Every entry point that reads a caller's frame takes ``columns=``, a mapping from
the canonical name (``user_id``, ``ts``, ``amount_fen``, ...) to the caller's
column, and passes it through :func:`canonical_frame`, which returns a frame whose
columns carry the canonical names. The data is not copied: the result is a
shallow copy with new labels, so the caller's frame is never changed.

Per-column keyword arguments of earlier releases (``customer_id=``, ``id_col=``,
...) are folded in through ``legacy`` with one :class:`FutureWarning` naming the
``columns=`` spelling; ``old_defaults`` reads a column under its earlier default
name (``customer_id``, ``amount``) when the canonical one is absent, again with a
:class:`FutureWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping

import pandas as pd

from chainmall.exceptions import ColumnNotFoundError, ConfigError, DataValidationError

__all__ = ["CALLER_NAMES", "caller_name", "canonical_frame", "column_mapping"]

CALLER_NAMES = "chainmall.columns"
"""Key of ``DataFrame.attrs`` under which a renamed frame keeps ``{canonical: caller's}``,
so validation messages name the caller's own column."""


def caller_name(frame: pd.DataFrame, column: str) -> str:
    """``column`` as the caller named it: ``"paid_fen (read as amount_fen)"`` or ``column``."""
    theirs = frame.attrs.get(CALLER_NAMES, {}).get(column)
    return column if theirs is None else f"{theirs} (read as {column})"


def column_mapping(
    columns: object,
    *,
    accepted: Collection[str],
    name: str,
    legacy: Mapping[str, tuple[str, str | None]] | None = None,
    stacklevel: int = 3,
) -> dict[str, str]:
    """The checked ``{canonical: caller's column}`` mapping, legacy keywords folded in.

    Args:
        columns: the caller's ``columns=`` argument (a mapping or ``None``).
        accepted: the canonical names this input has.
        name: the argument's name, used in messages (``transactions``).
        legacy: ``{keyword: (canonical, value)}`` of deprecated per-column keywords;
            a value of ``None`` means the keyword was not given.
        stacklevel: passed to :func:`warnings.warn` (3 = the entry point's caller).

    Raises:
        ConfigError: ``columns`` is not a mapping of names, names a key that is not
            accepted, maps two keys to one column, or disagrees with a legacy keyword.
    """
    if columns is None:
        mapping: dict[str, str] = {}
    elif isinstance(columns, Mapping):
        mapping = dict(columns)
    else:
        raise ConfigError(
            f"columns for {name} must be a mapping {{canonical name: your column}}, e.g. "
            f"{{'{next(iter(accepted), 'user_id')}': 'your_column'}}; got {type(columns).__name__}"
        )
    unknown = [key for key in mapping if key not in accepted]
    if unknown:
        raise ConfigError(
            f"columns names {unknown} which {name} does not have; accepted keys: {sorted(accepted)}"
        )
    bad = {key: value for key, value in mapping.items() if not isinstance(value, str)}
    if bad:
        raise ConfigError(f"columns for {name} must map names to column names (text); got {bad}")
    for keyword, (canonical, value) in (legacy or {}).items():
        if value is None:
            continue
        if mapping.get(canonical, value) != value:
            raise ConfigError(
                f"{keyword}={value!r} disagrees with columns[{canonical!r}]="
                f"{mapping[canonical]!r}; pass only columns={{{canonical!r}: ...}}"
            )
        warnings.warn(
            f"{keyword}= is deprecated and will be removed in the next release; pass "
            f"columns={{{canonical!r}: {value!r}}} instead",
            FutureWarning,
            stacklevel=stacklevel,
        )
        mapping[canonical] = value
    targets = list(mapping.values())
    shared = [key for key, value in mapping.items() if targets.count(value) > 1]
    if shared:
        raise ConfigError(
            f"columns maps {shared} to the one column {mapping[shared[0]]!r} of {name}; "
            "give each canonical name its own column"
        )
    return mapping


def canonical_frame(
    frame: object,
    columns: object,
    *,
    accepted: Collection[str],
    name: str,
    legacy: Mapping[str, tuple[str, str | None]] | None = None,
    old_defaults: Mapping[str, str] | None = None,
    stacklevel: int = 4,
) -> pd.DataFrame:
    """``frame`` with the caller's columns renamed to their canonical names.

    Args:
        frame: the caller's frame; anything else is returned unchanged when there is
            nothing to rename (the entry point's own validation names the argument).
        columns: ``{canonical: caller's column}`` or ``None`` (see :func:`column_mapping`).
        accepted: the canonical names this input has.
        name: the argument's name, used in messages.
        legacy: deprecated per-column keywords, ``{keyword: (canonical, value)}``.
        old_defaults: ``{canonical: earlier default name}``: read that column, with a
            :class:`FutureWarning`, when the canonical one is absent and not mapped.
        stacklevel: passed to :func:`warnings.warn` (4 = the entry point's caller).

    Returns:
        The same object when nothing is renamed, else a shallow copy (no data copied)
        whose mapped columns carry the canonical names.

    Raises:
        ConfigError: see :func:`column_mapping`.
        ColumnNotFoundError: a mapped column is absent from ``frame``.
        DataValidationError: a renamed column would collide with a column of the frame.
    """
    mapping = column_mapping(
        columns, accepted=accepted, name=name, legacy=legacy, stacklevel=stacklevel
    )
    if not isinstance(frame, pd.DataFrame):
        if mapping:
            raise DataValidationError(
                f"{name} must be a pandas DataFrame, got {type(frame).__name__}; "
                "wrap your records with pandas.DataFrame(...)"
            )
        return frame  # type: ignore[return-value]  # the caller's validation refuses it
    _read_old_defaults(frame, mapping, old_defaults or {}, name, stacklevel)
    rename = {theirs: canonical for canonical, theirs in mapping.items() if theirs != canonical}
    if not rename:
        return frame
    missing = [theirs for theirs in rename if theirs not in frame.columns]
    if missing:
        raise ColumnNotFoundError(
            f"{name} has no column {missing} named in columns=; available: "
            f"{[str(c) for c in frame.columns]}"
        )
    labels = [rename.get(c, c) if isinstance(c, str) else c for c in frame.columns]
    taken = sorted({str(c) for c in labels if labels.count(c) > 1})
    if taken:
        raise DataValidationError(
            f"{name} already has a column {taken} besides the one columns= maps there; "
            "drop or rename the other column"
        )
    out = frame.copy(deep=False)
    out.columns = pd.Index(labels, dtype=object)
    out.attrs = {**frame.attrs, CALLER_NAMES: {v: k for k, v in rename.items()}}
    return out


def _read_old_defaults(
    frame: pd.DataFrame,
    mapping: dict[str, str],
    old_defaults: Mapping[str, str],
    name: str,
    stacklevel: int,
) -> None:
    """Add ``{canonical: old name}`` to ``mapping`` where only the old default is present."""
    found = {
        canonical: old
        for canonical, old in old_defaults.items()
        if canonical not in mapping and canonical not in frame.columns and old in frame.columns
    }
    if found:
        warnings.warn(
            f"{name} has no {sorted(found)} column; reading {sorted(found.values())} "
            "under the earlier default names, which will stop in the next release; rename "
            f"the columns or pass columns={found!r}",
            FutureWarning,
            stacklevel=stacklevel,
        )
        mapping.update(found)
