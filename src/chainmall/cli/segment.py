"""``chainmall segment``: RFM-L summary, scores and segments of a purchase CSV."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from chainmall.cli._io import (
    add_io_arguments,
    apply_columns,
    echo,
    localize,
    parse_columns,
    read_frame,
)
from chainmall.exceptions import ConfigError

__all__ = ["add_commands"]

COLUMNS = ("user_id", "ts", "amount_fen")
"""Canonical names of the purchase file (``--columns user_id=openid,ts=paid_at,...``)."""

_DEPRECATED = {"customer_id": "user_id", "ts": "ts", "amount": "amount_fen"}
"""Per-column options of earlier releases (``--customer-id``, ...) and their canonical names."""


def _mapping(args: argparse.Namespace) -> dict[str, str]:
    """``--columns`` with the deprecated per-column options folded in (one stderr line each)."""
    mapping = parse_columns(args.columns, COLUMNS)
    for option, canonical in _DEPRECATED.items():
        value = getattr(args, option)
        if value is None:
            continue
        flag = "--" + option.replace("_", "-")
        if mapping.get(canonical, value) != value:
            raise ConfigError(
                f"{flag} {value} disagrees with --columns {canonical}={mapping[canonical]}; "
                "give only --columns"
            )
        sys.stderr.write(
            f"chainmall segment: {flag} is deprecated and will be removed in the next "
            f"release; use --columns {canonical}={value}\n"
        )
        mapping[canonical] = value
    return mapping


def _segment(args: argparse.Namespace) -> int:
    from chainmall._storage import atomic_write
    from chainmall.segment import RFMLConfig, segment_customers

    config = RFMLConfig.from_file(args.config, section="segment") if args.config else RFMLConfig()
    if args.tz is not None:
        config = config.replace(timezone=args.tz)
    mapping = _mapping(args)
    frame = read_frame(args.input, text=[mapping.get(c, c) for c in ("user_id", "ts")])
    frame = apply_columns(frame, mapping, name=args.input)
    if "ts" in frame.columns:
        frame = localize(frame, "ts", config.timezone)
    result = segment_customers(frame, config)
    atomic_write(args.output, result.customers.to_csv(index=False))
    echo(result.customers["segment"].value_counts().to_string())
    if len(result.rejected):
        echo(f"{len(result.rejected)} customers rejected (see the reasons with the Python API)")
    return 0


def add_commands(commands: Any) -> None:
    """Add ``segment`` to the ``chainmall`` parser's subparsers."""
    seg = commands.add_parser(
        "segment", help="RFM-L summary, scores and segments of a purchase CSV/Parquet file"
    )
    seg.add_argument("input", help="CSV/Parquet, one row per purchase: user_id, ts, amount_fen")
    seg.add_argument("output", help="CSV to write, one row per customer")
    seg.add_argument("--config", help="TOML/JSON file with a [segment] table (RFMLConfig)")
    add_io_arguments(seg, COLUMNS, timestamps=False, output=False)
    seg.add_argument(
        "--tz",
        default=None,
        help="IANA time zone of timestamps written without an offset and of purchase days "
        "(default: the config's timezone, Asia/Shanghai)",
    )
    for option in _DEPRECATED:
        flag = "--" + option.replace("_", "-")
        seg.add_argument(
            flag, default=None, help=f"deprecated: use --columns {_DEPRECATED[option]}=COLUMN"
        )
    seg.set_defaults(run=_segment)
