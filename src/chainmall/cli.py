"""The ``chainmall`` command line: the thin shell around the engines.

``chainmall demo`` builds the seeded synthetic shop and prints its summary;
``chainmall segment`` summarises a purchase CSV; ``chainmall referral`` operates a
programme's store (:mod:`chainmall.referral.store.commands`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from chainmall import __version__
from chainmall._timestamps import parse_timestamps
from chainmall.exceptions import ChainmallError
from chainmall.referral.store.commands import add_commands as add_referral_commands


def _demo(args: argparse.Namespace) -> int:
    from chainmall.datasets import make_shop

    shop = make_shop(
        seed=args.seed, n_members=args.members, months=args.months, show_progress=args.progress
    )
    summary: dict[str, object] = dict(shop.summary())
    if not args.no_report:
        from chainmall.report import build_report

        report = build_report(shop, show_progress=args.progress, programme=args.programme)
        path = report.write(args.report)
        summary["report"] = {"path": str(path), **report.summary()}
    if args.json:
        print(json.dumps(summary, sort_keys=True))
        return 0
    print(f"chainmall {__version__} demo: synthetic shop (seed {args.seed})")
    shop_keys = [key for key in summary if key != "report"]
    width = max(len(key) for key in shop_keys)
    for key in shop_keys:
        value = summary[key]
        shown = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
        print(f"  {key:<{width}}  {shown}")
    if "report" in summary:
        _print_report(summary["report"])
    return 0


def _print_report(report: Any) -> None:
    for key, numbers in report["sections"].items():
        shown = ", ".join(f"{name} {value:,}" for name, value in numbers.items())
        print(f"  [{key}] {shown}")
    for title in report["omitted"]:
        print(f"  [omitted] {title}: engine not installed")
    print(f"report written to {report['path']}")


def _segment(args: argparse.Namespace) -> int:
    import pandas as pd

    from chainmall._storage import atomic_write
    from chainmall._validation import require_columns
    from chainmall.segment import RFMLConfig, segment_customers

    config = RFMLConfig.from_file(args.config, section="segment") if args.config else RFMLConfig()
    if args.tz is not None:
        config = config.replace(timezone=args.tz)
    frame = pd.read_csv(args.input, dtype={args.customer_id: str, args.ts: str})
    require_columns(frame, [args.customer_id, args.ts, args.amount], name=str(args.input))
    frame[args.ts] = parse_timestamps(frame[args.ts], config.timezone, args.ts)
    result = segment_customers(
        frame, config, customer_id=args.customer_id, ts=args.ts, amount=args.amount
    )
    atomic_write(args.output, result.customers.to_csv(index=False))
    print(result.customers["segment"].value_counts().to_string())
    if len(result.rejected):
        print(f"{len(result.rejected)} customers rejected (see the reasons with the Python API)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="chainmall",
        description="Composable engines for social-commerce growth.",
    )
    parser.add_argument("--version", action="version", version=f"chainmall {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the engines on a seeded synthetic shop")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--members", type=int, default=2_000, help="members (default 2,000)")
    demo.add_argument("--months", type=int, default=12, help="months of history (default 12)")
    demo.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    demo.add_argument(
        "--report",
        default="chainmall-demo.html",
        help="HTML report to write (default chainmall-demo.html)",
    )
    demo.add_argument("--no-report", action="store_true", help="print the summary only")
    demo.add_argument(
        "--programme",
        metavar="URL",
        help="referral store the report's programme section reads (default: the shop's "
        "events in a temporary SQLite file)",
    )
    demo.add_argument("--progress", action="store_true", help="show progress bars")
    demo.set_defaults(run=_demo)

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
    add_referral_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chainmall`` console script; returns the exit status.

    Errors in the input (a missing or unreadable file, bad data or config) print one
    line ``chainmall: error: ...`` to stderr and return 2, as argparse does for bad
    arguments.
    """
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except (ChainmallError, OSError, ValueError) as exc:  # ValueError: pandas' CSV errors
        text = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, OSError) and exc.filename is not None:
            text = f"cannot read or write {exc.filename!r}: {exc.strerror or exc}"
        print(f"chainmall: error: {text}", file=sys.stderr)
        return 2
    return status
