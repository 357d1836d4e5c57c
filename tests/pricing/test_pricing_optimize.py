"""Optimiser: golden examples, guard-rail invariants, compliance, audit trail."""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import ComplianceConfigError, ConfigError, DataValidationError
from chainmall.ledger import Ledger, verify_consistency, verify_inclusion
from chainmall.pricing import GuardRailConfig, apply_benefits, optimize_prices

NO_CAP = GuardRailConfig(emergency_cap=False)


def _offer(**kw: Any) -> pd.DataFrame:
    row = {
        "store_id": 1,
        "item_id": "oj",
        "current_price_fen": 200,
        "unit_cost_fen": 100,
        "baseline_units": 50.0,
        "elasticity": -2.0,
    }
    row.update(kw)
    return pd.DataFrame([row])


def test_golden_interior_optimum() -> None:
    # (p - 100) * p**-2 peaks at p* = c*e/(1+e) = 100*-2/-1 = 200: keep the price.
    out = optimize_prices(_offer(), NO_CAP).prices.iloc[0]
    assert out["price_fen"] == 200
    assert out["binding_constraint"] == "none"
    assert out["expected_units"] == pytest.approx(50.0)
    assert out["expected_profit_fen"] == 5000
    assert out["expected_revenue_fen"] == 10000


def test_golden_band_binds() -> None:
    # e = -3: p* = 100*-3/-2 = 150 < band floor 180, so the price stops at 180.
    cfg = GuardRailConfig(emergency_cap=False, max_change=0.3)
    out = optimize_prices(_offer(elasticity=-3.0), cfg).prices.iloc[0]
    assert out["price_fen"] == 180
    assert out["binding_constraint"] == "band"
    assert out["expected_units"] == pytest.approx(50 * 0.9**-3)


def test_cost_floor_and_clearance() -> None:
    # e = -1.2: p* = 100*-1.2/-0.2 = 600; revenue objective with e=-3 wants the lowest price.
    cfg = GuardRailConfig(emergency_cap=False, objective="revenue", band=0.5, max_change=0.5)
    offer = _offer(current_price_fen=120, elasticity=-3.0)
    assert optimize_prices(offer, cfg).prices.iloc[0]["price_fen"] == 100
    assert optimize_prices(offer, cfg).prices.iloc[0]["binding_constraint"] == "cost_floor"
    cleared = optimize_prices(offer.assign(clearance=True), cfg).prices.iloc[0]
    assert cleared["price_fen"] == 60
    assert cleared["binding_constraint"] == "max_change"


def test_emergency_cap_binds_and_is_required() -> None:
    offer = _offer(elasticity=-1.2, max_price_lookback_fen=205)
    out = optimize_prices(offer, GuardRailConfig()).prices.iloc[0]
    assert out["price_fen"] == 205
    assert out["binding_constraint"] == "emergency_cap"
    with pytest.raises(DataValidationError, match="max_price_lookback_fen"):
        optimize_prices(_offer(), GuardRailConfig())


def test_conflict_keeps_legal_cap() -> None:
    offer = _offer(unit_cost_fen=250, max_price_lookback_fen=210)
    out = optimize_prices(offer, GuardRailConfig()).prices.iloc[0]
    assert out["price_fen"] <= 210
    assert out["binding_constraint"].startswith("conflict:cost_floor>")


def test_price_endings() -> None:
    cfg = GuardRailConfig(emergency_cap=False, price_endings_fen=[9, 99])
    out = optimize_prices(_offer(current_price_fen=1000, unit_cost_fen=500), cfg).prices.iloc[0]
    assert out["price_fen"] % 100 in (9, 99)


offers_strategy = st.builds(
    lambda p, c, e, u, cap, clear: _offer(
        current_price_fen=p,
        unit_cost_fen=c,
        elasticity=e,
        baseline_units=u,
        max_price_lookback_fen=max(cap, 1),
        clearance=clear,
    ),
    st.integers(50, 5000),
    st.integers(1, 4000),
    st.floats(-5.0, -0.2),
    st.floats(0.0, 1e4),
    st.integers(50, 6000),
    st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(
    offers_strategy,
    st.sampled_from(["profit", "revenue", "mix"]),
    st.sampled_from([[], [9, 99], [0, 50]]),
)
def test_guard_rails_always_hold(offer: pd.DataFrame, objective: str, endings: list[int]) -> None:
    cfg = GuardRailConfig(objective=objective, price_endings_fen=endings)  # type: ignore[arg-type]
    out = optimize_prices(offer, cfg).prices.iloc[0]
    row = offer.iloc[0]
    price = out["price_fen"]
    assert price <= row["max_price_lookback_fen"] or out["binding_constraint"] == "price_ending"
    if endings:
        assert price % 100 in endings
    if out["binding_constraint"] in ("none",) or out["binding_constraint"] in (
        "band",
        "max_change",
        "cost_floor",
        "emergency_cap",
    ):
        assert out["lower_bound_fen"] <= price <= out["upper_bound_fen"]
        assert abs(price - row["current_price_fen"]) <= 0.1 * row["current_price_fen"] + 1
        if not row["clearance"]:
            assert price >= row["unit_cost_fen"]
    assert (
        out["expected_units_low"]
        <= out["expected_units"] + 1e-9
        <= out["expected_units_high"] + 2e-9
    )
    assert (
        out["expected_profit_low_fen"]
        <= out["expected_profit_fen"]
        <= out["expected_profit_high_fen"]
    )


def test_cross_check_flags_implausible_lift() -> None:
    # DML says very elastic (cut price, big lift); log-log says nearly inelastic.
    cfg = GuardRailConfig(emergency_cap=False, objective="revenue")
    out = optimize_prices(_offer(elasticity=-4.0, loglog_elasticity=-1.05), cfg).prices.iloc[0]
    assert out["lift"] > 0.2
    assert bool(out["implausible_lift"])
    agree = optimize_prices(_offer(elasticity=-4.0, loglog_elasticity=-4.0), cfg).prices.iloc[0]
    assert not bool(agree["implausible_lift"])


def test_personal_ids_and_user_features_refused() -> None:
    with pytest.raises(ComplianceConfigError, match="identifies a person"):
        optimize_prices(_offer().assign(user_id=1), NO_CAP, keys=("user_id", "item_id"))
    with pytest.raises(ComplianceConfigError, match="may not feed the list price"):
        optimize_prices(_offer(user_price_sensitivity=0.9), NO_CAP)
    with pytest.raises(ComplianceConfigError, match="blocked"):
        optimize_prices(_offer(device_type="ios"), NO_CAP)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1e6), st.floats(0, 1), st.sampled_from([None, "silver", "gold"])),
        min_size=2,
        max_size=6,
    )
)
def test_list_price_invariant_to_user_features(
    users: list[tuple[float, float, str | None]],
) -> None:
    """Users that differ only in user features see the identical list price; they pay <= it."""
    offer = _offer(elasticity=-2.6)
    decision = optimize_prices(offer, NO_CAP)
    list_price = int(decision.prices.iloc[0]["price_fen"])
    customers = pd.DataFrame(
        {
            "user_id": range(len(users)),
            "membership_tier": [u[2] for u in users],
            "is_new_user": [u[1] > 0.5 for u in users],
            "rfml_segment": [None] * len(users),
            "user_spend_history": [u[0] for u in users],
            "user_price_sensitivity": [u[1] for u in users],
        }
    )
    lines = pd.DataFrame(
        {
            "order_id": range(len(users)),
            "user_id": range(len(users)),
            "quantity": 1,
            "list_price_fen": list_price,
        }
    )
    paid = apply_benefits(lines, customers)
    assert (paid["list_price_fen"] == list_price).all()
    assert (paid["pay_fen"] <= paid["list_amount_fen"]).all()
    # the user features cannot be handed to the list-price layer at all
    with pytest.raises(ComplianceConfigError):
        optimize_prices(offer.assign(user_spend_history=users[0][0]), NO_CAP)
    assert optimize_prices(offer, NO_CAP).prices.iloc[0]["price_fen"] == list_price


class _Sink:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def extend(self, records: Any) -> None:
        self.records.extend(records)


def test_audit_records_are_float_free_and_appended() -> None:
    sink = _Sink()
    offers = pd.concat([_offer(), _offer(store_id=2, elasticity=-3.0)], ignore_index=True)
    decision = optimize_prices(offers, NO_CAP, model_versions={"demand": "xgb-abc"}, ledger=sink)
    assert sink.records == list(decision.audit_records)
    assert len(sink.records) == 2

    def floats(value: Any) -> bool:
        if isinstance(value, dict):
            return any(floats(v) for v in value.values())
        return isinstance(value, float)

    assert not any(floats(r) for r in sink.records)
    json.dumps(sink.records)
    assert sink.records[0]["model_versions"] == {"demand": "xgb-abc"}
    assert sink.records[1]["key"] == {"store_id": "2", "item_id": "oj"}


def test_audit_goes_into_the_ledger_with_inclusion_proofs() -> None:
    led = Ledger()
    offers = pd.concat(
        [_offer(store_id=s, elasticity=-2.0 - 0.3 * s) for s in range(5)], ignore_index=True
    )
    decision = optimize_prices(offers, NO_CAP, ledger=led, model_versions={"demand": "v1"})
    assert len(led) == 5
    led.verify()
    head = led.head()
    for index in (0, 3):
        record = decision.audit_records[index]
        assert led.entries[index].record == record
        assert record["type"] == "PRICE_DECISION"
        assert record["price_fen"] == int(decision.prices.loc[index, "price_fen"])
        proof = led.inclusion_proof(index)
        assert verify_inclusion(record, proof, head)
        # another decision, or the same one with its price changed, is not included
        assert not verify_inclusion(decision.audit_records[index + 1], proof, head)
        assert not verify_inclusion({**record, "price_fen": record["price_fen"] + 1}, proof, head)
    # a later batch extends the same chain, and the old head stays provable
    optimize_prices(_offer(store_id=9), NO_CAP, ledger=led)
    assert len(led) == 6
    assert verify_inclusion(decision.audit_records[0], led.inclusion_proof(0), led.head())
    assert verify_consistency(led.consistency_proof(5), head, led.head())


def test_many_rows_vectorised() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    offers = pd.DataFrame(
        {
            "store_id": np.arange(n),
            "item_id": "p",
            "current_price_fen": rng.integers(100, 1000, n),
            "unit_cost_fen": rng.integers(50, 500, n),
            "baseline_units": rng.uniform(0, 100, n),
            "elasticity": rng.uniform(-4, -1.1, n),
        }
    )
    out = optimize_prices(offers, NO_CAP).prices
    assert len(out) == n
    assert out["expected_profit_fen"].dtype == np.int64


def test_columns_and_the_earlier_keywords_give_the_same_decision() -> None:
    mine = pd.concat(
        [_offer(store_id=s, elasticity=-2.0 - 0.3 * s) for s in range(3)], ignore_index=True
    ).rename(columns={"store_id": "shop", "item_id": "sku"})
    new = optimize_prices(mine, NO_CAP, columns={"store_id": "shop", "item_id": "sku"})
    assert list(new.prices.columns[:2]) == ["store_id", "item_id"]
    assert new.audit_records[0]["key"] == {"store_id": "0", "item_id": "oj"}
    with pytest.warns(FutureWarning, match=r"keys=\['store_id', 'item_id'\]"):
        old = optimize_prices(
            mine.rename(columns={"shop": "store"}),
            NO_CAP,
            id_columns=("store", "sku"),
            product_column="sku",
        )
    pd.testing.assert_frame_equal(old.prices, new.prices)
    assert old.audit_records == new.audit_records
    with pytest.warns(FutureWarning, match="earlier default"):
        earlier = optimize_prices(mine.rename(columns={"shop": "store", "sku": "product"}), NO_CAP)
    pd.testing.assert_frame_equal(earlier.prices, new.prices)
    with pytest.raises(ConfigError, match="accepted keys"):
        optimize_prices(mine, NO_CAP, columns={"product": "sku"})


def test_trailing_max_price_reads_canonical_names_and_the_earlier_keywords() -> None:
    from chainmall.pricing import trailing_max_price

    history = pd.DataFrame(
        {
            "store": [1, 1, 1, 2],
            "brand": ["a", "a", "a", "a"],
            "week": [1, 2, 3, 2],
            "price": [300, 320, 999, 280],
        }
    )
    names = {"store_id": "store", "item_id": "brand", "ds": "week", "price_fen": "price"}
    cap = trailing_max_price(history, columns=names, at=3, window=2)
    assert cap.columns.tolist() == ["store_id", "item_id", "max_price_lookback_fen"]
    assert cap["max_price_lookback_fen"].tolist() == [320, 280]  # week 3 is not before at=3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = trailing_max_price(
            history, keys=["store", "brand"], period="week", price="price", at=3, window=2
        )
    assert [str(w.message).split("; ")[1] for w in caught] == [
        "pass columns={'ds': 'week'} instead",
        "pass columns={'price_fen': 'price'} instead",
    ]
    assert old.columns.tolist() == ["store", "brand", "max_price_lookback_fen"]
    assert old["max_price_lookback_fen"].tolist() == [320, 280]
