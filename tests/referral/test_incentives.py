"""Part 2 (R7-R10): energy, badges, uplift, TCV, partners, dividend; golden and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings

from chainmall.referral import (
    Bound,
    Engagement,
    Hold,
    IncentiveConfig,
    MonthClose,
    OrderLine,
    OrderPaid,
    OrderReceived,
    ReferralConfig,
    RefundSucceeded,
    Registered,
    Release,
    SettlementTick,
    badges,
    close_months,
    events_to_frame,
    fold,
    settle,
)
from chainmall.referral.incentives import largest_remainder
from chainmall.referral.policy import Badge
from tests.referral.referral_streams import configs, sparse_ids, streams, text

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2025, 1, 6, 2, tzinfo=UTC)  # 10:00 in Shanghai
DAY = timedelta(days=1)
CASH = ["COMMISSION", "CAPPED", "BLOCKED_DEPTH", "FORFEITED", "REVERSAL", "CLAWBACK"]


def _both(events: list[Any], config: ReferralConfig) -> Any:
    frame = events_to_frame(events)
    slow, fast = fold(frame, config), settle(frame, config)
    pd.testing.assert_frame_equal(slow.entries, fast.entries, check_categorical=False)
    pd.testing.assert_frame_equal(slow.energy, fast.energy)
    return fast


def test_energy_points_golden() -> None:
    """User 2 shares 5 times on the app on one day and once on WeChat: 3 × 50 = 150
    (daily cap 3; WeChat 0). Their order settles at the tick 14 days after receipt: +100;
    a comment on the received line: +30, a second comment: rejected. A refund after
    settlement claws the order points back: −100. Net 150 + 30 + 100 − 100 = 180."""
    ev: list[Any] = [Registered(1, T0, 1), Registered(2, T0, 2), Bound(3, T0, 2, 1)]
    ev += [Engagement(4 + i, T0 + timedelta(minutes=i), 2, "SHARE", "APP") for i in range(5)]
    ev += [Engagement(9, T0, 2, "SHARE", "WECHAT")]
    ev += [OrderPaid(10, T0, 500, 2, (OrderLine(7, 10_000),)), OrderReceived(11, T0 + DAY, 500)]
    ev += [Engagement(12, T0 + DAY, 2, "COMMENT", None, 7)]
    ev += [Engagement(13, T0 + DAY, 2, "COMMENT", None, 7)]
    ev += [SettlementTick(14, T0 + 15 * DAY), RefundSucceeded(15, T0 + 16 * DAY, 1, 7, 1_000)]
    result = _both(ev, ReferralConfig())
    points = result.energy.groupby("source", observed=True)["points"].sum().to_dict()
    assert points == {"SHARE": 150, "COMMENT": 30, "ORDER": 100, "CLAWBACK": -100}
    assert result.rejected["reason"].tolist() == ["DUPLICATE_COMMENT"]
    assert badges(result).set_index("user_id").loc[2, "points"] == 180


def test_badge_uplift_golden() -> None:
    """Inviter 1 holds 6 shares × 50 = 300 points = GOLD (threshold 130 here, +300 bp).
    Invitee 2 pays 10,000 fen: direct = floor(10,000 × 2000 / 10⁴) = 2,000, uplifted
    floor(2,000 × 10,300 / 10⁴) = 2,060 fen, uplift_bp 300 snapshotted on the entry.
    Shares after the order do not re-price it. Without the switch: 2,000."""
    low = (
        Badge(name="BRONZE", min_points=50, uplift_bp=100),
        Badge(name="GOLD", min_points=130, uplift_bp=300),
        Badge(name="DIAMOND", min_points=1_000, uplift_bp=500),
    )
    ev: list[Any] = [Registered(1, T0, 1), Registered(2, T0, 2), Bound(3, T0, 2, 1)]
    ev += [OrderPaid(4, T0, 400, 1, (OrderLine(1, 100),))]  # 1 becomes a member
    ev += [Engagement(5 + i, T0 + i * DAY, 1, "SHARE", "APP") for i in range(3)]
    ev += [Engagement(8 + i, T0 + 3 * DAY + i * DAY, 1, "SHARE", "H5") for i in range(3)]
    ev += [OrderPaid(11, T0 + 9 * DAY, 401, 2, (OrderLine(2, 10_000),))]
    ev += [Engagement(12 + i, T0 + 10 * DAY, 1, "SHARE", "APP") for i in range(3)]
    config = ReferralConfig(badge_uplift_enabled=True, incentives=IncentiveConfig(badges=low))
    on = _both(ev, config)
    direct = on.entries[on.entries["kind"] == "COMMISSION"].iloc[0]
    assert (direct["amount_fen"], direct["uplift_bp"], direct["rate_bp"]) == (2_060, 300, 2_000)
    off = _both(ev, config.replace(badge_uplift_enabled=False))
    assert off.entries.loc[off.entries["kind"] == "COMMISSION", "amount_fen"].tolist() == [2_000]


def _tcv_shop(
    dividend: bool = False, pool: int = 1_000, ids: Any = None
) -> tuple[Any, pd.DataFrame]:
    """A(1) ← B(2) ← C(3): C pays 10,000 fen on 6 Jan, received 7 Jan, settled by the
    tick on 25 Jan; B pays 20,000 on 8 Jan. Months close on 20 Feb (Jan) and 20 Mar (Feb).
    ``ids`` turns every id into another (e.g. text)."""
    ev: list[Any] = [Registered(1, T0, 1), Registered(2, T0, 2), Registered(3, T0, 3)]
    ev += [Bound(4, T0, 2, 1), Bound(5, T0, 3, 2)]
    ev += [OrderPaid(6, T0, 10, 1, (OrderLine(10, 1_000),))]
    ev += [OrderPaid(7, T0, 11, 3, (OrderLine(11, 10_000),)), OrderReceived(8, T0 + DAY, 11)]
    ev += [OrderPaid(9, T0 + 2 * DAY, 12, 2, (OrderLine(12, 20_000),))]
    ev += [OrderReceived(10, T0 + 3 * DAY, 12), SettlementTick(11, T0 + 19 * DAY)]
    ev += [MonthClose(12, datetime(2025, 2, 20, tzinfo=UTC), "2025-01")]
    ev += [MonthClose(13, datetime(2025, 3, 20, tzinfo=UTC), "2025-02")]
    inc = IncentiveConfig(dividend_enabled=dividend, dividend_pool_fen=pool)
    config = ReferralConfig(incentives=inc)
    frame = events_to_frame(ev if ids is None else sparse_ids(ev, ids))
    return close_months(settle(frame, config), frame, config), frame


def test_tcv_golden() -> None:
    """January: TCV(A) = contrib(A, B) + contrib(A, C) = 20,000 + 10,000 = 30,000;
    TCV(B) = contrib(B, C) = 10,000. February: nobody buys, so each contribution decays
    by 30%: A = floor(20,000 × 0.7) + floor(10,000 × 0.7) = 21,000; B = 7,000."""
    result, _ = _tcv_shop()
    tcv = result.tcv.set_index(["month", "user_id"])["tcv_fen"].to_dict()
    assert tcv == {
        ("2025-01", 1): 30_000,
        ("2025-01", 2): 10_000,
        ("2025-02", 1): 21_000,
        ("2025-02", 2): 7_000,
    }
    assert result.dividend.empty  # off by default


def test_month_close_with_text_ids() -> None:
    """The same shop with text ids: the same figures, under the caller's ids."""
    numbers, _ = _tcv_shop(dividend=True)
    texts, _ = _tcv_shop(dividend=True, ids=text)
    for frame in ("tcv", "dividend", "partners"):
        expected = getattr(numbers, frame).assign(
            user_id=lambda f: [text(int(u)) for u in f["user_id"]]
        )
        pd.testing.assert_frame_equal(
            getattr(texts, frame).reset_index(drop=True),
            expected.reset_index(drop=True),
            check_dtype=False,
        )


def test_dividend_golden() -> None:
    """January, eligible N = 2 (A 30,000, B 10,000), K = ceil(0.1 × 2) = 1: A takes the
    whole 1,000-fen pool. Largest remainder: 1,000 over weights (1, 1, 1) → 334, 333, 333
    (floors 333 each, the spare fen to the smallest id)."""
    result, _ = _tcv_shop(dividend=True)
    jan = result.dividend[result.dividend["month"] == "2025-01"]
    assert jan[["user_id", "amount_fen"]].values.tolist() == [[1, 1_000]]
    assert result.platform_returned["returned_fen"].tolist() == [0, 0]
    split = largest_remainder(1_000, np.array([1, 1, 1]), np.array([9, 4, 7]))
    assert split.tolist() == [333, 334, 333]


def test_partner_after_three_settled_repurchases() -> None:
    """Member A's invitee buys 4 orders of 6,000 fen: the first is not a repurchase;
    orders 2-4 settle at the tick 20 days later, so A becomes PARTNER at that tick (seq 20).
    The invitee itself has no subtree and stays MEMBER."""
    ev: list[Any] = [Registered(1, T0, 1), Registered(2, T0, 2), Bound(3, T0, 2, 1)]
    ev += [OrderPaid(4, T0, 49, 1, (OrderLine(49, 100),))]
    for k in range(4):
        ev += [OrderPaid(5 + 2 * k, T0, 50 + k, 2, (OrderLine(50 + k, 6_000),))]
        ev += [OrderReceived(6 + 2 * k, T0, 50 + k)]
    ev += [SettlementTick(20, T0 + 20 * DAY)]
    frame = events_to_frame(ev)
    result = close_months(settle(frame), frame)
    assert result.partners.values.tolist() == [[1, 20]]


def test_premature_close_is_rejected() -> None:
    """January ends 31 Jan 16:00 UTC; + 14 days: a close on 10 Feb is PREMATURE_CLOSE."""
    ev: list[Any] = [
        Registered(1, T0, 1),
        MonthClose(2, datetime(2025, 2, 10, tzinfo=UTC), "2025-01"),
    ]
    frame = events_to_frame(ev)
    result = settle(frame)
    assert result.rejected["reason"].tolist() == ["PREMATURE_CLOSE"]
    assert close_months(result, frame).tcv.empty


def _strip(events: list[Any], kinds: tuple[type, ...]) -> list[Any]:
    return [e for e in events if not isinstance(e, kinds)]


def _increasing(events: list[Any]) -> list[Any]:
    """The events whose seq exceeds every earlier one's.

    The others are rejected as stale either way, but one that shares its seq with a
    stripped event would be stale only in the unstripped run, so properties that
    compare a stream with and without some events use this part of the stream.
    Seq validation has its own tests.
    """
    kept: list[Any] = []
    for event in events:
        if not kept or event.seq > kept[-1].seq:
            kept.append(event)
    return kept


@FAST
@given(streams(), configs())
def test_engagement_never_changes_cash(events: list[Any], config: ReferralConfig) -> None:
    """With the uplift off, engagement events change no cash entry."""
    config = config.replace(badge_uplift_enabled=False)
    events = _increasing(events)
    with_points = settle(events_to_frame(events), config)
    without = settle(events_to_frame(_strip(events, (Engagement,))), config)
    pd.testing.assert_frame_equal(with_points.entries, without.entries, check_categorical=False)


@FAST
@given(streams(), configs())
def test_uplift_stays_within_caps(events: list[Any], config: ReferralConfig) -> None:
    """Uplifted entries are exactly floor(floor(base × rate) × (1 + u)), u <= 5%, and the
    per-line ratio cap and the monthly cap still hold."""
    result = settle(events_to_frame(events), config.replace(badge_uplift_enabled=True))
    e = result.entries
    direct = e[(e["kind"] == "COMMISSION") & (e["reward_type"] == "DIRECT")]
    expect = (
        (direct["base_fen"] * direct["rate_bp"] // 10_000)
        * (10_000 + direct["uplift_bp"])
        // 10_000
    )
    assert (direct["gross_fen"] == expect).all() and (direct["uplift_bp"] <= 500).all()
    paid = e[e["kind"] == "COMMISSION"]
    per_line = paid.groupby("line_id")["amount_fen"].sum()
    base = paid.groupby("line_id")["base_fen"].first()
    assert (per_line <= base * config.max_payout_ratio_bp // 10_000).all()
    money = e[e["kind"].isin(["COMMISSION", "REVERSAL", "CLAWBACK", "AWAIT_REVERSAL"])]
    credited = money.groupby(["user_id", money["month"].astype(str)])["amount_fen"].sum()
    assert (credited <= config.monthly_cap_fen).all()


@FAST
@given(streams(), configs())
def test_holds_never_change_amounts(events: list[Any], config: ReferralConfig) -> None:
    """Holds delay SETTLE entries only: rewards per entry and refunds per line are equal."""
    events = [e for e in events if type(e).__name__ != "Withdrawal"]
    events = _increasing(events)
    held = settle(events_to_frame(events), config)
    free = settle(events_to_frame(_strip(events, (Hold, Release))), config)

    def rewards(r: Any) -> pd.DataFrame:
        e = r.entries
        keep = e[e["kind"].isin(CASH[:4])][["kind", "user_id", "line_id", "amount_fen"]]
        return keep.astype(str).reset_index(drop=True)

    def reversed_(r: Any) -> dict[Any, int]:
        e = r.entries
        back = e[e["kind"].isin(["REVERSAL", "CLAWBACK", "AWAIT_REVERSAL"])]
        return back.groupby(["user_id", "line_id"])["amount_fen"].sum().to_dict()

    pd.testing.assert_frame_equal(rewards(held), rewards(free))
    assert reversed_(held) == reversed_(free)
    settled = {
        name: r.entries[r.entries["kind"] == "SETTLE"]["amount_fen"].sum()
        for name, r in (("held", held), ("free", free))
    }
    assert settled["held"] <= settled["free"]  # a hold delays; refunds meanwhile shrink it


def test_dividend_never_exceeds_budget_or_cap() -> None:
    """A 10,000,000-fen pool goes to A alone (K = 1) but the cap leaves A
    5,000,000 − 4,000 (A's direct commission on B's 20,000) = 4,996,000 in January:
    the rest returns to the platform; paid + returned = pool."""
    result, _ = _tcv_shop(dividend=True, pool=10_000_000)
    config_cap = ReferralConfig().monthly_cap_fen
    assert (result.dividend["amount_fen"] <= config_cap).all()
    for row in result.platform_returned.to_dict("records"):
        assert row["paid_fen"] + row["returned_fen"] == row["pool_fen"]
        paid = result.dividend.loc[result.dividend["month"] == row["month"], "amount_fen"]
        assert paid.sum() == row["paid_fen"] <= row["pool_fen"]
    jan = result.platform_returned.set_index("month").loc["2025-01"]
    assert (jan["paid_fen"], jan["returned_fen"]) == (4_996_000, 5_004_000)
