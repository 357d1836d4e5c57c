"""``chainmall forecast``: demand forecasts and purchase suggestions from a sales history.

Reads a long history ``unique_id, ds, y`` (one row per series and period) and writes
the forecast of the next ``--h`` periods (``unique_id, ds, <model>`` and the interval
bounds of each ``--level``). With ``--suggest`` and a ``--stock`` file
(``unique_id, inventory_position, unit_cost_fen`` and optionally ``moq``,
``pack_size``, ``shelf_capacity``) it writes one purchase line per series instead:
the order-up-to level ``S = D̂(L+R) + SS(L+R)`` (safety stock from the model's
out-of-sample errors in a rolling backtest, :func:`chainmall.replenish.safety_stock`)
and the order under packs, MOQ, shelf capacity and ``--budget-fen``
(:func:`chainmall.replenish.suggest_orders`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from chainmall.cli._io import (
    add_io_arguments,
    apply_columns,
    localize,
    parse_columns,
    read_frame,
    write_frame,
)
from chainmall.exceptions import DataValidationError

__all__ = ["MODELS", "add_commands"]

COLUMNS = ("unique_id", "ds", "y")
MODELS = {
    "seasonal-naive": "SeasonalNaive",
    "naive": "Naive",
    "arima": "AutoARIMA",
    "croston": "Croston",
    "xgboost": "XGBoostForecaster",
    "lstm": "LSTMForecaster",
}
"""``--model`` choices and the :mod:`chainmall.replenish` class each names."""


def _history(args: argparse.Namespace) -> Any:
    mapping = parse_columns(args.columns, COLUMNS)
    frame = read_frame(args.input, text=[mapping.get("unique_id", "unique_id")])
    frame = apply_columns(frame, mapping, name=args.input)
    if "ds" not in frame.columns:
        raise DataValidationError(
            f"{args.input!r} has no ds column; name it with --columns ds=COLUMN"
        )
    return localize(frame, "ds", args.tz)


def _model(args: argparse.Namespace) -> Any:
    from chainmall import replenish

    config = replenish.ReplenishConfig(
        freq=args.freq, season_length=args.season_length, gap_rule=args.gaps
    )
    return getattr(replenish, MODELS[args.model])(data_config=config)


def _note_rejected(model: Any) -> None:
    rejected = model.rejected_
    if len(rejected):
        ids = rejected["unique_id"].head(5).tolist()
        sys.stderr.write(
            f"chainmall: note: {len(rejected)} series not forecast (e.g. {ids}): "
            f"{rejected['reason'].iloc[0]}\n"
        )


def _forecast(args: argparse.Namespace) -> int:
    history = _history(args)
    model = _model(args)
    if not args.suggest:
        model.fit(history, progress=args.progress)
        _note_rejected(model)
        write_frame(model.predict(args.h, level=args.level), args.out, as_json=args.json)
        return 0
    if args.stock is None:
        raise DataValidationError(
            "--suggest needs --stock FILE with unique_id, inventory_position, unit_cost_fen"
        )
    write_frame(_suggest(args, history, model), args.out, as_json=args.json)
    return 0


def _suggest(args: argparse.Namespace, history: Any, model: Any) -> Any:
    """One purchase line per series of the stock file (periodic review)."""
    from chainmall.replenish import (
        cross_validation,
        cumulative_errors,
        reorder_points,
        safety_stock,
        suggest_orders,
    )

    cover = args.lead_time + args.review
    cv = cross_validation(
        [model],
        history,
        h=cover,
        n_windows=args.windows,
        step=1,
        refit=False,
        config=model.cfg,
        progress=args.progress,
    )
    errors = cumulative_errors(cv, model.name, cover=cover)
    safety = safety_stock(errors, args.service_level, pooled=args.pooled)
    model.fit(history, progress=args.progress)
    _note_rejected(model)
    forecast = model.predict(max(args.h, cover))
    levels = reorder_points(forecast, model.name, safety, cover=cover)
    mapping = parse_columns(args.columns, COLUMNS)
    ids = {key: column for key, column in mapping.items() if key == "unique_id"}
    stock = apply_columns(
        read_frame(args.stock, text=[ids.get("unique_id", "unique_id")]), ids, name=args.stock
    )
    lines = _stock_lines(levels, stock, args.stock)
    orders = suggest_orders(lines, budget_fen=args.budget_fen)
    return lines.merge(orders, on="unique_id", how="left")


def _stock_lines(levels: Any, stock: Any, name: str) -> Any:
    """``levels`` joined to the stock file; a series missing on either side is refused."""
    if "unique_id" not in stock.columns:
        raise DataValidationError(
            f"{name!r} has no unique_id column; name it with --columns unique_id=COLUMN"
        )
    lines = levels.merge(stock, on="unique_id", how="outer", indicator=True)
    for side, text in (
        ("left_only", f"have a forecast but no row in {name!r}; add their stock"),
        ("right_only", "have stock but no forecast (unknown or too short); check the history"),
    ):
        ids = lines.loc[lines["_merge"] == side, "unique_id"]
        if len(ids):
            raise DataValidationError(f"{len(ids)} series {text}: unique_id {ids.head(5).tolist()}")
    return lines.drop(columns="_merge")


def add_commands(commands: Any) -> None:
    """Add ``forecast`` to the ``chainmall`` parser's subparsers."""
    parser = commands.add_parser(
        "forecast", help="demand forecasts (and purchase suggestions) from a sales history"
    )
    parser.add_argument("input", help="CSV/Parquet: unique_id, ds (period start), y (units)")
    parser.add_argument("--h", type=int, default=8, help="periods to forecast (default 8)")
    parser.add_argument(
        "--model",
        choices=list(MODELS),
        default="seasonal-naive",
        help="forecaster (default seasonal-naive; xgboost and lstm need their extras)",
    )
    parser.add_argument(
        "--level", type=float, action="append", help="interval level in %% (repeat: 80, 95)"
    )
    parser.add_argument(
        "--freq",
        help="pandas period, e.g. W-FRI (default: the most common step; give it where --tz "
        "has summer time, so periods stay on local midnight)",
    )
    parser.add_argument(
        "--season-length", type=int, default=52, help="periods per season (default 52)"
    )
    parser.add_argument(
        "--gaps",
        choices=["raise", "zero", "interpolate"],
        default="raise",
        help="missing periods inside a series: refuse (default), no sale, interpolate",
    )
    parser.add_argument("--progress", action="store_true", help="show progress bars on stderr")
    suggest = parser.add_argument_group("purchase suggestions")
    suggest.add_argument("--suggest", action="store_true", help="write purchase lines")
    suggest.add_argument(
        "--stock",
        help="CSV/Parquet: unique_id, inventory_position, unit_cost_fen "
        "[, moq, pack_size, shelf_capacity]",
    )
    suggest.add_argument("--lead-time", type=int, default=1, help="periods (default 1)")
    suggest.add_argument("--review", type=int, default=1, help="review period (default 1)")
    suggest.add_argument(
        "--service-level", type=float, default=0.95, help="cycle service level (default 0.95)"
    )
    suggest.add_argument(
        "--windows", type=int, default=8, help="backtest origins for safety stock (default 8)"
    )
    suggest.add_argument(
        "--pooled", action="store_true", help="one error quantile across series (short history)"
    )
    suggest.add_argument("--budget-fen", type=int, help="purchase budget in fen")
    add_io_arguments(parser, COLUMNS)
    parser.set_defaults(run=_forecast)
