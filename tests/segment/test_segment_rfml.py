"""Summary kernel: hand-worked golden example, rules, bad input, properties, CDNOW."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import ColumnNotFoundError, DataValidationError
from chainmall.segment import RFMLConfig, segment_customers, summarize
from tests.conftest import require_file
from tests.segment.conftest import log

UTC_WEEK = RFMLConfig(as_of="2024-01-29", timezone="UTC", time_unit="week")


def test_golden_summary(small_log: pd.DataFrame) -> None:
    out = summarize(small_log, UTC_WEEK).customers.set_index("user_id")
    a, b, c = out.loc["a"], out.loc["b"], out.loc["c"]
    assert (a.n_purchases, a.x, a.recency_days, a.tenure_days, a.relationship_days) == (
        3,
        2,
        7,
        28,
        21,
    )
    assert a.t_x == pytest.approx(3.0) and a["T"] == pytest.approx(4.0)
    assert a.monetary_fen == 6500 and a.mean_repeat_spend_fen == pytest.approx(2500.0)
    assert a.mean_gap_days == pytest.approx(10.5)
    assert a.gap_cv == pytest.approx(3.5 / 10.5)  # gaps 7 and 14 days
    assert a.overdue_ratio == pytest.approx(7 / 10.5)
    assert a.repeat_per_month == pytest.approx(2 / 28 * 365.25 / 12)
    assert (b.x, b.t_x, b["T"], b.recency_days) == (0, 0.0, 2.0, 14)
    assert np.isnan(b.mean_gap_days) and np.isnan(b.overdue_ratio) and b.mean_repeat_spend_fen == 0
    assert (c.x, c.mean_gap_days, c.overdue_ratio) == (1, 2.0, 12.0)
    assert np.isnan(c.gap_cv)  # regularity needs >= 3 purchases
    assert c.t_x == pytest.approx(2 / 7)


def test_same_day_uses_config_timezone() -> None:
    # 15:00 and 16:30 UTC are one UTC day but two Shanghai days (23:00 and 00:30)
    frame = log([("a", "2024-01-01 15:00", 100), ("a", "2024-01-01 16:30", 100)])
    utc = summarize(frame, RFMLConfig(timezone="UTC")).customers
    shanghai = summarize(frame, RFMLConfig(timezone="Asia/Shanghai")).customers
    assert utc.n_purchases.tolist() == [1]
    assert shanghai.n_purchases.tolist() == [2]


def test_as_of_ignores_later_events(small_log: pd.DataFrame) -> None:
    result = summarize(small_log, UTC_WEEK.replace(as_of="2024-01-10"))
    assert result.n_rows_after_as_of == 2  # a on Jan 22, b on Jan 15
    assert result.n_rows_after_as_of + 5 == len(small_log)
    assert set(result.customers.user_id) == {"a", "c"}
    assert result.as_of == pd.Timestamp("2024-01-10")


def test_refunds_rejected_by_default_with_hint() -> None:
    frame = log([("a", "2024-01-01 10:00", 1000), ("a", "2024-01-02 10:00", -300)])
    with pytest.raises(DataValidationError, match=r"(?s)amount.*user_id: a.*allow_refunds"):
        summarize(frame)


def test_refund_rule_nets_same_day_and_reports_refunds() -> None:
    frame = log(
        [
            ("a", "2024-01-01 10:00", 1000),
            ("a", "2024-01-01 11:00", -400),  # same day: net 600, still a purchase
            ("a", "2024-01-05 10:00", 800),
            ("a", "2024-01-09 10:00", -300),  # refund-only day: not a purchase
            ("b", "2024-01-03 10:00", -50),  # only refunds: rejected, not dropped
        ]
    )
    result = summarize(frame, RFMLConfig(timezone="UTC", allow_refunds=True))
    a = result.customers.set_index("user_id").loc["a"]
    assert (a.n_purchases, a.monetary_fen, a.refund_fen) == (2, 1400, 300)
    assert a.recency_days == 4  # last purchase Jan 5, data end Jan 9
    assert result.rejected.user_id.tolist() == ["b"]
    assert "non-negative" in result.rejected.reason.iloc[0]


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [
        (lambda f: f.assign(amount_fen=f.amount_fen.astype(float)), "integers"),
        (lambda f: f.assign(user_id=f.user_id.where(f.index != 1)), "missing values"),
        (lambda f: f.assign(ts=f.ts.dt.tz_localize(None)), "timezone-aware"),
        (lambda f: f.rename(columns={"amount_fen": "amt_fen"}), "did you mean 'amt_fen'"),
        (lambda f: f.iloc[:0], "empty"),
    ],
)
def test_bad_input_is_named(small_log: pd.DataFrame, mutate: object, pattern: str) -> None:
    with pytest.raises(DataValidationError, match=pattern):
        summarize(mutate(small_log))  # type: ignore[operator]


def test_missing_column_error_type(small_log: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFoundError):
        summarize(small_log, columns={"user_id": "member"})


def test_nan_amount_is_refused() -> None:
    frame = pd.DataFrame(
        {
            "user_id": ["a", "b"],
            "ts": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
            "amount_fen": pd.array([100, None], dtype="Int64"),
        }
    )
    with pytest.raises(DataValidationError, match="missing values"):
        summarize(frame)


def test_as_of_before_data(small_log: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="before the first transaction"):
        summarize(small_log, UTC_WEEK.replace(as_of="2023-12-01"))


def _reference(frame: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """Plain pandas groupby version of the core measures (UTC days)."""
    days = frame.assign(day=frame.ts.dt.tz_convert("UTC").dt.floor("D").dt.tz_localize(None))
    per_day = days.groupby(["user_id", "day"], as_index=False).amount_fen.sum()
    end = pd.Timestamp(as_of)
    g = per_day.groupby("user_id")
    return pd.DataFrame(
        {
            "n_purchases": g.size(),
            "monetary_fen": g.amount_fen.sum(),
            "recency_days": (end - g.day.max()).dt.days,
            "tenure_days": (end - g.day.min()).dt.days,
        }
    )


rows = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u2", "u3", "u4"]),
        st.integers(0, 40 * 24),  # hour offset
        st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(rows=rows, seed=st.integers(0, 2**16))
def test_matches_pandas_reference_and_ignores_row_order(
    rows: list[tuple[str, int, int]], seed: int
) -> None:
    start = pd.Timestamp("2024-03-01", tz="UTC")
    frame = pd.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "ts": [start + pd.Timedelta(hours=r[1]) for r in rows],
            "amount_fen": np.array([r[2] for r in rows], dtype=np.int64),
        }
    )
    cfg = RFMLConfig(timezone="UTC", as_of="2024-04-15")
    out = summarize(frame, cfg).customers.set_index("user_id").sort_index()
    ref = _reference(frame, "2024-04-15").sort_index()
    pd.testing.assert_frame_equal(out[ref.columns], ref, check_dtype=False)
    shuffled = frame.sample(frac=1.0, random_state=seed)
    again = summarize(shuffled, cfg).customers.set_index("user_id").sort_index()
    pd.testing.assert_frame_equal(again, out)


def test_integer_and_string_ids_agree(small_log: pd.DataFrame) -> None:
    as_int = small_log.assign(user_id=small_log.user_id.map({"a": 7, "b": 3, "c": 10**12}))
    s = summarize(small_log, UTC_WEEK).customers.drop(columns="user_id")
    i = summarize(as_int, UTC_WEEK).customers
    assert i.user_id.dtype == np.int64
    mapped = i.assign(user_id=i.user_id.map({7: "a", 3: "b", 10**12: "c"}))
    left = s.assign(user_id=summarize(small_log, UTC_WEEK).customers.user_id)
    pd.testing.assert_frame_equal(
        left.sort_values("user_id", ignore_index=True),
        mapped[left.columns].sort_values("user_id", ignore_index=True),
    )


@pytest.mark.realdata
def test_cdnow_sample_matches_btyd_convention(data_home: object) -> None:
    from chainmall.datasets import load_cdnow

    require_file(data_home, "cdnow/CDNOW_sample.txt")  # type: ignore[arg-type]
    raw = load_cdnow("sample", data_home=data_home)  # type: ignore[arg-type]
    frame = raw.rename(columns={"customer_id": "user_id"}).assign(
        amount_fen=np.rint(raw.amount * 100).astype(np.int64)
    )
    cfg = RFMLConfig(as_of="1997-09-30", timezone="UTC", time_unit="week")
    out = summarize(frame, cfg)
    customers = out.customers
    assert len(customers) == 2357
    assert int(customers.x.sum()) == 2457  # published calibration repeat transactions
    assert customers["T"].between(27, 39.1).all()
    assert out.rejected.empty


@pytest.mark.slow
@settings(max_examples=1500, deadline=None)
@given(rows=rows, seed=st.integers(0, 2**16))
def test_matches_pandas_reference_many_cases(rows: list[tuple[str, int, int]], seed: int) -> None:
    test_matches_pandas_reference_and_ignores_row_order.hypothesis.inner_test(rows, seed)  # type: ignore[attr-defined]


def test_columns_and_legacy_keywords_give_the_same_canonical_result(
    small_log: pd.DataFrame,
) -> None:
    theirs = small_log.rename(columns={"user_id": "openid", "ts": "paid_at", "amount_fen": "paid"})
    names = {"user_id": "openid", "ts": "paid_at", "amount_fen": "paid"}
    new = segment_customers(theirs, UTC_WEEK, columns=names).customers
    with pytest.warns(FutureWarning, match="columns="):
        old = segment_customers(
            theirs, UTC_WEEK, customer_id="openid", ts="paid_at", amount="paid"
        ).customers
    pd.testing.assert_frame_equal(new, old)
    assert new.columns[0] == "user_id"
    reference = segment_customers(small_log, UTC_WEEK).customers
    pd.testing.assert_frame_equal(new, reference)
    assert list(theirs.columns) == ["openid", "paid_at", "paid"]  # the input is unchanged


def test_log_under_the_earlier_default_names_is_read_with_a_warning(
    small_log: pd.DataFrame,
) -> None:
    earlier = small_log.rename(columns={"user_id": "customer_id", "amount_fen": "amount"})
    with pytest.warns(FutureWarning, match="earlier default"):
        out = summarize(earlier, UTC_WEEK).customers
    pd.testing.assert_frame_equal(out, summarize(small_log, UTC_WEEK).customers)
