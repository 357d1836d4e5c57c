"""Report sections from chainmall.replenish: daily SKU forecasts with intervals, purchase suggestions.

Both run on the shop's ``demand`` frame (daily units per SKU) with a weekly season
(7 days). Forecasts: :class:`~chainmall.replenish.AutoARIMA` on the best-selling
SKUs, with 80% / 95% intervals and a rolling-origin backtest against
:class:`~chainmall.replenish.SeasonalNaive`. Purchase suggestions: seasonal-naive
forecasts of every SKU over the protection interval (lead time + review period),
safety stock from the backtest's out-of-sample cumulative errors, order-up-to
levels and :func:`~chainmall.replenish.suggest_orders`. The synthetic shop keeps no
stock ledger, so inventory positions are an explicit, seeded assumption (see
:func:`purchase_suggestions`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from chainmall.datasets import Shop
from chainmall.report.figures import png
from chainmall.report.section import Section

__all__ = ["forecasts", "purchase_suggestions"]

SEASON_DAYS = 7
LEAD_DAYS = 7
REVIEW_DAYS = 7
COVER_DAYS = LEAD_DAYS + REVIEW_DAYS
"""Protection interval of the periodic review (days): forecasts and errors cover it."""
SERVICE_LEVEL = 0.95
PACK_SIZE = 6
STOCK_SEED = 0
"""Seed of the assumed inventory positions (the synthetic shop has no stock ledger)."""
N_SHOWN = 4
LEVELS = (80, 95)


def _config() -> Any:
    from chainmall.replenish import ReplenishConfig

    return ReplenishConfig(season_length=SEASON_DAYS, freq="D")


def _daily(shop: Shop) -> pd.DataFrame:
    return shop.demand[["unique_id", "ds", "y"]]


def _windows(demand: pd.DataFrame, limit: int) -> int:
    """Backtest origins a week apart that leave at least two weeks of training data."""
    days = demand["ds"].nunique()
    return max(1, min(limit, (days - COVER_DAYS - 2 * SEASON_DAYS) // SEASON_DAYS + 1))


def _coverage(cv: pd.DataFrame, model: str, level: int) -> float:
    inside = cv["y"].between(cv[f"{model}-lo-{level}"], cv[f"{model}-hi-{level}"])
    return float(inside.mean())


def forecasts(shop: Shop) -> Section:
    """AutoARIMA forecasts with intervals for the best-selling SKUs, and their backtest."""
    from chainmall.replenish import AutoARIMA, SeasonalNaive, cross_validation, evaluate_cv

    config = _config()
    demand = _daily(shop)
    top = demand.groupby("unique_id")["y"].sum().sort_values(ascending=False)
    shown = top.index[:N_SHOWN].tolist()
    history = demand[demand["unique_id"].isin(shown)]
    model = AutoARIMA(data_config=config).fit(history)
    forecast = model.predict(COVER_DAYS, level=list(LEVELS))
    windows = _windows(history, 4)
    models = [AutoARIMA(data_config=config), SeasonalNaive(data_config=config)]
    cv = cross_validation(
        models, history, h=COVER_DAYS, n_windows=windows, step=SEASON_DAYS, level=[80]
    )
    scores = evaluate_cv(cv, history, ["AutoARIMA", "SeasonalNaive"], season=SEASON_DAYS)
    table = (
        scores.groupby("model", as_index=False)[["mase", "smape", "bias"]]
        .mean()
        .assign(coverage_80=lambda f: [_coverage(cv, m, 80) for m in f["model"]])
    )

    def draw(axes: Any) -> None:
        for ax, sku in zip(np.ravel(axes), shown, strict=True):
            past = history[history["unique_id"] == sku].tail(8 * SEASON_DAYS)
            ahead = forecast[forecast["unique_id"] == sku]
            ax.plot(past["ds"], past["y"], color="#1d2430", linewidth=0.9, label="demand")
            for level, alpha in zip(sorted(LEVELS, reverse=True), (0.18, 0.32), strict=True):
                ax.fill_between(
                    ahead["ds"],
                    ahead[f"AutoARIMA-lo-{level}"].clip(lower=0.0),
                    ahead[f"AutoARIMA-hi-{level}"],
                    color="#2f6fb3",
                    alpha=alpha,
                    linewidth=0,
                    label=f"{level}% interval",
                )
            ax.plot(ahead["ds"], ahead["AutoARIMA"], color="#2f6fb3", label="forecast")
            ax.set_title(sku, fontsize=9)
            ax.tick_params(axis="x", labelrotation=60, labelsize=7)
        np.ravel(axes)[0].set_ylabel("units per day")
        np.ravel(axes)[0].legend(fontsize=7)

    arima = table[table["model"] == "AutoARIMA"]
    return Section(
        key="forecasts",
        title="Forecasts with intervals",
        intro=f"AutoARIMA (weekly season, {COVER_DAYS}-day horizon, 80% and 95% intervals) on "
        f"the daily demand of the {len(shown)} best-selling SKUs. The table is a rolling-origin "
        f"backtest ({windows} origins a week apart, refitted each time) against the seasonal "
        "naive forecast: MASE < 1 beats it; coverage_80 is the share of actual days inside "
        "the 80% interval (0.8 if the interval is honest). Drawn intervals are cut at 0 units.",
        figures=(("Last eight weeks and the forecast", png(draw, ncols=N_SHOWN, size=(12, 3.4))),),
        tables=(("Backtest, mean over origins", table),),
        summary={
            "skus": len(shown),
            "mase_autoarima": round(float(arima["mase"].iloc[0]), 3),
            "coverage_80": round(float(arima["coverage_80"].iloc[0]), 3),
        },
    )


def purchase_suggestions(shop: Shop) -> Section:
    """Order-up-to levels and purchase lines for every SKU (periodic review, 95% service).

    The shop has no stock ledger: each SKU's inventory position is assumed to be
    ``U(0, 3) × 7`` days of its mean daily demand over the last 28 days, drawn with
    seed :data:`STOCK_SEED`; suppliers sell in packs of :data:`PACK_SIZE` units.
    """
    from chainmall.replenish import (
        SeasonalNaive,
        cross_validation,
        cumulative_errors,
        reorder_points,
        safety_stock,
        suggest_orders,
    )

    config = _config()
    demand = _daily(shop)
    forecast = SeasonalNaive(data_config=config).fit(demand).predict(COVER_DAYS)
    windows = _windows(demand, 8)
    cv = cross_validation(
        [SeasonalNaive(data_config=config)],
        demand,
        h=COVER_DAYS,
        n_windows=windows,
        step=SEASON_DAYS,
    )
    errors = cumulative_errors(cv, "SeasonalNaive", cover=COVER_DAYS)
    safety = safety_stock(errors, SERVICE_LEVEL)
    levels = reorder_points(forecast, "SeasonalNaive", safety, cover=COVER_DAYS)
    recent = demand[demand["ds"] > demand["ds"].max() - pd.Timedelta(days=28)]
    daily_mean = recent.groupby("unique_id")["y"].mean().reindex(levels["unique_id"]).to_numpy()
    days_on_hand = np.random.default_rng(STOCK_SEED).uniform(0, 3, len(levels)) * 7
    cost = shop.catalogue.set_index("item_id")["unit_cost_fen"]
    item_ids = levels["unique_id"].str.removeprefix("sku-").astype(np.int64)
    lines = levels.assign(
        inventory_position=np.floor(daily_mean * days_on_hand),
        unit_cost_fen=cost.reindex(item_ids).to_numpy(dtype=np.int64),
        pack_size=PACK_SIZE,
    )
    orders = suggest_orders(lines)
    plan = lines.merge(orders, on="unique_id").sort_values(
        ["cost_fen", "unique_id"], ascending=[False, True], ignore_index=True
    )
    shown = plan.head(15)

    def draw(ax: Any) -> None:
        x = np.arange(len(shown))
        ax.bar(x, shown["inventory_position"], color="#95a5a6", label="inventory position")
        ax.bar(
            x,
            shown["order_qty"],
            bottom=shown["inventory_position"],
            color="#2f6fb3",
            label="suggested order",
        )
        ax.scatter(x, shown["level"], color="#c0392b", marker="_", s=300, label="order-up-to S")
        ax.set_xticks(x, shown["unique_id"], rotation=60, fontsize=7)
        ax.set_ylabel("units")
        ax.set_title("largest purchase lines: stock, order and order-up-to level")
        ax.legend(fontsize=8)

    table = shown[
        [
            "unique_id",
            "expected_demand",
            "safety_stock",
            "level",
            "inventory_position",
            "order_qty",
            "cost_fen",
        ]
    ].assign(cost_yuan=lambda f: f["cost_fen"] / 100)
    total_fen = int(plan["cost_fen"].sum())
    return Section(
        key="purchases",
        title="Purchase suggestions",
        intro=f"Periodic review every {REVIEW_DAYS} days with a {LEAD_DAYS}-day lead time: "
        f"order up to S = forecast demand over {COVER_DAYS} days (seasonal naive) + safety "
        f"stock, the {SERVICE_LEVEL:.0%} quantile of out-of-sample {COVER_DAYS}-day errors "
        f"({windows} backtest origins, pooled across SKUs). Orders are rounded up to packs "
        f"of {PACK_SIZE}. Assumption: the synthetic shop keeps no stock, so each SKU's "
        "inventory position is a seeded draw of 0-21 days of its recent mean demand.",
        figures=(("Largest purchase lines", png(draw, size=(11, 4))),),
        tables=(("Fifteen largest purchase lines", table.drop(columns="cost_fen")),),
        summary={
            "skus": len(plan),
            "lines_to_order": int((plan["order_qty"] > 0).sum()),
            "order_cost_yuan": total_fen / 100,
        },
    )
