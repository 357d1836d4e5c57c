"""``chainmall demo``: the seeded synthetic shop, its summary and the HTML report."""

from __future__ import annotations

import argparse
import json
from typing import Any

from chainmall import __version__
from chainmall.cli._io import echo

__all__ = ["add_commands"]


def _demo(args: argparse.Namespace) -> int:
    from chainmall.datasets import make_shop

    shop = make_shop(
        seed=args.seed, n_members=args.members, months=args.months, progress=args.progress
    )
    summary: dict[str, object] = dict(shop.summary())
    if not args.no_report:
        from chainmall.report import build_report

        report = build_report(shop, progress=args.progress, programme=args.programme)
        path = report.write(args.report)
        summary["report"] = {"path": str(path), **report.summary()}
    if args.json:
        echo(json.dumps(summary, sort_keys=True))
        return 0
    echo(f"chainmall {__version__} demo: synthetic shop (seed {args.seed})")
    shop_keys = [key for key in summary if key != "report"]
    width = max(len(key) for key in shop_keys)
    for key in shop_keys:
        value = summary[key]
        shown = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
        echo(f"  {key:<{width}}  {shown}")
    if "report" in summary:
        _print_report(summary["report"])
    return 0


def _print_report(report: Any) -> None:
    for key, numbers in report["sections"].items():
        shown = ", ".join(f"{name} {value:,}" for name, value in numbers.items())
        echo(f"  [{key}] {shown}")
    for title in report["omitted"]:
        echo(f"  [omitted] {title}: engine not installed")
    echo(f"report written to {report['path']}")


def add_commands(commands: Any) -> None:
    """Add ``demo`` to the ``chainmall`` parser's subparsers."""
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
