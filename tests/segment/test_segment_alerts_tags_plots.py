"""Churn alerts, declarative tags and plot smoke tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainmall.exceptions import ConfigError, DataValidationError
from chainmall.segment import ChurnConfig, ParetoNBD, RFMLConfig, segment_customers, summarize
from chainmall.segment.alerts import ALERT_COLUMNS, churn_alerts
from chainmall.segment.tags import Condition, TagRule, attribute_shares, tag_customers
from tests.conftest import require_file


def test_inactivity_and_overdue_alerts_golden(small_log: pd.DataFrame) -> None:
    cfg = RFMLConfig(timezone="UTC", churn=ChurnConfig(inactivity_days=10, overdue_ratio=2.0))
    alerts = churn_alerts(small_log, "2024-01-29", cfg)
    assert list(alerts.columns) == ["user_id", *ALERT_COLUMNS]
    pairs = set(zip(alerts.user_id, alerts.reason, strict=True))
    # a: 7 days (< 10) and 7 / 10.5 < 2 -> nothing; b: 14 days; c: 24 days, 24 / 2 = 12x gap
    assert pairs == {("b", "inactive"), ("c", "inactive"), ("c", "overdue")}
    c_overdue = alerts[(alerts.user_id == "c") & (alerts.reason == "overdue")].iloc[0]
    assert c_overdue.value == 12.0 and c_overdue.coupon_fen == 1000
    assert "12.0x own mean gap" in c_overdue.evidence and "coupon" in c_overdue.action


def test_default_inactivity_follows_each_customers_rhythm(small_log: pd.DataFrame) -> None:
    """Issue 23: on purchases the default window is 1.5 x the customer's own mean gap."""
    alerts = churn_alerts(small_log, "2024-01-25", RFMLConfig(timezone="UTC"))
    inactive = alerts[alerts.reason == "inactive"].set_index("user_id")
    # a: 3 days < 1.5 x 10.5; b (one purchase): 10 >= 1.5 x median(10.5, 2) = 9.375;
    # c: 20 >= 1.5 x 2
    assert set(inactive.index) == {"b", "c"}
    assert inactive.loc["b", "threshold"] == pytest.approx(9.375)
    assert inactive.loc["c", "threshold"] == pytest.approx(3.0)
    assert "(threshold 9.38)" in inactive.loc["b", "evidence"]


def test_fixed_three_day_rule_stays_available(small_log: pd.DataFrame) -> None:
    cfg = RFMLConfig(timezone="UTC", churn=ChurnConfig(inactivity_days=3))
    inactive = churn_alerts(small_log, "2024-01-25", cfg)
    # a bought on Jan 22 (3 days before): alerted; events after "now" are ignored
    assert set(inactive[inactive.reason == "inactive"].user_id) == {"a", "b", "c"}
    quiet = churn_alerts(small_log, "2024-01-23", cfg)
    assert "a" not in set(quiet[quiet.reason == "inactive"].user_id)


@pytest.mark.realdata
def test_rhythm_window_spares_returning_cdnow_customers(data_home: Path) -> None:
    """Issue 23: 3 days without a purchase flags ~all CDNOW customers, returners included."""
    from chainmall.datasets import load_cdnow

    require_file(data_home, "cdnow/CDNOW_master.txt")
    raw = load_cdnow(data_home=data_home)
    log = raw.rename(columns={"customer_id": "user_id"}).assign(
        amount_fen=(raw["amount"] * 100).round().astype("int64")
    )
    cfg = RFMLConfig(timezone="UTC")
    now = pd.Timestamp("1997-09-30", tz="UTC")
    soon = log[(log.ts >= now + pd.Timedelta(days=1)) & (log.ts < now + pd.Timedelta(days=91))]
    known = summarize(log, cfg.replace(as_of="1997-09-30")).customers["user_id"]
    returns = known.isin(set(soon["user_id"])).to_numpy()

    def flagged(rules: ChurnConfig) -> np.ndarray:
        alerts = churn_alerts(log, "1997-09-30", cfg.replace(churn=rules))
        return known.isin(set(alerts.user_id[alerts.reason == "inactive"])).to_numpy()

    three_days, rhythm = flagged(ChurnConfig(inactivity_days=3)), flagged(ChurnConfig())
    assert three_days.mean() > 0.98 and three_days[returns].mean() > 0.95
    assert rhythm[returns].mean() < 0.6  # most customers who come back are not warned
    assert (~returns[rhythm]).mean() > (~returns[three_days]).mean()  # warnings are sharper


def test_model_based_alerts_follow_probability(small_log: pd.DataFrame) -> None:
    cfg = RFMLConfig(timezone="UTC", churn=ChurnConfig(p_no_purchase=0.5, horizon_days=7))
    model = ParetoNBD()
    model.params_ = {"r": 0.8, "alpha": 5.0, "s": 0.6, "beta": 12.0}
    alerts = churn_alerts(small_log, "2024-01-29", cfg, model=model)
    flagged = alerts[alerts.reason == "model"]
    customers = summarize(small_log, cfg.replace(as_of="2024-01-29")).customers
    quiet = model.p_no_purchase(1.0, customers)
    assert set(flagged.user_id) == set(customers.user_id[quiet >= 0.5])
    assert (flagged.value >= 0.5).all()


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["a", "b", "c"],
            "mean_spend_fen": [30_000, 5_000, np.nan],
            "tenure_days": [30, 400, 90],
        }
    )


def test_tags_with_catalogue_attributes() -> None:
    lines = pd.DataFrame(
        {
            "user_id": ["a", "a", "b", "c"],
            "item_id": [1, 2, 2, 3],
            "amount_fen": [300, 100, 500, 0],
        }
    )
    catalogue = pd.DataFrame({"item_id": [1, 2, 3], "category": ["baby", "food", "baby"]})
    shares = attribute_shares(lines, catalogue, "category")
    a = shares.set_index("user_id").loc["a"]
    assert (a.share_baby, a.share_food) == (0.75, 0.25)
    assert shares.set_index("user_id").loc["c"].sum() == 0  # no spend -> no shares
    rules = [
        TagRule(
            name="new parent",
            conditions=(
                Condition(column="share_baby", op=">", value=0.5),
                Condition(column="tenure_days", op="<=", value=180),
            ),
        ),
        TagRule(
            name="big spender",
            conditions=(Condition(column="mean_spend_fen", op=">=", value=20_000),),
        ),
        TagRule(name="named", conditions=(Condition(column="user_id", op="in", value=["b"]),)),
    ]
    tags = tag_customers(_customers(), rules, attributes=shares)
    assert set(zip(tags.user_id, tags.tag, strict=True)) == {
        ("a", "new parent"),
        ("a", "big spender"),
        ("b", "named"),
    }  # c: missing spend never satisfies a condition


def test_tag_errors_name_the_problem() -> None:
    rule = TagRule(name="x", conditions=(Condition(column="mean_spendfen", op=">", value=1),))
    with pytest.raises(ConfigError, match="did you mean 'mean_spend_fen'"):
        tag_customers(_customers(), [rule])
    lines = pd.DataFrame({"user_id": ["a"], "item_id": [9], "amount_fen": [1]})
    catalogue = pd.DataFrame({"item_id": [1], "category": ["baby"]})
    with pytest.raises(DataValidationError, match="item_id: 9"):
        attribute_shares(lines, catalogue, "category")
    with pytest.raises(ConfigError):
        TagRule.from_dict({"name": "x", "conditions": []})


def test_plots_smoke(small_log: pd.DataFrame) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from chainmall.segment.plotting import (
        plot_expected_vs_actual,
        plot_rf_heatmap,
        plot_segment_sizes,
    )

    customers = segment_customers(small_log, RFMLConfig(timezone="UTC")).customers
    ax = plot_segment_sizes(customers)
    assert ax.get_title() == "customers per segment"
    assert plot_rf_heatmap(customers, value="monetary_fen").get_xlabel() == "fm_score"
    ax = plot_expected_vs_actual([0.1, 0.5, 2.0], [0, 1, 9], max_purchases=3)
    assert len(ax.get_lines()) == 2
    with pytest.raises(DataValidationError):
        plot_expected_vs_actual([1.0], [1, 2])
    plt.close("all")
