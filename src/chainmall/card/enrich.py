"""Company enrichment: a provider protocol and a provider over a local registry file.

The paper's product looks companies up in a commercial registry API; network
providers are the user's to plug in (anything with ``lookup(name)``). The local
provider matches a card's company name to a registry row by its normalised
form: NFKC, lower case, no spaces or punctuation, legal suffixes removed
(有限公司, 股份有限公司, Co., Ltd., Inc. ...), so ``"云帆科技有限公司"`` matches
``"云帆科技股份有限公司"`` — when exactly one registry row has that key.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import pandas as pd

from chainmall._storage import reading
from chainmall._validation import Column, check_frame, check_scalar, describe_offenders
from chainmall.card.patterns import COMPANY_STRONG
from chainmall.exceptions import DataValidationError

__all__ = ["CompanyProvider", "CompanyRecord", "LocalRegistryProvider", "company_key"]

_SUFFIXES = sorted(
    {s.lower().replace(" ", "").replace(",", "").replace(".", "") for s in COMPANY_STRONG},
    key=len,
    reverse=True,
)
_PUNCT = re.compile(r"[\s.,，。()（）\-_'&·]+")


def company_key(name: str) -> str:
    """Normalised company name used for matching (suffix-free, punctuation-free, lower case)."""
    name = check_scalar(name, "name", "text")
    key = _PUNCT.sub("", unicodedata.normalize("NFKC", name).lower())
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


@dataclass(frozen=True)
class CompanyRecord:
    """A registry entry: the registered name, the unified social credit code, and any extra columns."""

    name: str
    credit_code: str | None
    extra: dict[str, str]


@runtime_checkable
class CompanyProvider(Protocol):
    """Looks a company name up; returns None when it is not found or ambiguous."""

    def lookup(self, name: str) -> CompanyRecord | None:
        """The registry entry for ``name``, or None."""
        ...


class LocalRegistryProvider:
    """Company look-ups in a local registry table (CSV or Parquet, or a DataFrame).

    Args:
        registry: one row per company with a ``name`` column; ``credit_code`` and any
            other columns are returned as they are (as text).
        name_column: column holding the registered name.

    Raises:
        DataValidationError: names missing, or two rows normalise to the same key
            (the registry would be ambiguous).
    """

    def __init__(self, registry: pd.DataFrame, *, name_column: str = "name") -> None:
        registry = check_frame(registry, [Column(name_column, "label")], name="registry")
        keys = registry[name_column].astype(str).map(company_key)
        clash = keys.duplicated(keep=False).to_numpy()
        if clash.any():
            raise DataValidationError(
                f"registry names collide after normalisation in "
                f"{describe_offenders(registry, clash, name_column)}; keep one row per company"
            )
        self.name_column = name_column
        self._rows = registry.assign(_key=keys.to_numpy()).set_index("_key")

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, name_column: str = "name"
    ) -> LocalRegistryProvider:
        """Load a ``.csv`` or ``.parquet`` registry (Parquet needs pyarrow)."""
        path = Path(path)
        if not path.is_file():
            raise DataValidationError(f"registry file {str(path)!r} does not exist")
        if path.suffix not in (".csv", ".parquet"):
            raise DataValidationError(f"registry file {str(path)!r}: use .csv or .parquet")
        with reading(path, "registry file", DataValidationError, "fix or re-export the file"):
            frame = (
                pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
                if path.suffix == ".csv"
                else pd.read_parquet(path)
            )
        return cls(frame, name_column=name_column)

    def lookup(self, name: str) -> CompanyRecord | None:
        """The registry row whose normalised name equals ``name``'s, or None."""
        key = company_key(name)
        if not key or key not in self._rows.index:
            return None
        row = self._rows.loc[key]
        extra = {
            str(k): str(v)
            for k, v in row.items()
            if k not in (self.name_column, "credit_code") and not pd.isna(v)
        }
        code = row.get("credit_code")
        return CompanyRecord(
            name=str(row[self.name_column]),
            credit_code=None if code is None or pd.isna(code) else str(code),
            extra=extra,
        )
