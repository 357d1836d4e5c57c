"""One function per report section: run an engine on the synthetic shop, return figures and tables.

Each builder is pure (``Shop -> Section``). A section exists only for an engine
that is installed: :data:`SECTIONS` names the package each builder needs, and
:func:`chainmall.report.build_report` omits (and lists) those whose package is absent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from chainmall.datasets import Shop
from chainmall.report.figures import png
from chainmall.report.forecasts import forecasts, purchase_suggestions
from chainmall.report.programme import programme
from chainmall.report.section import Section, SectionSpec

__all__ = ["SECTIONS", "Section", "SectionSpec"]


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
        _purchases(shop), columns={"ts": "paid_at", "amount_fen": "paid_fen"}
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
        dow=pd.to_datetime(demand["ds"]).dt.day_of_week,
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


def _settlement(shop: Shop) -> Any:
    from chainmall.referral import ReferralConfig, events_from_shop, settle

    return settle(events_from_shop(shop), ReferralConfig())


def _tree_positions(parent: dict[int, int], root: int, limit: int) -> dict[int, tuple[float, int]]:
    """Layered layout of the subtree under ``root``: x = leaf order, y = depth (first ``limit`` nodes)."""
    children: dict[int, list[int]] = {}
    for child, par in parent.items():
        children.setdefault(par, []).append(child)
    kept, frontier = [root], [root]
    while frontier and len(kept) < limit:
        frontier = [c for node in frontier for c in sorted(children.get(node, []))]
        frontier = frontier[: limit - len(kept)]
        kept.extend(frontier)
    inside = set(kept)
    positions: dict[int, tuple[float, int]] = {}
    next_leaf = [0.0]

    def place(node: int, depth: int) -> float:  # recursion depth <= tree depth (small)
        kids = [c for c in sorted(children.get(node, [])) if c in inside]
        if not kids:
            x = next_leaf[0]
            next_leaf[0] += 1.0
        else:
            x = float(np.mean([place(k, depth + 1) for k in kids]))
        positions[node] = (x, depth)
        return x

    place(root, 0)
    return positions


def team_tree(shop: Shop) -> Section:
    """The largest 2+1 team under its boss, and team sizes (chainmall.referral)."""
    users = _settlement(shop).users
    linked = users.dropna(subset=["team_parent_id"])
    parent = dict(
        zip(
            linked["user_id"].astype("int64"),
            linked["team_parent_id"].astype("int64"),
            strict=True,
        )
    )
    top: dict[int, int] = {}
    for node in parent:
        root = node
        while root in parent:
            root = parent[root]
        top[node] = root
    sizes = pd.Series(top).value_counts()
    root = int(sizes.index[0]) if len(sizes) else int(users["user_id"].iloc[0])
    team = {node for node, boss in top.items() if boss == root}
    inviter = users.set_index("user_id")["inviter_id"]
    # draw invite links inside the team; a member invited from outside hangs from the boss
    invite_parent = {}
    for node in team:
        up = inviter.get(node)
        invite_parent[node] = int(up) if pd.notna(up) and int(up) in team else root
    positions = _tree_positions(invite_parent, root, limit=120)
    parent = invite_parent
    status = users.set_index("user_id")["status"].astype(str)
    colours = {"BOSS": "#c0392b", "MEMBER": "#2f6fb3", "REGISTERED": "#95a5a6", "BANNED": "#000000"}

    def draw(ax: Any) -> None:
        for node, (x, y) in positions.items():
            if node in parent and parent[node] in positions:
                px, py = positions[parent[node]]
                ax.plot([px, x], [-py, -y], color="#b0b8c4", linewidth=0.6, zorder=1)
        for label, colour in colours.items():
            nodes = [n for n in positions if status.get(n) == label]
            if nodes:
                xy = np.array([positions[n] for n in nodes], dtype=np.float64)
                ax.scatter(xy[:, 0], -xy[:, 1], s=14, color=colour, label=label, zorder=2)
        ax.set_title(
            f"team of boss {root}: {int(sizes.iloc[0]) if len(sizes) else 0} members (first {len(positions)} drawn)"
        )
        ax.set_ylabel("invite depth below the boss")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_xticks([])
        ax.legend(fontsize=8, loc="lower right")

    counts = users["status"].value_counts().rename_axis("status").reset_index(name="users")
    teams = sizes.head(10).rename_axis("boss_id").reset_index(name="team_members")
    return Section(
        key="team",
        title="Team tree",
        intro="The 2+1 team structure after settling every shop event with chainmall.referral "
        "(a member's first two invitees slide to their own team parent; later ones stay). "
        "The figure draws the largest team under its boss, with the invite links inside it "
        "(a member invited from outside the team hangs from the boss).",
        figures=(("The largest team", png(draw, size=(11, 4.5))),),
        tables=(("Members by status", counts), ("Ten largest teams", teams)),
        summary={
            "bosses": int((users["status"] == "BOSS").sum()),
            "largest_team": int(sizes.iloc[0]) if len(sizes) else 0,
        },
    )


def commission_flow(shop: Shop) -> Section:
    """Commission per month by type, reversals, and its share of GMV (chainmall.referral)."""
    from chainmall.distributed.referral import earner_month_totals

    totals = earner_month_totals(_settlement(shop).entries)
    month_kind = totals.assign(
        flow=totals["kind"].astype(str)
        + np.where(totals["reward_type"].isna(), "", " " + totals["reward_type"].astype(str))
    ).pivot_table(
        index="month",
        columns="flow",
        values="amount_fen",
        aggfunc="sum",
        fill_value=0,
        observed=True,
    )
    lines = shop.order_lines
    gmv = lines.groupby(lines["paid_at"].dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m"))[
        "paid_fen"
    ].sum()
    direct = month_kind.get("COMMISSION DIRECT", pd.Series(0, index=month_kind.index))
    team = month_kind.get("COMMISSION TEAM", pd.Series(0, index=month_kind.index))
    reversal = month_kind.filter(like="REVERSAL").sum(axis=1)
    months = [str(m) for m in month_kind.index]
    share = (direct + team + reversal) / gmv.reindex(months).to_numpy()

    def draw(axes: Any) -> None:
        x = np.arange(len(months))
        axes[0].bar(x, direct / 100, label="direct", color="#2f6fb3")
        axes[0].bar(x, team / 100, bottom=direct / 100, label="team", color="#e07b39")
        axes[0].bar(x, reversal / 100, label="reversals", color="#c0392b")
        axes[0].set_xticks(x, months, rotation=60, fontsize=7)
        axes[0].set_title("commission per accrual month (yuan)")
        axes[0].legend(fontsize=8)
        axes[1].plot(x, 100 * share.to_numpy(dtype=np.float64), marker="o")
        axes[1].set_xticks(x, months, rotation=60, fontsize=7)
        axes[1].set_title("net commission as % of GMV")

    by_kind = (
        totals.groupby(["kind", "reward_type"], observed=True, dropna=False)[
            ["entries", "amount_fen"]
        ]
        .sum()
        .reset_index()
        .assign(amount_yuan=lambda f: f["amount_fen"] / 100)
        .drop(columns="amount_fen")
    )
    net = int((direct + team + reversal).sum())
    return Section(
        key="commissions",
        title="Commission flow",
        intro="Ledger entries of the settlement summed per earner and accrual month "
        "(chainmall.distributed.earner_month_totals, the same function the Dask path runs).",
        figures=(
            ("Commission per month and its share of GMV", png(draw, ncols=2, size=(11, 3.8))),
        ),
        tables=(("Ledger entries by kind", by_kind),),
        summary={
            "net_commission_yuan": net / 100,
            "commission_share_of_gmv": round(net / max(int(gmv.sum()), 1), 4),
        },
    )


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("shop", "The synthetic shop", None, shop_overview),
    SectionSpec("team", "Team tree", "chainmall.referral", team_tree),
    SectionSpec("commissions", "Commission flow", "chainmall.referral", commission_flow),
    SectionSpec(
        "programme", "Referral programme (from the store)", "chainmall.referral", programme
    ),
    SectionSpec("segments", "Customer segments (RFM-L)", "chainmall.segment", segments),
    SectionSpec("recommendations", "Recommendations", "chainmall.recommend", recommendations),
    SectionSpec("forecasts", "Forecasts with intervals", "chainmall.replenish", forecasts),
    SectionSpec("purchases", "Purchase suggestions", "chainmall.replenish", purchase_suggestions),
    SectionSpec("prices", "Price curves", "chainmall.pricing", price_curves),
)
"""Report sections in page order."""
