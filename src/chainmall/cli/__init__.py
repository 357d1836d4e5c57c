"""The ``chainmall`` command line: the thin shell around the engines.

``chainmall demo`` builds the seeded synthetic shop and prints its summary;
``chainmall segment`` summarises a purchase CSV; ``chainmall recommend``,
``chainmall forecast`` and ``chainmall price`` fit and apply the recommendation,
replenishment and pricing engines to CSV/Parquet files; ``chainmall referral``
operates a programme's store (:mod:`chainmall.referral.store.commands`).

Every command reads CSV or Parquet, writes CSV or JSON (``--json``), reads
timestamps without an offset as local time in ``--tz``, and exits with status 2
and one line on stderr when the input is bad. ``-v`` shows the engines' log
messages (``-vv`` their debug messages) on stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from chainmall import __version__
from chainmall.cli import demo, forecast, price, recommend, segment
from chainmall.exceptions import ChainmallError
from chainmall.referral.store.commands import add_commands as add_referral_commands

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="chainmall",
        description="Composable engines for social-commerce growth.",
    )
    parser.add_argument("--version", action="version", version=f"chainmall {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="show log messages on stderr (-v: progress of fits, -vv: debug)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo.add_commands(commands)
    segment.add_commands(commands)
    recommend.add_commands(commands)
    forecast.add_commands(commands)
    price.add_commands(commands)
    add_referral_commands(commands)
    return parser


@contextmanager
def _log_to_stderr(verbosity: int) -> Iterator[None]:
    """Show the ``chainmall`` loggers' messages on stderr for one command (``-v``)."""
    if verbosity <= 0:
        yield
        return
    logger = logging.getLogger("chainmall")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    level = logging.INFO if verbosity == 1 else logging.DEBUG
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chainmall`` console script; returns the exit status.

    Errors in the input (a missing or unreadable file, bad data or config) print one
    line ``chainmall: error: ...`` to stderr and return 2, as argparse does for bad
    arguments.
    """
    args = build_parser().parse_args(argv)
    try:
        with _log_to_stderr(args.verbose):
            status: int = args.run(args)
    except (ChainmallError, OSError, ValueError) as exc:  # ValueError: pandas' CSV errors
        text = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, OSError) and exc.filename is not None:
            text = f"cannot read or write {exc.filename!r}: {exc.strerror or exc}"
        sys.stderr.write(f"chainmall: error: {text}\n")
        return 2
    return status
