"""``chainmall referral ...``: operating a programme's store from the command line.

``upgrade URL`` builds or upgrades the store schema (run it after installing a new
chainmall, before the programme's writers start); ``audit URL`` replays a
programme's event log through the batch path and prints what disagrees (exit
status 1 if anything does), for a nightly reconciliation job.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

__all__ = ["add_commands"]


def _upgrade(args: argparse.Namespace) -> int:
    from chainmall.referral.store import ReferralStore

    ReferralStore.upgrade(args.url)
    print(f"referral store schema is current in {_shown(args.url)}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from chainmall.referral.store import ReferralStore

    store = ReferralStore.open(args.url, programme=args.programme)
    try:
        report = store.audit()
    finally:
        store.close()
    if args.json:
        print(json.dumps(dataclasses.asdict(report)))
    elif report.clean:
        print(
            f"programme {args.programme!r}: clean ({report.events:,} events, "
            f"{report.entries:,} entries, root {report.root[:16]}, {report.seconds:.1f} s)"
        )
    else:
        print(f"programme {args.programme!r}: {len(report.problems)} problem(s)")
        for problem in report.problems:
            print(f"  {problem}")
    return 0 if report.clean else 1


def _shown(url: str) -> str:
    """The URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def add_commands(commands: Any) -> None:
    """Add ``referral`` and its subcommands to the ``chainmall`` parser's subparsers."""
    referral = commands.add_parser("referral", help="operate a 2+1 programme's store")
    sub = referral.add_subparsers(dest="referral_command", required=True, metavar="COMMAND")
    upgrade = sub.add_parser("upgrade", help="build or upgrade the store schema")
    upgrade.add_argument("url", help="database URL, e.g. sqlite:///programme.db")
    upgrade.set_defaults(run=_upgrade)
    audit = sub.add_parser("audit", help="replay the event log and compare with the store")
    audit.add_argument("url", help="database URL, e.g. sqlite:///programme.db")
    audit.add_argument("--programme", default="default", help="programme id (default: default)")
    audit.add_argument("--json", action="store_true", help="print one JSON object")
    audit.set_defaults(run=_audit)
