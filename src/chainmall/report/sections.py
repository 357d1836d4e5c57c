"""One function per report section: run an engine on the synthetic shop, return figures and tables.

Each builder is pure (``Shop -> Section``). A section exists only for an engine
that is installed: :data:`SECTIONS` names the package each builder needs, and
:func:`chainmall.report.build_report` omits (and lists) those whose package is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from chainmall.datasets import Shop
from chainmall.report.figures import png

__all__ = ["SECTIONS", "Section", "SectionSpec"]


@dataclass(frozen=True)
class Section:
    """One part of the report.

    Attributes:
        key: HTML anchor.
        title: heading.
        intro: one paragraph saying what was run and how to read it.
        figures: ``(caption, PNG bytes)`` pairs.
        tables: ``(caption, frame)`` pairs.
        summary: a few headline numbers for the command line.
    """

    key: str
    title: str
    intro: str
    figures: tuple[tuple[str, bytes], ...] = ()
    tables: tuple[tuple[str, pd.DataFrame], ...] = ()
    summary: dict[str, int | float | str] = field(default_factory=dict)


@dataclass(frozen=True)
class SectionSpec:
    """A builder and the chainmall package it needs (``None``: the data set only)."""

    key: str
    title: str
    package: str | None
    build: Callable[[Shop], Section]


def _purchases(shop: Shop) -> pd.DataFrame:
    return shop.order_lines[["user_id", "item_id", "paid_at", "paid_fen"]]


def shop_overview(shop: Shop) -> Section:
    """Headline counts and monthly GMV of the synthetic shop (no engine)."""
    summary = shop.summary()
    lines = shop.order_lines
    month = lines["paid_at"].dt.strftime("%Y-%m")
    gmv = lines.groupby(month, sort=True)["paid_fen"].sum() / 100
    invitees = shop.members["inviter_id"].value_counts()

    def draw(axes: Any) -> None:
        axes[0].bar(gmv.index, gmv.to_numpy(), color="#2f6fb3")
        axes[0].set_title("GMV per month (yuan, UTC months)")
        axes[0].tick_params(axis="x", labelrotation=60, labelsize=7)
        counts = np.bincount(np.minimum(invitees.to_numpy(), 20))
        axes[1].bar(np.arange(len(counts)), counts, color="#e07b39")
        axes[1].set_yscale("log")
        axes[1].set_title("members by number of invitees (20 = 20+)")
        axes[1].set_xlabel("invitees")

    shown = [f"{v:,}" if isinstance(v, int) else f"{v:,.3f}" for v in summary.values()]
    table = pd.DataFrame({"measure": list(summary), "value": shown})
    return Section(
        key="shop",
        title="The synthetic shop",
        intro="A seeded synthetic S2B2C shop from chainmall.datasets.make_shop: members "
        "joining through invite links, orders, refunds, ratings and daily SKU demand.",
        figures=(("Monthly GMV and invite fan-out", png(draw, ncols=2, size=(11, 3.6))),),
        tables=(("Headline counts", table),),
        summary={"members": int(summary["members"]), "gmv_yuan": float(summary["gmv_yuan"])},
    )


def segments(shop: Shop) -> Section:
    """RFM-L summary, scores and segments of every buyer (chainmall.segment)."""
    from chainmall.segment import segment_customers
    from chainmall.segment.plotting import plot_rf_heatmap, plot_segment_sizes

    result = segment_customers(
        _purchases(shop), customer_id="user_id", ts="paid_at", amount="paid_fen"
    )
    customers = result.customers

    def draw(axes: Any) -> None:
        plot_segment_sizes(customers, ax=axes[0])
        plot_rf_heatmap(customers, ax=axes[1])

    table = (
        customers.groupby("segment", observed=True)
        .agg(
            customers=("user_id", "size"),
            mean_purchases=("n_purchases", "mean"),
            mean_spend_yuan=("monetary_fen", "mean"),
            mean_recency_days=("recency_days", "mean"),
        )
        .reset_index()
        .assign(mean_spend_yuan=lambda f: f["mean_spend_yuan"] / 100)
    )
    shares = customers["segment_class"].value_counts(normalize=True)
    return Section(
        key="segments",
        title="Customer segments (RFM-L)",
        intro=f"Every buyer scored 1-5 on recency, frequency, monetary value and loyalty "
        f"(global quantiles) as of {result.as_of:%Y-%m-%d}, then placed in the 10-segment "
        "R x FM grid and its three action classes.",
        figures=(("Segment sizes and the R x FM grid", png(draw, ncols=2, size=(11, 4))),),
        tables=(("Segments", table),),
        summary={
            "customers": len(customers),
            **{f"share_{k}": round(float(v), 3) for k, v in shares.items()},
        },
    )


def recommendations(shop: Shop) -> Section:
    """Top-10 items per member from EASE on purchases (chainmall.recommend)."""
    from chainmall.recommend import EASE, Interactions

    bought = shop.order_lines[["user_id", "item_id", "paid_at"]].rename(columns={"paid_at": "ts"})
    interactions = Interactions.from_frame(bought, rating_col=None, duplicates="sum")
    model = EASE(reg=50.0).fit(interactions)
    users = np.asarray(interactions.user_ids)
    top = model.recommend(users, k=10)
    catalogue = shop.catalogue.set_index("item_id")["category"]
    recommended_share = top["item_id"].map(catalogue).value_counts(normalize=True)
    bought_share = bought["item_id"].map(catalogue).value_counts(normalize=True)
    categories = bought_share.index.tolist()
    active = bought["user_id"].value_counts().index[:5]
    sample = top[top["user_id"].isin(active) & (top["rank"] <= 5)]
    sample = sample.assign(category=sample["item_id"].map(catalogue))[
        ["user_id", "rank", "item_id", "category", "score"]
    ]

    def draw(ax: Any) -> None:
        x = np.arange(len(categories))
        ax.bar(x - 0.2, bought_share.reindex(categories).to_numpy(), 0.4, label="bought")
        ax.bar(
            x + 0.2,
            recommended_share.reindex(categories).fillna(0).to_numpy(),
            0.4,
            label="recommended",
        )
        ax.set_xticks(x, categories, rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("share of items")
        ax.set_title("category mix: bought vs top-10 recommendations")
        ax.legend()

    coverage = top["item_id"].nunique() / len(shop.catalogue)
    return Section(
        key="recommendations",
        title="Recommendations",
        intro=f"EASE (item-item linear autoencoder) fitted on {len(bought):,} purchase lines "
        f"of {len(users):,} buyers; each buyer gets 10 items not bought before.",
        figures=(("Category mix of recommendations", png(draw, size=(9, 4))),),
        tables=(("Top 5 for the five most active buyers", sample.reset_index(drop=True)),),
        summary={"users": len(users), "catalogue_coverage": round(float(coverage), 3)},
    )


def price_curves(shop: Shop) -> Section:
    """Log-log demand curves per SKU and elasticities vs the generator's truth (chainmall.pricing)."""
    from chainmall.pricing import LogLogModel

    demand = shop.demand
    frame = demand.assign(
        log_price=np.log(demand["price_fen"] / 100.0),
        promo=demand["promo"].astype(np.float64),
        dow=pd.to_datetime(demand["ds"]).dt.dayofweek,
    )
    model = LogLogModel(group="unique_id", fixed_effects=("unique_id", "dow"), controls=("promo",))
    model.fit(frame, np.log1p(frame["y"].to_numpy(dtype=np.float64)))
    known = shop.catalogue.dropna(subset=["true_elasticity"])
    truth = pd.Series(
        known["true_elasticity"].to_numpy(), index="sku-" + known["item_id"].astype(str)
    )
    table = pd.DataFrame(
        {"unique_id": list(model.elasticities_), "estimated": list(model.elasticities_.values())}
    )
    table["true"] = truth.reindex(table["unique_id"].to_numpy()).to_numpy()
    volume = demand.groupby("unique_id")["y"].sum().sort_values(ascending=False)
    shown = volume.index[:4].tolist()

    def draw(axes: Any) -> None:
        for ax, sku in zip(np.ravel(axes), shown, strict=True):
            rows = frame[frame["unique_id"] == sku]
            ax.scatter(rows["price_fen"] / 100, rows["y"], s=6, alpha=0.35, label="days")
            grid = np.linspace(rows["log_price"].min(), rows["log_price"].max(), 40)
            base = rows.iloc[[0] * len(grid)].assign(log_price=grid, promo=0.0)
            curve = np.expm1(model.predict(base))
            ax.plot(np.exp(grid), curve, color="#c0392b", label="model (no promo)")
            ax.set_title(f"{sku}: e = {model.elasticities_[sku]:.2f}", fontsize=9)
            ax.set_xlabel("price (yuan)")
        np.ravel(axes)[0].set_ylabel("units per day")
        np.ravel(axes)[0].legend(fontsize=7)

    error = (table["estimated"] - table["true"]).abs()
    return Section(
        key="prices",
        title="Price curves",
        intro=f"Log-log demand model (per-SKU price slope, SKU and weekday effects, promotion "
        f"control) on {len(frame):,} SKU-days; the slope is the own-price elasticity. "
        "The generator's true elasticities are shown for comparison.",
        figures=(("Demand against price, top four SKUs", png(draw, ncols=4, size=(12, 3.4))),),
        tables=(
            ("Own-price elasticity per SKU", table.sort_values("unique_id", ignore_index=True)),
        ),
        summary={
            "skus": len(table),
            "median_abs_elasticity_error": round(float(error.median()), 3),
        },
    )


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("shop", "The synthetic shop", None, shop_overview),
    SectionSpec("segments", "Customer segments (RFM-L)", "chainmall.segment", segments),
    SectionSpec("recommendations", "Recommendations", "chainmall.recommend", recommendations),
    SectionSpec("prices", "Price curves", "chainmall.pricing", price_curves),
)
"""Report sections in page order."""

PENDING: tuple[tuple[str, str], ...] = (
    ("Team tree", "chainmall.referral"),
    ("Commission flow", "chainmall.referral"),
    ("Forecasts with intervals", "chainmall.replenish"),
    ("Purchase suggestions", "chainmall.replenish"),
)
"""Sections of engines whose package this installation does not have yet."""
