"""Spec §4.6 edge cases, bad input, compliance config and ledger use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from chainmall.exceptions import (
    ColumnNotFoundError,
    ComplianceConfigError,
    ComplianceWarning,
    ConfigError,
    DataValidationError,
    LedgerIntegrityError,
)
from chainmall.ledger import verify_inclusion
from chainmall.referral import (
    Bound,
    MonthClose,
    OrderLine,
    OrderPaid,
    OrderReceived,
    ReferralConfig,
    ReferralState,
    RefundSucceeded,
    Registered,
    SettlementTick,
    SlideMode,
    UserBanned,
    Withdrawal,
    apply,
    events_to_frame,
    fold,
    settle,
)
from tests.referral.test_golden import CONFIG, Shop, setup  # noqa: F401  (fixture)


def reasons(shop: Shop) -> list[str]:
    return shop.settle_all().rejected["reason"].tolist()


def test_self_referral_and_loop() -> None:
    shop = Shop()
    shop.user("A")
    shop.user("B", "A")
    shop.user("C", "B")
    shop.events.append(Bound(shop._next(), shop.now, shop.ids["A"], shop.ids["A"]))
    shop.events.append(Bound(shop._next(), shop.now, shop.ids["A"], shop.ids["C"]))
    result = shop.settle_all()
    assert result.rejected["reason"].tolist() == ["BIND_SELF", "BIND_LOOP"]
    assert pd.isna(result.users.set_index("user_id").loc[shop.ids["A"], "inviter_id"])


def test_referrer_not_yet_member_no_back_pay() -> None:
    shop = Shop()
    shop.user("R")
    shop.user("I", "R")
    shop.pay("I", 10_000)  # R is not a member yet: nothing
    shop.join("R")
    shop.pay("I", 10_000)
    result = shop.settle_all()
    comm = result.entries[result.entries["kind"] == "COMMISSION"]
    assert comm["amount_fen"].tolist() == [2_000]
    assert comm["seq"].iloc[0] == shop.seq


def test_invitee_after_breakaway_joins_boss(setup: Shop) -> None:  # noqa: F811
    setup.user("E", "X")
    setup.join("E")
    result = setup.settle_all()
    users = result.users.set_index("user_id")
    assert users.loc[setup.ids["E"], "team_parent_id"] == setup.ids["X"]
    assert users.loc[setup.ids["E"], "invitee_rank"] == 4
    assert result.relation_changes["reason"].astype(str).iloc[-1] == "JOIN"


def test_boss_without_boss_ancestor(setup: Shop) -> None:  # noqa: F811
    users = setup.settle_all().users.set_index("user_id")
    assert pd.isna(users.loc[setup.ids["P1"], "team_parent_id"])


def test_rank_tier_boundary(setup: Shop) -> None:  # noqa: F811
    setup.user("E", "X")
    setup.join("E")
    setup.pay("D", 10_000)
    setup.pay("E", 10_000)
    comm = setup.settle_all().entries
    comm = comm[(comm["kind"] == "COMMISSION") & (comm["base_fen"] == 10_000)]
    assert comm["amount_fen"].tolist() == [2_000, 1_500]
    assert comm["rate_bp"].tolist() == [2_000, 1_500]


def test_banned_inviter(setup: Shop) -> None:  # noqa: F811
    setup.events.append(UserBanned(setup._next(), setup.now, setup.ids["X"]))
    setup.user("Z")
    setup.events.append(Bound(setup._next(), setup.now, setup.ids["Z"], setup.ids["X"]))
    setup.pay("B", 10_000)
    result = setup.settle_all()
    assert result.rejected["reason"].tolist() == ["INVITER_BANNED"]
    mine = result.entries[result.entries["base_fen"] == 10_000]
    assert mine["kind"].astype(str).tolist() == ["FORFEITED", "COMMISSION"]
    assert mine["amount_fen"].tolist() == [0, 500]  # not passed up: A keeps only its team share


def test_bind_after_first_order() -> None:
    shop = Shop()
    shop.user("A")
    shop.user("B")
    shop.join("B")
    shop.events.append(Bound(shop._next(), shop.now, shop.ids["B"], shop.ids["A"]))
    assert reasons(shop) == ["BIND_AFTER_ORDER"]


def test_duplicates_and_unknown(setup: Shop) -> None:  # noqa: F811
    (line,) = setup.pay("D", 10_000)
    order = next(e for e in reversed(setup.events) if isinstance(e, OrderPaid))
    setup.events.append(
        OrderPaid(setup._next(), setup.now, order.order_id, order.user_id, order.lines)
    )
    setup.refund_line(line, 100)
    first_refund = setup.events[-1]
    setup.events.append(
        RefundSucceeded(setup._next(), setup.now, first_refund.refund_id, line, 100)
    )
    setup.events.append(RefundSucceeded(setup._next(), setup.now, 77, 424242, 100))
    setup.refund_line(line, 10_000)
    setup.events.append(OrderReceived(setup._next(), setup.now, 5555))
    setup.events.append(Registered(setup.seq, setup.now, 99))  # repeated seq
    assert reasons(setup) == [
        "DUPLICATE_ORDER",
        "DUPLICATE_REFUND",
        "UNKNOWN_ORDER",
        "REFUND_EXCEEDS_PAID",
        "UNKNOWN_ORDER",
        "STALE_SEQ",
    ]


def test_refund_before_order_is_unknown() -> None:
    shop = Shop()
    shop.user("A")
    shop.events.append(RefundSucceeded(shop._next(), shop.now, 1, 1_001, 100))
    shop.pay("A", 10_000)
    assert reasons(shop) == ["UNKNOWN_ORDER"]


def test_clawback_after_withdrawal_goes_to_receivable(setup: Shop) -> None:  # noqa: F811
    (line,) = setup.pay("D", 10_000)
    setup.events.append(OrderReceived(setup._next(), setup.now, setup.order))
    tick = setup.now + timedelta(days=15)
    setup.events.append(SettlementTick(setup._next(), tick))
    setup.events.append(Withdrawal(setup._next(), tick, setup.ids["X"], 2_000))
    setup.refund_line(line, 10_000)
    (line2,) = setup.pay("D", 20_000)
    setup.events.append(OrderReceived(setup._next(), tick, setup.order))
    setup.events.append(SettlementTick(setup._next(), tick + timedelta(days=15)))
    result = setup.settle_all()
    e = result.entries
    claw = e[e["kind"] == "CLAWBACK"]
    assert claw[["amount_fen", "receivable_fen"]].values.tolist() == [[-2_000, 2_000]]
    last = e[e["kind"] == "SETTLE"].iloc[-1]
    assert (last["amount_fen"], last["receivable_fen"]) == (4_000, -2_000)
    balance = result.balances.set_index("user_id").loc[setup.ids["X"]]
    assert balance[["available_fen", "receivable_fen", "withdrawn_fen"]].tolist() == [
        2_000,
        0,
        2_000,
    ]
    assert line2 != line


def test_withdrawal_above_available_rejected(setup: Shop) -> None:  # noqa: F811
    setup.events.append(Withdrawal(setup._next(), setup.now, setup.ids["X"], 1))
    assert reasons(setup) == ["INSUFFICIENT_AVAILABLE"]


def test_refund_in_later_month_hits_accrual_month(setup: Shop) -> None:  # noqa: F811
    (line,) = setup.pay("D", 10_000)
    setup.now += timedelta(days=40)
    setup.refund_line(line, 5_000)
    rev = setup.settle_all().entries
    assert rev[rev["kind"] == "REVERSAL"]["month"].astype(str).tolist() == ["2025-03"]


def test_balance_paid_excluded_and_zero_line(setup: Shop) -> None:  # noqa: F811
    setup.order += 1
    lines = (OrderLine(7_001, 10_000, 4_000), OrderLine(7_002, 0))
    setup.events.append(OrderPaid(setup._next(), setup.now, setup.order, setup.ids["D"], lines))
    e = setup.settle_all().entries
    mine = e[e["order_id"] == setup.order]
    assert mine["base_fen"].tolist() == [6_000] and mine["amount_fen"].tolist() == [1_200]


def test_null_balance_paid_counts_as_zero(setup: Shop) -> None:  # noqa: F811
    setup.pay("D", 10_000)
    frame = events_to_frame(setup.events)
    frame.loc[frame.index[-1], "balance_paid_fen"] = pd.NA
    slow, fast = fold(frame, CONFIG), settle(frame, CONFIG)
    assert fast.rejected.empty and slow.rejected.empty
    pd.testing.assert_frame_equal(slow.entries, fast.entries, check_categorical=False)
    last = fast.entries[fast.entries["seq"] == frame["seq"].iloc[-1]]
    assert last["base_fen"].tolist() == [10_000] and last["amount_fen"].tolist() == [2_000]


def test_zero_order_gives_no_membership() -> None:
    shop = Shop()
    shop.user("A")
    shop.pay("A", 0)
    assert shop.settle_all().users["status"].tolist() == ["REGISTERED"]


def test_month_close_rules(setup: Shop) -> None:  # noqa: F811
    end = datetime.fromisoformat("2025-03-31T16:00:00+00:00")
    setup.events.append(MonthClose(setup._next(), end + timedelta(days=13), "2025-03"))
    setup.events.append(MonthClose(setup._next(), end + timedelta(days=14), "2025-03"))
    setup.events.append(MonthClose(setup._next(), end + timedelta(days=15), "2025-03"))
    setup.events.append(MonthClose(setup._next(), end + timedelta(days=15), "March"))
    assert reasons(setup) == ["PREMATURE_CLOSE", "DUPLICATE_CLOSE", "BAD_MONTH"]


def test_typed_bad_input_is_rejected_not_raised() -> None:
    state = ReferralState()
    naive = datetime(2025, 3, 1)
    state, out = apply(state, Registered(1, naive, 1), CONFIG)
    aware = datetime.fromisoformat("2025-03-01T00:00:00+08:00")
    state, _ = apply(state, Registered(2, aware, 1), CONFIG)
    bad_line = OrderPaid(3, aware, 1, 1, (OrderLine(1, 10.5),))  # type: ignore[arg-type]
    state, _ = apply(state, bad_line, CONFIG)
    state, _ = apply(state, OrderPaid(4, aware, 2, 1, (OrderLine(2, -5),)), CONFIG)
    state, _ = apply(state, Registered(3, aware, 2), CONFIG)
    assert out == []
    assert [r[2] for r in state.rejected] == [
        "NAIVE_TIMESTAMP",
        "BAD_AMOUNT",
        "BAD_AMOUNT",
        "STALE_SEQ",
    ]


def test_frame_level_errors(setup: Shop) -> None:  # noqa: F811
    frame = events_to_frame(setup.events)
    with pytest.raises(ColumnNotFoundError, match="seq"):
        settle(frame.drop(columns="seq"))
    naive = frame.assign(ts=frame["ts"].dt.tz_localize(None))
    with pytest.raises(DataValidationError, match="timezone-aware"):
        settle(naive)
    paid = frame.index[frame["type"] == "ORDER_PAID"][0]
    for bad in (100.37, float("inf"), True):
        amounts = frame["amount_fen"].astype(object if bad is True else "float64")
        amounts[paid] = bad
        with pytest.raises(DataValidationError, match=rf"amount_fen .*rows \[{paid}\]"):
            settle(frame.assign(amount_fen=amounts))
    with pytest.raises(DataValidationError, match="unknown column"):
        settle(frame.assign(amout=1))
    with pytest.raises(DataValidationError, match="DataFrame"):
        settle([1, 2])  # type: ignore[arg-type]


def test_boundary_examples_of_the_reliability_issue(setup: Shop) -> None:  # noqa: F811
    """Ids beyond int64, lower-case types, shuffled rows, year 2300, an empty frame."""
    frame = events_to_frame(setup.events)
    for bad in (2**63 + 1, -(2**63)):
        ids = frame["user_id"].astype("UInt64" if bad > 0 else "Int64")
        ids[0] = bad
        for run in (settle, lambda f: fold(f, CONFIG)):
            with pytest.raises(DataValidationError, match=r"user_id .*outside.*rows \[0\]"):
                run(frame.assign(user_id=ids))
    with pytest.raises(DataValidationError, match=r"wrong case.*'order_paid' -> 'ORDER_PAID'"):
        settle(frame.assign(type=frame["type"].astype(str).str.lower()))
    shuffled = frame.sample(frac=1.0, random_state=3)
    with pytest.raises(DataValidationError, match=r"seq is not in ascending order.*sort_values"):
        settle(shuffled)
    assert (
        settle(shuffled.sort_values("seq", kind="stable")).merkle_root()
        == settle(frame).merkle_root()
    )
    late = frame["ts"].astype(object)
    late.iloc[-1] = datetime(2300, 1, 1, tzinfo=UTC)
    with pytest.raises(DataValidationError, match=r"outside 1677-09-22 \.\. 2262-04-11"):
        settle(frame.assign(ts=late))
    zones = frame["ts"].astype(object)
    zones.iloc[0] = zones.iloc[0].tz_convert("Asia/Shanghai")
    with pytest.raises(DataValidationError, match="several time zones"):
        settle(frame.assign(ts=zones))
    for run in (settle, lambda f: fold(f, CONFIG)):
        empty = run(frame.iloc[:0])
        assert empty.entries.empty and empty.balances.empty


def test_missing_field_and_unknown_type(setup: Shop) -> None:  # noqa: F811
    frame = events_to_frame(setup.events)
    extra = pd.DataFrame(
        {
            "seq": [1_000, 1_001],
            "type": ["BOUND", "GIFT_PACKAGE"],
            "ts": [frame["ts"].iloc[-1]] * 2,
            "user_id": pd.array([1, 1], dtype="Int64"),
        }
    )
    both = pd.concat([frame, extra], ignore_index=True)
    result = settle(both)
    assert result.rejected["reason"].tolist() == ["MISSING_FIELD", "UNKNOWN_TYPE"]
    assert fold(both, CONFIG).rejected["reason"].tolist() == ["MISSING_FIELD", "UNKNOWN_TYPE"]


@pytest.mark.parametrize(
    "setting", [{"per_head_reward_fen": 100}, {"entry_fee_fen": 9_900}, {"gratitude_enabled": True}]
)
def test_compliance_switches(setting: dict[str, object]) -> None:
    with pytest.raises(ComplianceConfigError, match="unsafe_allow"):
        ReferralConfig(**setting)
    with pytest.warns(ComplianceWarning):
        risky = ReferralConfig(**setting, unsafe_allow=True)
    assert risky.compliance_overrides == tuple(setting)
    shop = Shop()
    shop.user("A")
    frame = events_to_frame(shop.events)
    with pytest.warns(ComplianceWarning):  # reported again where the rules run
        assert settle(frame, risky).compliance_overrides == tuple(setting)


def _unvalidated() -> list[ReferralConfig]:
    """Configs past a legal limit, made the three ways that skip validation."""
    assigned = ReferralConfig()
    object.__setattr__(assigned, "max_beneficiaries_per_line", 5)
    return [
        ReferralConfig().model_copy(update={"max_depth_genealogical": 3}),
        ReferralConfig.model_construct(max_payout_ratio_bp=50_000),
        assigned,
        ReferralConfig().model_copy(update={"per_head_reward_fen": 100}),
    ]


@pytest.mark.parametrize("config", _unvalidated(), ids=["copy", "construct", "setattr", "C3"])
def test_compliance_enforced_where_the_rules_run(config: ReferralConfig) -> None:
    shop = Shop()
    shop.user("A")
    shop.user("B", inviter="A")
    shop.pay("B", 10_000)
    frame = events_to_frame(shop.events)
    for run in (
        lambda: settle(frame, config),
        lambda: fold(frame, config),
        lambda: apply(ReferralState(), shop.events[0], config),
        lambda: settle(
            frame, CONFIG, versions={"2": config.model_copy(update={"config_version": "2"})}
        ),
    ):
        with pytest.raises(ComplianceConfigError, match=r"limit|unsafe_allow"):
            run()


def test_compliance_override_by_copy_is_recorded_and_warned() -> None:
    risky = ReferralConfig().model_copy(update={"per_head_reward_fen": 100, "unsafe_allow": True})
    shop = Shop()
    shop.user("A")
    with pytest.warns(ComplianceWarning, match="per_head_reward_fen"):
        result = settle(events_to_frame(shop.events), risky)
    assert result.compliance_overrides == ("per_head_reward_fen",)


def test_config_errors() -> None:
    with pytest.raises(ConfigError, match="did you mean 'monthly_cap_fen'"):
        ReferralConfig.from_dict({"monthly_cap": 1})
    with pytest.raises(ConfigError, match="min_rank"):
        ReferralConfig(direct_rate_tiers=({"min_rank": 2, "rate_bp": 100},))
    with pytest.raises(ConfigError, match="max_depth_genealogical"):
        ReferralConfig(max_depth_genealogical=3)
    assert ReferralConfig().replace(monthly_cap_fen=1).monthly_cap_fen == 1
    assert "monthly_cap_fen" in ReferralConfig.json_schema()["properties"]


def _slide_shop(mode: SlideMode) -> tuple[Shop, pd.DataFrame]:
    shop = Shop()
    shop.user("A")
    for name in ("P1", "P2", "X"):
        shop.user(name, "A")
    for name in ("B", "C", "D"):
        shop.user(name, "X")
    shop.join("A", "P1", "P2", "X", "B")
    config = ReferralConfig(slide_mode=mode)
    frame = events_to_frame(shop.events)
    before = settle(frame, config).users.set_index("user_id")
    shop.join("C", "D")
    frame = events_to_frame(shop.events)
    after = settle(frame, config)
    pd.testing.assert_frame_equal(fold(frame, config).users, after.users)
    both = pd.concat(
        {
            "before": before["team_parent_id"],
            "after": after.users.set_index("user_id")["team_parent_id"],
        },
        axis=1,
    )
    return shop, both


def test_slide_modes_on_hand_built_tree() -> None:
    shop, first_n = _slide_shop(SlideMode.FIRST_N)
    ids = shop.ids
    assert first_n.loc[ids["B"]].tolist() == [ids["A"], ids["A"]]
    shop, only_nth = _slide_shop(SlideMode.ONLY_NTH)
    # B (rank 1) stays with X; C (rank 2) slides to A; D (rank 3) joins X, now a BOSS
    assert only_nth.loc[ids["B"]].tolist() == [ids["X"], ids["X"]]
    assert only_nth.loc[ids["C"], "after"] == ids["A"]
    assert only_nth.loc[ids["D"], "after"] == ids["X"]
    shop, all_on = _slide_shop(SlideMode.ALL_ON_BREAKAWAY)
    # B waits under X, then slides to A together with C when X breaks away
    assert all_on.loc[ids["B"]].tolist() == [ids["X"], ids["A"]]
    assert all_on.loc[ids["C"], "after"] == ids["A"]


def test_ledger_proofs_and_tamper(setup: Shop) -> None:  # noqa: F811
    setup.pay("B", 10_000)
    result = setup.settle_all()
    ledger = result.ledger()
    head = ledger.head()
    assert ledger.root() == result.merkle_root()
    mine = [i for i, r in enumerate(result.records()) if r["user_id"] == setup.ids["A"]]
    for index in mine:
        proof = ledger.inclusion_proof(index)
        assert verify_inclusion(ledger.entries[index].record, proof, head)
    record = dict(ledger.entries[mine[-1]].record)
    record["amount_fen"] += 1
    assert not verify_inclusion(record, ledger.inclusion_proof(mine[-1]), head)
    ledger.entries[mine[-1]].record["amount_fen"] += 1  # type: ignore[index]
    with pytest.raises(LedgerIntegrityError):
        ledger.verify()
    ids = result.entry_ids()
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("amount", [100.37, float("nan"), float("inf"), True, 10**30 * 1.0])
def test_typed_money_is_never_truncated(amount: object) -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    paid = OrderPaid(3, start, 7, 2, (OrderLine(70, amount, 0),))  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match=r"seq 3: amount_fen=.*integer fen"):
        events_to_frame([Registered(1, start, 2), paid])
    state, records = apply(ReferralState(), Registered(1, start, 2), CONFIG)
    state, records = apply(state, paid, CONFIG)  # the fold rejects it, never truncates
    assert records == [] and state.rejected[-1][2] == "BAD_AMOUNT"


def test_typed_naive_timestamp_is_refused_by_the_frame() -> None:
    with pytest.raises(DataValidationError, match="timezone-aware"):
        events_to_frame([Registered(1, datetime(2025, 3, 1), 2)])
