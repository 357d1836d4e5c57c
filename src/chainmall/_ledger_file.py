"""The ledger's JSON-lines file: a header, one line per entry, and a trailer binding size and root.

Format 2 (written by :meth:`chainmall.ledger.Ledger.to_jsonl`)::

    {"format": "chainmall-ledger", "version": 2}
    {"chain_hash": "<hex>", "index": 0, "leaf_hash": "<hex>", "record": {...}}
    ...
    {"trailer": {"root": "<hex>", "size": <entries>}}

Every line ends with a newline. A file cut at any byte is refused: a cut inside
a line leaves no final newline or a line that does not parse, a cut at a line
boundary leaves a header without a trailer, and a trailer whose size or root
disagrees with the entries is refused by the reader. Lines are parsed strictly
(UTF-8, no duplicate keys, exactly the documented keys).

Format 1 (chainmall before this format) has entry lines only; it is read only
on request (``allow_legacy=True``) because a cut at a line boundary cannot be
told from the end of such a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from chainmall._storage import atomic_writer, parse_json
from chainmall.exceptions import LedgerIntegrityError

__all__ = ["HEADER", "LedgerFile", "read_ledger_file", "write_ledger_file"]

HEADER: Mapping[str, Any] = MappingProxyType({"format": "chainmall-ledger", "version": 2})
_ENTRY_KEYS = {"chain_hash", "index", "leaf_hash", "record"}


@dataclass(frozen=True)
class LedgerFile:
    """What a ledger file holds: parsed entry lines and the trailer (``None`` for format 1)."""

    entries: tuple[dict[str, Any], ...]
    trailer: dict[str, Any] | None


def _line(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def write_ledger_file(
    path: str | os.PathLike[str], entries: Iterable[dict[str, Any]], size: int, root: str
) -> None:
    """Write format 2 atomically (temporary file, fsync, rename, folder fsync)."""
    with atomic_writer(path) as out:
        out.write(_line(dict(HEADER)))
        for entry in entries:
            out.write(_line(entry))
        out.write(_line({"trailer": {"root": root, "size": size}}))


def _fail(path: str | os.PathLike[str], problem: str) -> LedgerIntegrityError:
    return LedgerIntegrityError(f"ledger file {str(path)!r}: {problem}")


def _parse_lines(path: str | os.PathLike[str], data: bytes) -> list[Any]:
    if data and not data.endswith(b"\n"):
        raise _fail(path, "the last line has no newline: the file was cut while being written")
    parsed = []
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            parsed.append(parse_json(raw))
        except (ValueError, RecursionError) as exc:
            raise _fail(path, f"line {number} is not valid ({exc})") from None
    return parsed


def _check_entry(path: str | os.PathLike[str], line: Any, number: int) -> dict[str, Any]:
    if not isinstance(line, dict) or set(line) != _ENTRY_KEYS:
        found = sorted(line) if isinstance(line, dict) else type(line).__name__
        raise _fail(
            path, f"line {number} is not an entry (keys {found}, need {sorted(_ENTRY_KEYS)})"
        )
    return line


def read_ledger_file(path: str | os.PathLike[str]) -> LedgerFile:
    """Parse a ledger file of format 2 or 1; structural problems raise LedgerIntegrityError."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc})") from None
    lines = _parse_lines(path, data)
    if not lines or lines[0] != HEADER:
        if lines and isinstance(lines[0], dict) and "format" in lines[0]:
            raise _fail(path, f"unknown header {lines[0]}; this chainmall reads {HEADER}")
        entries = tuple(_check_entry(path, line, n) for n, line in enumerate(lines, start=1))
        return LedgerFile(entries=entries, trailer=None)
    last = lines[-1]
    if len(lines) < 2 or not isinstance(last, dict) or set(last) != {"trailer"}:
        raise _fail(path, "no trailer after the last entry: the file was cut short")
    trailer = last["trailer"]
    if not isinstance(trailer, dict) or set(trailer) != {"root", "size"}:
        raise _fail(path, f"malformed trailer {trailer!r}; need root and size")
    body = lines[1:-1]
    entries = tuple(_check_entry(path, line, n) for n, line in enumerate(body, start=2))
    return LedgerFile(entries=entries, trailer=trailer)
