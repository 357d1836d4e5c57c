"""The ``chainmall`` command line: the thin shell around the engines.

``chainmall demo`` builds the seeded synthetic shop and prints its summary;
engines add their commands here as they land.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from chainmall import __version__
from chainmall.exceptions import ChainmallError


def _demo(args: argparse.Namespace) -> int:
    from chainmall.datasets import make_shop

    shop = make_shop(seed=args.seed, n_members=args.members, months=args.months)
    summary = shop.summary()
    if args.json:
        print(json.dumps(summary, sort_keys=True))
        return 0
    print(f"chainmall {__version__} demo: synthetic shop (seed {args.seed})")
    width = max(len(key) for key in summary)
    for key, value in summary.items():
        shown = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
        print(f"  {key:<{width}}  {shown}")
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
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chainmall`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except ChainmallError as exc:
        print(f"chainmall: error: {exc}", file=sys.stderr)
        return 2
    return status
