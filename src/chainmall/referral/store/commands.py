"""``chainmall referral ...``: operating a programme's store from the command line.

- ``init URL --config FILE``: create a programme with its config (TOML/JSON,
  ``[referral]`` table);
- ``ingest URL EVENTS`` (CSV or Parquet, with ``event_id``; ``--backfill`` for a
  history into an empty programme); ``tick URL --as-of TIME``;
- ``balances URL``, ``member URL USER_ID``, ``export URL OUT`` (the ledger entries
  from ``--since``, CSV or Parquet);
- ``audit URL``: replay the event log through the batch path and print what
  disagrees (exit status 1 if anything does), for a nightly reconciliation job;
- ``upgrade URL``: build or upgrade the store schema.

Every command takes ``--programme`` (default ``default``); the reading ones take
``--json``. Bad input prints one line and exits with status 2 (``chainmall.cli``).
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
    store = _open(args)
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


def _open(args: argparse.Namespace) -> Any:
    from chainmall.referral.store import ReferralStore

    return ReferralStore.open(args.url, programme=args.programme)


def _init(args: argparse.Namespace) -> int:
    from chainmall.referral import ReferralConfig, ReferralStore

    config = ReferralConfig.from_file(args.config, section="referral")
    ReferralStore.open(args.url, config, programme=args.programme).close()
    print(f"programme {args.programme!r} ready in {_shown(args.url)}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from chainmall.referral.store.event_files import read_events

    frame = read_events(args.events, args.tz)
    store = _open(args)
    try:
        report = (store.backfill if args.backfill else store.ingest)(frame)
    finally:
        store.close()
    counts = report.outcomes["delivery"].value_counts().to_dict()
    summary = {
        "new": int(counts.get("new", 0)),
        "duplicate": int(counts.get("duplicate", 0)),
        "conflict": int(counts.get("conflict", 0)),
        "rejected": len(report.rejected),
        "entries": report.entries,
        "head_size": report.head.size,
        "head_root": report.head.root,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(", ".join(f"{key} {value}" for key, value in summary.items()))
        if len(report.rejected):
            print(report.rejected.head(20).to_string(index=False))
    return 0


def _tick(args: argparse.Namespace) -> int:
    from chainmall._timestamps import parse_timestamps

    as_of = parse_timestamps([args.as_of], args.tz, "--as-of").iloc[0].to_pydatetime()
    store = _open(args)
    try:
        report = store.tick(as_of)
    finally:
        store.close()
    print(f"ticked at {as_of.isoformat()}: {report.entries} new entries, head {report.head.size}")
    return 0


def _table(args: argparse.Namespace, frame: Any) -> None:
    if args.json:
        print(frame.to_json(orient="records", date_format="iso"))
    else:
        print(frame.to_string(index=False) if len(frame) else "(none)")


def _balances(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        _table(args, store.balances())
    finally:
        store.close()
    return 0


def _member(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        user = store.ids.decode("user", args.user_id)
        _table(args, store.member_entries(user))
    finally:
        store.close()
    return 0


def _export(args: argparse.Namespace) -> int:
    from chainmall._storage import atomic_writer

    store = _open(args)
    try:
        entries = store.entries(since=args.since)
    finally:
        store.close()
    with atomic_writer(args.output) as handle:
        if str(args.output).lower().endswith((".parquet", ".pq")):
            entries.to_parquet(handle, index=False)
        else:
            handle.write(entries.to_csv(index=False).encode("utf-8"))
    print(f"{len(entries)} entries written to {args.output}")
    return 0


def _shown(url: str) -> str:
    """The URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def add_commands(commands: Any) -> None:
    """Add ``referral`` and its subcommands to the ``chainmall`` parser's subparsers."""
    referral = commands.add_parser("referral", help="operate a 2+1 programme's store")
    sub = referral.add_subparsers(dest="referral_command", required=True, metavar="COMMAND")

    def command(name: str, run: Any, text: str, *, table: bool = False) -> Any:
        parser = sub.add_parser(name, help=text)
        parser.add_argument("url", help="database URL, e.g. sqlite:///programme.db")
        parser.add_argument("--programme", default="default", help="programme id")
        if table:
            parser.add_argument("--json", action="store_true", help="print JSON")
        parser.set_defaults(run=run)
        return parser

    init = command("init", _init, "create a programme with its config")
    init.add_argument("--config", required=True, help="TOML/JSON file with a [referral] table")
    tz = "IANA time zone of timestamps without an offset (default Asia/Shanghai)"
    ingest = command("ingest", _ingest, "apply an events file (CSV or Parquet)", table=True)
    ingest.add_argument("events", help="events file with an event_id column")
    ingest.add_argument("--tz", default="Asia/Shanghai", help=tz)
    ingest.add_argument("--backfill", action="store_true", help="import into an empty programme")
    tick = command("tick", _tick, "settle what is due at a time")
    tick.add_argument("--as-of", required=True, help="ISO 8601 time, e.g. 2025-04-01T00:00")
    tick.add_argument("--tz", default="Asia/Shanghai", help=tz)
    command("balances", _balances, "every member's accounts (fen)", table=True)
    member = command("member", _member, "one member's ledger entries", table=True)
    member.add_argument("user_id", help="the shop's id of the member")
    export = command("export", _export, "write ledger entries to CSV or Parquet")
    export.add_argument("output", help="file to write (.csv or .parquet)")
    export.add_argument("--since", type=int, default=0, help="first entry position (cursor)")
    command("audit", _audit, "replay the event log and compare with the store", table=True)
    command("upgrade", _upgrade, "build or upgrade the store schema")
