"""make_shop: contract columns and dtypes, invariants (hypothesis), structure of the signals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.datasets import Shop, make_shop
from chainmall.datasets.synthetic import forest_depth
from chainmall.exceptions import ConfigError

MONEY = {
    "catalogue": ["list_price_fen", "unit_cost_fen"],
    "orders": ["freight_fen"],
    "order_lines": ["paid_fen", "balance_paid_fen"],
    "refunds": ["amount_fen"],
    "demand": ["price_fen"],
}
COLUMNS = {
    "members": ["user_id", "registered_at", "inviter_id", "bound_at", "channel"],
    "catalogue": [
        "item_id",
        "category",
        "brand",
        "list_price_fen",
        "unit_cost_fen",
        "true_elasticity",
    ],
    "orders": ["order_id", "user_id", "paid_at", "received_at", "freight_fen"],
    "order_lines": [
        "line_id",
        "order_id",
        "user_id",
        "item_id",
        "quantity",
        "paid_fen",
        "balance_paid_fen",
        "paid_at",
    ],
    "refunds": ["refund_id", "line_id", "order_id", "amount_fen", "refunded_at"],
    "ratings": ["user_id", "item_id", "rating", "ts"],
    "demand": ["unique_id", "ds", "y", "price_fen", "promo"],
}
UTC_COLUMNS = {
    "members": ["registered_at", "bound_at"],
    "orders": ["paid_at", "received_at"],
    "order_lines": ["paid_at"],
    "refunds": ["refunded_at"],
    "ratings": ["ts"],
}


@pytest.fixture(scope="module")
def shop() -> Shop:
    return make_shop(seed=0)


@pytest.fixture(scope="module")
def big_shop() -> Shop:
    return make_shop(seed=0, n_members=20_000)


def check_invariants(shop: Shop) -> None:
    """Every structural promise of the contract, checked vectorised."""
    members, orders, lines = shop.members, shop.orders, shop.order_lines
    refunds, ratings, demand, catalogue = shop.refunds, shop.ratings, shop.demand, shop.catalogue
    for name, columns in COLUMNS.items():
        assert list(getattr(shop, name).columns) == columns, name
    for name, columns in MONEY.items():
        for column in columns:
            values = getattr(shop, name)[column]
            assert values.dtype == np.int64, (name, column)
            assert (values >= 0).all(), (name, column)
    for name, columns in UTC_COLUMNS.items():
        for column in columns:
            assert str(getattr(shop, name)[column].dtype) == "datetime64[ns, UTC]", (name, column)

    # members: ids 1..n in registration order; inviters registered earlier (a forest)
    n = len(members)
    assert (members["user_id"].to_numpy() == np.arange(1, n + 1)).all()
    registered = members["registered_at"]
    assert registered.is_monotonic_increasing and registered.is_unique
    assert (members["bound_at"] == registered).all()
    assert members["inviter_id"].dtype == "Int64"
    invited = members[members["inviter_id"].notna()]
    assert (invited["inviter_id"] < invited["user_id"]).all()
    inviter_registered = registered.to_numpy()[invited["inviter_id"].to_numpy(dtype=np.int64) - 1]
    assert (inviter_registered < invited["registered_at"].to_numpy()).all()
    assert pd.isna(members["inviter_id"].iloc[0])
    assert set(members["channel"].cat.categories) == {"wechat", "app", "h5"}

    # catalogue
    assert (catalogue["item_id"].to_numpy() == np.arange(1, len(catalogue) + 1)).all()
    assert (catalogue["unit_cost_fen"] < catalogue["list_price_fen"]).all()
    assert (catalogue["unit_cost_fen"] > 0).all()

    # orders: unique ids, paid after binding, received 1..6 days later or NaT near the end
    assert orders["order_id"].is_unique and lines["line_id"].is_unique
    assert refunds["refund_id"].is_unique
    assert orders["paid_at"].is_monotonic_increasing
    bound = members["bound_at"].to_numpy()[orders["user_id"].to_numpy() - 1]
    assert (bound < orders["paid_at"].to_numpy()).all()
    in_transit = orders["received_at"].isna()
    delivery = orders["received_at"] - orders["paid_at"]
    assert delivery[~in_transit].between(pd.Timedelta(days=1), pd.Timedelta(days=6)).all()
    assert (orders.loc[in_transit, "paid_at"] >= shop.end - pd.Timedelta(days=6)).all()
    assert (orders["paid_at"] >= shop.start).all() and (orders["paid_at"] < shop.end).all()

    # lines: belong to their order, same buyer and time; amounts consistent
    by_order = orders.set_index("order_id")
    assert (by_order.loc[lines["order_id"], "user_id"].to_numpy() == lines["user_id"]).all()
    assert (by_order.loc[lines["order_id"], "paid_at"].to_numpy() == lines["paid_at"]).all()
    assert set(orders["order_id"]) == set(lines["order_id"])
    assert lines["item_id"].between(1, len(catalogue)).all()
    assert (lines["quantity"] >= 1).all() and lines["quantity"].dtype == np.int64
    assert (lines["balance_paid_fen"] <= lines["paid_fen"]).all()

    # refunds: positive, at most the line's paid amount in total, after payment
    by_line = lines.set_index("line_id")
    assert (refunds["amount_fen"] > 0).all()
    per_line = refunds.groupby("line_id")["amount_fen"].sum()
    assert (per_line <= by_line.loc[per_line.index, "paid_fen"]).all()
    assert (refunds.groupby("line_id").size() <= 2).all()
    assert (by_line.loc[refunds["line_id"], "order_id"].to_numpy() == refunds["order_id"]).all()
    assert (by_line.loc[refunds["line_id"], "paid_at"].to_numpy() < refunds["refunded_at"]).all()

    # ratings: 1..5 on bought items, once per pair, after receipt
    assert ratings["rating"].dtype == np.int64 and ratings["rating"].between(1, 5).all()
    assert not ratings.duplicated(["user_id", "item_id"]).any()
    bought = lines.groupby(["user_id", "item_id"])["paid_at"].min()
    first_paid = bought.loc[pd.MultiIndex.from_frame(ratings[["user_id", "item_id"]])]
    assert (first_paid.to_numpy() < ratings["ts"].to_numpy()).all()
    assert (ratings["ts"] < shop.end).all()

    # demand: non-negative units, naive daily dates, elasticity only for its SKUs
    assert demand["y"].dtype == np.int64 and (demand["y"] >= 0).all()
    assert demand["ds"].dt.tz is None and demand["promo"].dtype == bool
    assert (demand["price_fen"] > 0).all()
    skus = catalogue.loc[catalogue["true_elasticity"].notna(), "item_id"]
    assert set(demand["unique_id"]) == {f"sku-{i}" for i in skus}
    assert len(skus) == min(50, len(catalogue))
    assert (catalogue["true_elasticity"].dropna() < 0).all()


def test_default_shop_meets_the_contract(shop: Shop) -> None:
    check_invariants(shop)
    assert len(shop.members) == 2_000 and len(shop.catalogue) == 200
    assert shop.start == pd.Timestamp("2025-01-01", tz="UTC")
    assert shop.end == pd.Timestamp("2026-01-01", tz="UTC")
    assert shop.demand["ds"].nunique() == 365


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    n_members=st.integers(1, 400),
    months=st.integers(1, 6),
    n_items=st.integers(1, 60),
    orders_per_member=st.floats(0.0, 20.0),
    refund_rate=st.floats(0.0, 1.0),
)
def test_invariants_hold_for_any_arguments(
    seed: int,
    n_members: int,
    months: int,
    n_items: int,
    orders_per_member: float,
    refund_rate: float,
) -> None:
    shop = make_shop(
        seed=seed,
        n_members=n_members,
        months=months,
        n_items=n_items,
        orders_per_member=orders_per_member,
        refund_rate=refund_rate,
    )
    check_invariants(shop)
    if refund_rate == 1.0:  # every paid line is refunded at least once
        paid = shop.order_lines.loc[shop.order_lines["paid_fen"] > 0, "line_id"]
        assert set(paid) == set(shop.refunds["line_id"])
    if refund_rate == 0.0:
        assert shop.refunds.empty


def assert_same_shop(left: Shop, right: Shop) -> None:
    for name in COLUMNS:
        pd.testing.assert_frame_equal(getattr(left, name), getattr(right, name))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32), n_members=st.integers(50, 300))
def test_same_seed_same_shop_other_seed_other_shop(seed: int, n_members: int) -> None:
    first = make_shop(seed=seed, n_members=n_members, months=3, n_items=30)
    assert_same_shop(first, make_shop(seed=seed, n_members=n_members, months=3, n_items=30))
    other = make_shop(seed=seed + 1, n_members=n_members, months=3, n_items=30)
    assert not first.members["registered_at"].equals(other.members["registered_at"])
    assert not first.order_lines["paid_fen"].equals(other.order_lines["paid_fen"])


def test_fan_out_is_heavy_tailed(big_shop: Shop) -> None:
    n = len(big_shop.members)
    invitees = np.bincount(
        big_shop.members["inviter_id"].dropna().to_numpy(dtype=np.int64), minlength=n + 1
    )
    assert np.median(invitees[1:]) <= 1
    assert invitees.max() >= 50
    assert (invitees[1:] <= 2).mean() > 0.8  # most members invite 0-2
    organic = big_shop.members["inviter_id"].isna().mean()
    assert 0.13 < organic < 0.17


def monthly_invitee_gmv(shop: Shop) -> pd.Series:
    """Paid fen of each inviter's invitees per calendar month in Asia/Shanghai."""
    lines = shop.order_lines
    inviter = shop.members["inviter_id"].to_numpy(dtype=np.float64, na_value=np.nan)
    line_inviter = inviter[lines["user_id"].to_numpy() - 1]
    local = lines["paid_at"].dt.tz_convert("Asia/Shanghai")
    month = (local.dt.year * 100 + local.dt.month).to_numpy()
    invited = ~np.isnan(line_inviter)
    frame = pd.DataFrame(
        {
            "inviter": line_inviter[invited],
            "month": month[invited],
            "paid": lines["paid_fen"][invited],
        }
    )
    return frame.groupby(["inviter", "month"])["paid"].sum()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_some_inviter_month_exceeds_the_commission_cap(seed: int) -> None:
    shop = make_shop(seed=seed, n_members=20_000)
    gmv = monthly_invitee_gmv(shop)
    assert gmv.max() > 25_000_000  # 250,000 yuan at 20 % = a 50,000-yuan commission
    # ... but only for a few inviter-months: caps bind for some, not for most
    assert (gmv > 25_000_000).mean() < 0.01


def test_volumes_follow_the_arguments(big_shop: Shop) -> None:
    n = len(big_shop.members)
    assert len(big_shop.orders) / n == pytest.approx(10.0, rel=0.05)
    assert len(big_shop.order_lines) / len(big_shop.orders) == pytest.approx(1.25, rel=0.03)
    paid_lines = (big_shop.order_lines["paid_fen"] > 0).sum()
    assert big_shop.refunds["line_id"].nunique() / paid_lines == pytest.approx(0.03, abs=0.003)
    buyers = big_shop.orders["user_id"].nunique()
    assert 0.4 * n < buyers < 0.9 * n  # some members never buy
    gifts = (big_shop.order_lines["paid_fen"] == 0).mean()
    assert 0 < gifts < 0.05
    assert 0 < (big_shop.order_lines["balance_paid_fen"] > 0).mean() < 0.1


def test_refunds_mix_full_partial_and_double(big_shop: Shop) -> None:
    refunds = big_shop.refunds.merge(big_shop.order_lines[["line_id", "paid_fen"]], on="line_id")
    per_line = refunds.groupby("line_id").agg(n=("amount_fen", "size"), total=("amount_fen", "sum"))
    per_line["paid"] = refunds.groupby("line_id")["paid_fen"].first()
    full = (per_line["n"] == 1) & (per_line["total"] == per_line["paid"])
    partial = (per_line["n"] == 1) & (per_line["total"] < per_line["paid"])
    double = per_line["n"] == 2
    assert full.mean() > 0.5 and partial.mean() > 0.2 and double.mean() > 0.05


def test_ratings_carry_user_by_category_taste(big_shop: Shop) -> None:
    """Beyond user and item biases, a user's taste for a category predicts held-out ratings."""
    ratings = big_shop.ratings.merge(big_shop.catalogue[["item_id", "category"]], on="item_id")
    test = np.random.default_rng(0).random(len(ratings)) < 0.3
    train = ratings[~test]
    mean = train["rating"].mean()
    user_bias = (train["rating"] - mean).groupby(train["user_id"]).mean()
    item_bias = (train["rating"] - mean).groupby(train["item_id"]).mean()

    def residual(frame: pd.DataFrame) -> pd.Series:
        fitted = (
            mean
            + frame["user_id"].map(user_bias).fillna(0.0)
            + frame["item_id"].map(item_bias).fillna(0.0)
        )
        return frame["rating"] - fitted

    taste = residual(train).groupby([train["user_id"], train["category"]]).mean()
    held = ratings[test]
    key = pd.MultiIndex.from_frame(held[["user_id", "category"]])
    predicted = pd.Series(taste.reindex(key).to_numpy(), index=held.index)
    known = predicted.notna()
    correlation = np.corrcoef(predicted[known], residual(held)[known])[0, 1]
    assert correlation > 0.1
    assert ratings["rating"].nunique() == 5


def test_demand_responds_to_price_with_the_stored_elasticity(big_shop: Shop) -> None:
    sm = pytest.importorskip("statsmodels.api")
    catalogue = big_shop.catalogue.set_index("item_id")
    estimated, true = [], []
    for unique_id, series in big_shop.demand.groupby("unique_id"):
        item = int(str(unique_id).removeprefix("sku-"))
        relative = np.log(series["price_fen"] / catalogue.loc[item, "list_price_fen"])
        dow = pd.get_dummies(series["ds"].dt.day_of_week, prefix="dow", drop_first=True)
        t = np.arange(len(series)) / 365.25
        design = np.column_stack(
            [np.ones(len(series)), relative, series["promo"], t, dow.to_numpy(dtype=float)]
        )
        fit = sm.GLM(series["y"].to_numpy(), design, family=sm.families.Poisson()).fit()
        estimated.append(fit.params[1])
        true.append(catalogue.loc[item, "true_elasticity"])
    # per-SKU estimates are noisy (one year of daily data), but unbiased and ranked right
    assert abs(np.mean(estimated) - np.mean(true)) < 0.15
    assert np.corrcoef(estimated, true)[0, 1] > 0.6


def test_demand_has_weekly_seasonality_and_promotions(big_shop: Shop) -> None:
    demand = big_shop.demand
    assert 0.05 < demand["promo"].mean() < 0.4
    promo_price = demand.groupby(["unique_id", "promo"])["price_fen"].median().unstack()
    assert (promo_price[True] < promo_price[False]).mean() > 0.9
    changes = demand.groupby("unique_id")["price_fen"].nunique()
    assert (changes > 1).all()


def test_summary_matches_the_frames(shop: Shop) -> None:
    summary = shop.summary()
    assert summary["members"] == len(shop.members)
    assert summary["buyers"] == shop.orders["user_id"].nunique()
    assert summary["orders"] == len(shop.orders) and summary["lines"] == len(shop.order_lines)
    assert summary["gmv_yuan"] == pytest.approx(shop.order_lines["paid_fen"].sum() / 100)
    refunded = shop.refunds["amount_fen"].sum() / shop.order_lines["paid_fen"].sum()
    assert summary["refund_share"] == pytest.approx(refunded)
    assert summary["max_invitees"] == shop.members["inviter_id"].value_counts().max()
    assert summary["items"] == 200 and summary["ratings"] == len(shop.ratings)
    assert summary["demand_series"] == 50 and summary["demand_days"] == 365
    assert summary["forest_depth"] >= 2
    assert set(summary) == {
        "members",
        "buyers",
        "orders",
        "lines",
        "gmv_yuan",
        "refund_share",
        "max_invitees",
        "forest_depth",
        "items",
        "ratings",
        "demand_series",
        "demand_days",
    }


def test_forest_depth_by_hand() -> None:
    # 1 <- 2 <- 3 <- 5, 1 <- 4, 6 organic: the longest chain has 3 links
    members = pd.DataFrame({"inviter_id": pd.array([None, 1, 2, 1, 3, None], dtype="Int64")})
    assert forest_depth(members) == 3
    organic = pd.DataFrame({"inviter_id": pd.array([None, None], dtype="Int64")})
    assert forest_depth(organic) == 0


def test_one_member_shop() -> None:
    shop = make_shop(seed=3, n_members=1, n_items=1)
    check_invariants(shop)
    assert shop.summary()["max_invitees"] == 0 and shop.summary()["forest_depth"] == 0


def test_a_shop_without_orders() -> None:
    shop = make_shop(n_members=500, orders_per_member=0.0)
    check_invariants(shop)
    assert shop.orders.empty and shop.order_lines.empty and shop.refunds.empty
    assert shop.ratings.empty and shop.summary()["buyers"] == 0
    assert (shop.demand.groupby("unique_id")["y"].mean() > 5).all()  # demand keeps its floor


def test_start_is_floored_to_utc_midnight_and_months_set_the_end() -> None:
    shop = make_shop(
        n_members=20, months=2, start=pd.Timestamp("2025-03-15 13:00", tz="Asia/Shanghai")
    )
    assert shop.start == pd.Timestamp("2025-03-15", tz="UTC")
    assert shop.end == pd.Timestamp("2025-05-15", tz="UTC")
    assert shop.demand["ds"].iloc[0] == pd.Timestamp("2025-03-15")
    assert shop.demand["ds"].nunique() == 61


def test_progress_reports_every_stage(capsys: pytest.CaptureFixture[str]) -> None:
    make_shop(n_members=10, progress=True)
    err = capsys.readouterr().err
    assert "make_shop" in err and "6/6" in err


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_members": 0}, "n_members must be between 1 and"),
        ({"n_members": 2.5}, "n_members must be an integer"),
        ({"n_members": True}, "n_members must be an integer"),
        ({"months": 0}, "months must be between 1 and 120"),
        ({"months": 121}, "months must be between 1 and 120"),
        ({"n_items": 0}, "n_items must be between 1 and"),
        ({"seed": -1}, "seed must be between 0 and"),
        ({"refund_rate": 1.5}, "refund_rate must be a finite number in [0.0, 1.0]"),
        ({"refund_rate": float("nan")}, "refund_rate must be a finite number"),
        ({"orders_per_member": -1.0}, "orders_per_member must be a finite number"),
        ({"orders_per_member": "10"}, "orders_per_member must be a number"),
        ({"start": "not a date"}, "start must be a date such as '2025-01-01'"),
        ({"start": None}, "start must be a date such as '2025-01-01'"),
    ],
)
def test_bad_arguments_raise_config_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_shop(**kwargs)  # type: ignore[arg-type]
    assert message in str(caught.value)


@pytest.mark.slow
def test_invariants_at_100k_members() -> None:
    shop = make_shop(seed=7, n_members=100_000, n_items=1_000)
    check_invariants(shop)
    assert len(shop.order_lines) > 1_000_000
