"""``chainmall price``: the guard-railed list price of every offer.

Reads offers, one row per product-market: the id columns (``--id-columns``, default
``store_id,item_id``), ``current_price_fen``, ``unit_cost_fen`` (integer fen),
``baseline_units`` (expected units at the current price), ``elasticity`` (< 0) and
the optional columns of :func:`chainmall.pricing.optimize_prices`. The objective and
guard rails come from the ``[pricing]`` table of ``--config`` (a
:class:`chainmall.pricing.GuardRailConfig`). With ``--history`` (``period`` and
``price_fen`` per id and period) the emergency cap, the highest price of the
config's look-back window before ``--at``, is added to the offers
(:func:`chainmall.pricing.trailing_max_price`). Writes the price list
(``price_fen``, bounds, expected units, revenue and profit, ``binding_constraint``)
and, with ``--audit``, the decisions' audit records as JSON lines.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from chainmall.cli._io import (
    add_io_arguments,
    apply_columns,
    parse_columns,
    read_frame,
    write_frame,
)
from chainmall.exceptions import ConfigError

__all__ = ["add_commands"]

COLUMNS = ("store_id", "item_id", "period", "price_fen")


def _config(args: argparse.Namespace) -> Any:
    from chainmall.pricing import GuardRailConfig

    if args.config is None:
        return GuardRailConfig()
    return GuardRailConfig.from_file(args.config, section="pricing")


def _id_columns(args: argparse.Namespace) -> list[str]:
    names = [name.strip() for name in args.id_columns.split(",") if name.strip()]
    if not names:
        raise ConfigError("--id-columns names no column; e.g. --id-columns store_id,item_id")
    return names


def _emergency_cap(args: argparse.Namespace, offers: Any, keys: list[str], config: Any) -> Any:
    """``offers`` with ``max_price_lookback_fen`` from the ``--history`` file."""
    from chainmall.pricing import trailing_max_price

    mapping = parse_columns(args.columns, COLUMNS)
    history = apply_columns(
        read_frame(args.history, text=[mapping.get(k, k) for k in keys]),
        mapping,
        name=args.history,
    )
    at = args.at
    if at is None:
        at = int(history["period"].max()) + 1 if "period" in history.columns and len(history) else 0
    cap = trailing_max_price(
        history,
        keys=keys,
        columns={"ds": "period"},
        at=at,
        window=max(config.cap_lookback_days // args.period_days, 1),
    )
    return offers.drop(columns="max_price_lookback_fen", errors="ignore").merge(
        cap, on=keys, how="left"
    )


def _price(args: argparse.Namespace) -> int:
    from chainmall._storage import atomic_write
    from chainmall.pricing import optimize_prices

    config = _config(args)
    keys = _id_columns(args)
    mapping = parse_columns(args.columns, COLUMNS)
    ids = {key: column for key, column in mapping.items() if key in ("store_id", "item_id")}
    offers = apply_columns(
        read_frame(args.input, text=[ids.get(k, k) for k in keys]), ids, name=args.input
    )
    if args.history is not None:
        offers = _emergency_cap(args, offers, keys, config)
    decision = optimize_prices(offers, config, keys=keys)
    write_frame(decision.prices, args.out, as_json=args.json)
    if args.audit is not None:
        atomic_write(
            args.audit,
            "".join(json.dumps(record, sort_keys=True) + "\n" for record in decision.audit_records),
        )
    return 0


def add_commands(commands: Any) -> None:
    """Add ``price`` to the ``chainmall`` parser's subparsers."""
    parser = commands.add_parser("price", help="guard-railed list prices for a file of offers")
    parser.add_argument(
        "input",
        help="CSV/Parquet offers: ids, current_price_fen, unit_cost_fen, baseline_units, "
        "elasticity",
    )
    parser.add_argument("--config", help="TOML/JSON file with a [pricing] table (GuardRailConfig)")
    parser.add_argument(
        "--id-columns",
        default="store_id,item_id",
        help="columns naming a product-market (default store_id,item_id)",
    )
    parser.add_argument(
        "--history",
        help="CSV/Parquet of past prices (ids, period, price_fen) for the emergency cap",
    )
    parser.add_argument(
        "--at", type=int, help="period being priced (default: the history's last period + 1)"
    )
    parser.add_argument(
        "--period-days", type=int, default=7, help="days per history period (default 7)"
    )
    parser.add_argument("--audit", help="JSON-lines file to write the audit records to")
    add_io_arguments(parser, COLUMNS, timestamps=False)
    parser.set_defaults(run=_price)
