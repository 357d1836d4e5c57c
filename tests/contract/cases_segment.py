"""Contract cases of ``chainmall.segment``."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from chainmall.segment import (
    BetaGeo,
    BetaGeoBetaBinom,
    CustomerValueModel,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    RFMLConfig,
    ShiftedBetaGeometric,
    ValueConfig,
    assign_segments,
    churn_alerts,
    customer_lifetime_value,
    score,
    segment_customers,
    summarize,
    survival_table,
)
from chainmall.segment.published import donations_1995
from tests.contract.data import transactions
from tests.contract.spec import Arg, Case, Col
from tests.segment.conftest import simulated_log

FRAME = Arg("frame")
TRANSACTIONS = {"user_id": Col("id"), "ts": Col("time"), "amount_fen": Col("money", ge=0)}
PATTERNS = {"x": Col("number", ge=0), "t_x": Col("number", ge=0), "T": Col("number", ge=0)}
UTC = RFMLConfig(timezone="UTC")


@cache
def _log() -> pd.DataFrame:
    return simulated_log(150, 0)


@cache
def _summary() -> pd.DataFrame:
    return summarize(_log(), UTC).customers


@cache
def _fitted() -> tuple[ParetoNBD, GammaGamma]:
    return ParetoNBD().fit(_summary()), GammaGamma().fit(_summary())


@cache
def _value_model() -> CustomerValueModel:
    return CustomerValueModel(_VALUE).fit(_log())


_VALUE = ValueConfig(
    rfml=UTC, families=("BetaGeo",), ranker_grid=(), min_train_customers=10, validation_days=28
)


def _check_summary(result: object, args: dict[str, object]) -> None:
    customers = result.customers  # type: ignore[attr-defined]
    frame = args["transactions"]
    assert isinstance(frame, pd.DataFrame)
    assert set(customers["user_id"]) == set(frame["user_id"])
    assert customers["monetary_fen"].sum() == frame["amount_fen"].sum()


def _check_probabilities(values: pd.Series) -> None:
    assert np.isfinite(values).all() and values.between(0, 1).all(), "p_buy outside [0, 1]"


def _transactions_case(name: str, call: object) -> Case:
    return Case(
        name,
        build=lambda: {"transactions": transactions()},
        call=call,  # type: ignore[arg-type]
        columns={"transactions": TRANSACTIONS},
        args={"transactions": FRAME},
        check=_check_summary,
    )


def _btyd_fit(cls: type) -> Case:
    return Case(
        f"segment.{cls.__name__}.fit",
        build=lambda: {"customers": _summary().copy()},
        call=lambda a: cls().fit(a["customers"]),
        columns={"customers": PATTERNS},
        args={"customers": FRAME},
    )


CASES = [
    _transactions_case("segment.summarize", lambda a: summarize(a["transactions"], UTC)),
    _transactions_case(
        "segment.segment_customers", lambda a: segment_customers(a["transactions"], UTC)
    ),
    Case(
        "segment.churn_alerts",
        build=lambda: {"transactions": transactions(), "now": "2024-05-01"},
        call=lambda a: churn_alerts(a["transactions"], a["now"], UTC),
        columns={"transactions": TRANSACTIONS},
        args={"transactions": FRAME, "now": Arg("text")},
    ),
    Case(
        "segment.score",
        build=lambda: {"customers": _summary().copy()},
        call=lambda a: score(a["customers"], UTC),
        columns={
            "customers": {
                "recency_days": Col("number", ge=0),
                "n_purchases": Col("number", ge=0),
                "monetary_fen": Col("number"),
                "repeat_per_month": Col("number", nullable=True),
            }
        },
        args={"customers": Arg("frame", empty_ok=True)},
    ),
    Case(
        "segment.assign_segments",
        build=lambda: {"scored": score(_summary(), UTC)},
        call=lambda a: assign_segments(a["scored"], UTC),
        columns={"scored": {"r_score": Col("count", ge=1), "fm_score": Col("count", ge=1)}},
        args={"scored": Arg("frame", empty_ok=True)},
    ),
    _btyd_fit(BetaGeo),
    _btyd_fit(ModifiedBetaGeo),
    _btyd_fit(ParetoNBD),
    Case(
        "segment.ParetoNBD.expected_purchases",
        build=lambda: {"t": 4.0, "customers": _summary().copy()},
        call=lambda a: _fitted()[0].expected_purchases(a["t"], a["customers"]),
        columns={"customers": PATTERNS},
        args={"t": Arg("number", ge=0), "customers": FRAME},
    ),
    Case(
        "segment.BetaGeoBetaBinom.fit",
        build=lambda: {"customers": donations_1995()},
        call=lambda a: BetaGeoBetaBinom().fit(a["customers"], weight="count"),
        columns={"customers": {**PATTERNS, "count": Col("number", ge=0)}},
        args={"customers": FRAME},
    ),
    Case(
        "segment.GammaGamma.fit",
        build=lambda: {"customers": _summary().copy()},
        call=lambda a: GammaGamma().fit(a["customers"]),
        columns={
            "customers": {"x": Col("number", ge=0), "mean_repeat_spend_fen": Col("number", ge=0)}
        },
        args={"customers": FRAME},
    ),
    Case(
        "segment.customer_lifetime_value",
        build=lambda: {
            "customers": _summary().copy(),
            "periods": 6,
            "period_length": 4.348,
            "discount_rate": 0.01,
        },
        call=lambda a: customer_lifetime_value(
            *_fitted(),
            a["customers"],
            periods=a["periods"],
            period_length=a["period_length"],
            discount_rate=a["discount_rate"],
        ),
        columns={"customers": {**PATTERNS, "mean_repeat_spend_fen": Col("number", ge=0)}},
        args={
            "customers": FRAME,
            "periods": Arg("count", ge=1),
            "period_length": Arg("number", gt=0),
            "discount_rate": Arg("number", ge=0),
        },
    ),
    Case(
        "segment.survival_table",
        build=lambda: {"survivors": [1000, 631, 468, 382, 326]},
        call=lambda a: survival_table(a["survivors"]),
        args={"survivors": Arg("counts", ge=0)},
    ),
    Case(
        "segment.ShiftedBetaGeometric.fit",
        build=lambda: {"members": survival_table([1000, 631, 468, 382, 326, 289])},
        call=lambda a: ShiftedBetaGeometric().fit(a["members"], weight="count"),
        columns={
            "members": {
                "periods": Col("number", ge=1),
                "churned": Col("flag"),
                "count": Col("number", ge=0),
            }
        },
        args={"members": FRAME},
    ),
    Case(
        "segment.CustomerValueModel.fit",
        build=lambda: {"transactions": _log().copy()},
        call=lambda a: CustomerValueModel(_VALUE).fit(a["transactions"]),
        columns={"transactions": TRANSACTIONS},
        args={"transactions": FRAME},
    ),
    Case(
        "segment.CustomerValueModel.predict",
        build=lambda: {"horizon": 4.0},
        call=lambda a: _value_model().predict(a["horizon"]),
        args={"horizon": Arg("number", ge=0)},
        check=lambda result, args: _check_probabilities(result["p_buy"]),
    ),
]

RESULT_TYPES = {"RFMLSummary": "result of summarize / segment_customers"}
EXEMPT = {"load_model": "reads a file: tests/contract/test_model_files.py"}
