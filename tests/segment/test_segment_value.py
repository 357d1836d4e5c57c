"""The default customer-value model: inner-split choices, forecasts, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import roc_auc_score

from chainmall.exceptions import DataValidationError, NotFittedError
from chainmall.segment import (
    CustomerValueModel,
    ParetoNBD,
    RFMLConfig,
    ValueConfig,
    segment_customers,
)
from chainmall.segment.value import _auc, quantile_map
from tests.conftest import require_file
from tests.segment.conftest import simulated_log

AS_OF = "2024-08-22"  # day 599 of the simulated log: 131 days of holdout remain
SMALL = ValueConfig(
    rfml=RFMLConfig(as_of=AS_OF, timezone="UTC", time_unit="week"),
    ranker_grid=((3, 50), (7, 50)),
    max_iter=60,
)


@pytest.fixture(scope="module")
def shop_log() -> pd.DataFrame:
    return simulated_log(2500, seed=11)


@pytest.fixture(scope="module")
def fitted(shop_log: pd.DataFrame) -> CustomerValueModel:
    return CustomerValueModel(SMALL).fit(shop_log)


values = arrays(np.float64, st.integers(1, 40), elements=st.floats(0, 50))


@settings(max_examples=60, deadline=None)
@given(values, st.data())
def test_quantile_map_keeps_the_total_and_follows_the_score(
    reference: np.ndarray, data: st.DataObject
) -> None:
    score = data.draw(arrays(np.int64, len(reference), elements=st.integers(0, 5)))
    mapped = quantile_map(reference, score)
    assert mapped.sum() == pytest.approx(reference.sum(), rel=1e-9, abs=1e-9)
    order = np.argsort(score, kind="stable")
    assert np.all(np.diff(mapped[order]) >= -1e-9)  # a higher score never gets less
    for value in np.unique(score):
        tied = mapped[score == value]
        np.testing.assert_allclose(tied, tied[0])  # equal scores, equal forecasts


def test_quantile_map_without_ties_is_a_permutation() -> None:
    rng = np.random.default_rng(0)
    reference, score = rng.gamma(0.5, 1.0, 200), rng.random(200)
    mapped = quantile_map(reference, score)
    np.testing.assert_array_equal(np.sort(mapped), np.sort(reference))
    assert np.argmax(mapped) == np.argmax(score)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 60), st.integers(0, 2**31 - 1))
def test_auc_matches_sklearn_with_ties(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.random(n) < 0.4
    labels[:2] = [True, False]
    score = rng.integers(0, 4, n).astype(float)
    assert _auc(labels, score) == pytest.approx(roc_auc_score(labels, score))
    assert np.isnan(_auc(np.zeros(n, bool), score))


def test_forecast_columns_and_identities(fitted: CustomerValueModel) -> None:
    forecast = fitted.predict(13)
    assert list(forecast.columns) == [
        "user_id",
        "p_buy",
        "expected_purchases",
        "spend_per_purchase_fen",
        "value_fen",
    ]
    assert len(forecast) == len(fitted.customers_) and forecast.user_id.is_unique
    assert forecast.p_buy.between(0, 1).all() and (forecast.expected_purchases >= 0).all()
    np.testing.assert_allclose(
        forecast.value_fen, forecast.expected_purchases * forecast.spend_per_purchase_fen
    )
    longer = fitted.predict(26)
    assert (longer.p_buy >= forecast.p_buy - 1e-9).all()
    assert longer.expected_purchases.sum() > forecast.expected_purchases.sum()
    nothing = fitted.predict(0)
    np.testing.assert_allclose(nothing.expected_purchases, 0.0, atol=1e-9)
    np.testing.assert_allclose(nothing.p_buy, 0.0, atol=1e-9)


def test_choices_are_the_best_inner_candidates(fitted: CustomerValueModel) -> None:
    table = fitted.selection_.set_index(["output", "candidate"])["value"]
    buys, counts = table["buys"], table["count"]
    assert {"btyd", "btyd_expected", "rfm", "ranker_3x50", "ranker_7x50"} <= set(buys.index)
    assert buys[fitted.buys_method_] == buys.max()
    assert counts[fitted.count_method_] == counts.min()
    assert fitted.family_mae_[fitted.family_] == min(fitted.family_mae_.values())
    assert fitted.as_of_ == pd.Timestamp(AS_OF)


def test_level_comes_from_the_family(fitted: CustomerValueModel) -> None:
    """Re-ranked and plain BTYD forecasts share the family's total for any horizon."""
    forecast = fitted.predict(20)
    base = fitted.purchase_model_.expected_purchases(20, fitted.customers_)
    if not fitted.count_method_.endswith("_ratio"):
        assert forecast.expected_purchases.sum() == pytest.approx(base.sum(), rel=1e-9)
    no_buy = fitted.purchase_model_.p_no_purchase(20, fitted.customers_)
    assert forecast.p_buy.sum() == pytest.approx((1 - no_buy).sum(), rel=1e-9)


@pytest.mark.slow
def test_fit_is_deterministic_and_leaves_the_input_alone(
    fitted: CustomerValueModel, shop_log: pd.DataFrame
) -> None:
    before = shop_log.copy()
    first = fitted.predict(13)
    pd.testing.assert_frame_equal(CustomerValueModel(SMALL).fit(shop_log).predict(13), first)
    pd.testing.assert_frame_equal(shop_log, before)
    # row order changes only the optimiser's summation order
    shuffled = CustomerValueModel(SMALL).fit(shop_log.sample(frac=1.0, random_state=3))
    merged = first.merge(shuffled.predict(13), on="user_id", suffixes=("", "_again"))
    assert len(merged) == len(first)
    np.testing.assert_allclose(merged.p_buy, merged.p_buy_again, rtol=1e-3)
    np.testing.assert_allclose(
        merged.expected_purchases, merged.expected_purchases_again, rtol=1e-3
    )


def test_beats_or_ties_btyd_and_rfm_on_a_later_holdout(
    fitted: CustomerValueModel, shop_log: pd.DataFrame
) -> None:
    """On the simulated shop's unseen 131 days the choice does not lose to its parts."""
    later = shop_log[shop_log.ts > pd.Timestamp(AS_OF, tz="UTC")]
    days = later.assign(day=later.ts.dt.floor("D")).groupby("user_id").day.nunique()
    forecast = fitted.predict(131 / 7)
    actual = days.reindex(forecast.user_id, fill_value=0).to_numpy()
    customers = fitted.customers_
    pareto = ParetoNBD().fit(customers).expected_purchases(131 / 7, customers)
    cfg = SMALL.rfml
    scored = segment_customers(shop_log, cfg).customers.set_index("user_id")
    rfm = scored.loc[forecast.user_id, ["r_score", "f_score", "m_score"]].sum(axis=1)
    ours = roc_auc_score(actual > 0, forecast.p_buy)
    assert ours >= roc_auc_score(actual > 0, rfm) - 0.005
    assert ours >= roc_auc_score(actual > 0, pareto) - 0.005
    mae = np.abs(forecast.expected_purchases - actual).mean()
    assert mae <= np.abs(pareto - actual).mean() * 1.02


def test_errors(fitted: CustomerValueModel, shop_log: pd.DataFrame) -> None:
    with pytest.raises(NotFittedError):
        CustomerValueModel().predict(10)
    early = SMALL.replace(rfml=SMALL.rfml.replace(as_of="2023-04-01"))
    with pytest.raises(DataValidationError, match="inner time split needs"):
        CustomerValueModel(early).fit(shop_log)
    with pytest.raises(DataValidationError, match="user_id"):
        CustomerValueModel(SMALL).fit(shop_log.drop(columns="user_id"))
    with pytest.raises(DataValidationError, match="horizon"):
        fitted.predict(-1)


def test_persistence_round_trip(fitted: CustomerValueModel, tmp_path: Path) -> None:
    folder = fitted.save(tmp_path / "value")
    again = CustomerValueModel.load(folder)
    pd.testing.assert_frame_equal(again.predict(13), fitted.predict(13))
    assert again.buys_method_ == fitted.buys_method_ and again.family_ == fitted.family_
    arrays_file = folder / "arrays.npz"
    content = bytearray(arrays_file.read_bytes())
    content[len(content) // 2] ^= 0xFF
    arrays_file.write_bytes(bytes(content))
    with pytest.raises(DataValidationError, match="hash"):
        CustomerValueModel.load(folder)


@pytest.mark.slow
@pytest.mark.realdata
def test_cdnow_master_buys_again_beats_btyd_and_rfm(data_home: Path) -> None:
    """Holdout AUC of p_buy above Pareto/NBD's and the RFM quintile sum's (measured .770)."""
    from chainmall.datasets import load_cdnow

    require_file(data_home, "cdnow/CDNOW_master.txt")
    raw = load_cdnow("master", data_home=data_home)
    frame = raw.rename(columns={"customer_id": "user_id"}).assign(
        amount_fen=np.rint(raw.amount * 100).astype(np.int64)
    )
    cfg = ValueConfig(rfml=RFMLConfig(as_of="1997-09-30", timezone="UTC", time_unit="week"))
    model = CustomerValueModel(cfg).fit(frame)
    forecast = model.predict(39)
    later = frame[frame.ts > pd.Timestamp("1997-09-30", tz="UTC")]
    counts = later.groupby("user_id").ts.nunique()
    actual = counts.reindex(forecast.user_id, fill_value=0).to_numpy()
    customers = model.customers_
    pareto = ParetoNBD().fit(customers).expected_purchases(39, customers)
    scored = segment_customers(frame, cfg.rfml).customers
    rfm = (scored.r_score + scored.f_score + scored.m_score).to_numpy()
    ours = roc_auc_score(actual > 0, forecast.p_buy)
    assert ours > roc_auc_score(actual > 0, pareto)
    assert ours > roc_auc_score(actual > 0, rfm)


def test_config_checks_and_schema() -> None:
    from chainmall.exceptions import ConfigError

    with pytest.raises(ConfigError, match="ranker_grid"):
        ValueConfig(ranker_grid=((1, 5),))
    with pytest.raises(ConfigError, match="did you mean 'validation_days'"):
        ValueConfig.from_dict({"validaton_days": 30})
    schema = ValueConfig.json_schema()
    assert "validation_days" in schema["properties"]
    assert ValueConfig.from_dict(SMALL.to_dict()) == SMALL
