"""``chainmall segment``: RFM-L summary, scores and segments of a purchase CSV."""

from __future__ import annotations

import argparse
from typing import Any

from chainmall.cli._io import echo

__all__ = ["add_commands"]


def _segment(args: argparse.Namespace) -> int:
    import pandas as pd

    from chainmall._storage import atomic_write
    from chainmall._timestamps import parse_timestamps
    from chainmall._validation import require_columns
    from chainmall.segment import RFMLConfig, segment_customers

    config = RFMLConfig.from_file(args.config, section="segment") if args.config else RFMLConfig()
    if args.tz is not None:
        config = config.replace(timezone=args.tz)
    frame = pd.read_csv(args.input, dtype={args.customer_id: str, args.ts: str})
    require_columns(frame, [args.customer_id, args.ts, args.amount], name=str(args.input))
    frame[args.ts] = parse_timestamps(frame[args.ts], config.timezone, args.ts)
    result = segment_customers(
        frame,
        config,
        columns={"user_id": args.customer_id, "ts": args.ts, "amount_fen": args.amount},
    )
    atomic_write(args.output, result.customers.to_csv(index=False))
    echo(result.customers["segment"].value_counts().to_string())
    if len(result.rejected):
        echo(f"{len(result.rejected)} customers rejected (see the reasons with the Python API)")
    return 0


def add_commands(commands: Any) -> None:
    """Add ``segment`` to the ``chainmall`` parser's subparsers."""
    seg = commands.add_parser(
        "segment", help="RFM-L summary, scores and segments of a purchase CSV"
    )
    seg.add_argument("input", help="CSV with one row per purchase line")
    seg.add_argument("output", help="CSV to write, one row per customer")
    seg.add_argument("--config", help="TOML/JSON file with a [segment] table (RFMLConfig)")
    seg.add_argument("--customer-id", default="customer_id", help="customer id column")
    seg.add_argument(
        "--ts",
        default="ts",
        help="timestamp column; a value without an offset is local time in --tz",
    )
    seg.add_argument(
        "--tz",
        default=None,
        help="IANA time zone of naive timestamps and of purchase days (default: the "
        "config's timezone, Asia/Shanghai)",
    )
    seg.add_argument("--amount", default="amount", help="amount column")
    seg.set_defaults(run=_segment)
