"""The legal boundary between the list-price and benefits layers."""

from __future__ import annotations

import pytest

from chainmall.exceptions import ComplianceConfigError
from chainmall.pricing import DEFAULT_CATALOG, FeatureSpec, blocked_reason


@pytest.mark.parametrize(
    "name",
    [
        "age",
        "user_age",
        "AGE60",
        "occupation",
        "device_type",
        "phone_model",
        "consumption_level",
        "gender",
        "religion",
    ],
)
def test_blocked_features_are_refused_in_every_layer(name: str) -> None:
    assert blocked_reason(name) is not None
    for layer in ("list_price", "benefit_only"):
        with pytest.raises(ComplianceConfigError, match="blocked"):
            FeatureSpec(name, "market", layer)  # type: ignore[arg-type]
    with pytest.raises(ComplianceConfigError, match="blocked"):
        DEFAULT_CATALOG.require_list_price([name])


@pytest.mark.parametrize("name", ["unit_cost", "store", "margin", "average_price", "page_views"])
def test_ordinary_names_are_not_blocked(name: str) -> None:
    assert blocked_reason(name) is None


def test_user_level_feature_cannot_be_declared_list_price() -> None:
    with pytest.raises(ComplianceConfigError, match="user-level"):
        FeatureSpec("user_spend_history", "user", "list_price")


@pytest.mark.parametrize(
    "name",
    ["user_spend_history", "user_repurchase_cycle", "user_price_sensitivity", "membership_tier"],
)
def test_user_features_offered_to_list_price_are_refused(name: str) -> None:
    with pytest.raises(ComplianceConfigError, match="may not feed the list price"):
        DEFAULT_CATALOG.require_list_price(["log_price", name])


def test_undeclared_feature_is_refused_and_market_features_pass() -> None:
    with pytest.raises(ComplianceConfigError, match="not declared"):
        DEFAULT_CATALOG.require_list_price(["mystery_score"])
    DEFAULT_CATALOG.require_list_price(["log_price", "feat", "week_of_year", "store_mean"])


def test_duplicate_declaration_refused() -> None:
    with pytest.raises(ComplianceConfigError, match="twice"):
        DEFAULT_CATALOG.with_features([FeatureSpec("feat", "market", "list_price")])
