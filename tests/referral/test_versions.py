"""Config versions (ConfigActivated), worked by hand, on both the fold and the batch path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from chainmall.exceptions import ComplianceConfigError, ComplianceWarning, ConfigError
from chainmall.ledger import Ledger, verify_inclusion
from chainmall.referral import (
    ConfigActivated,
    OrderReceived,
    RateTier,
    ReferralConfig,
    Settlement,
    SettlementTick,
    Withdrawal,
    apply,
    events_to_frame,
    fold,
    settle,
)
from chainmall.referral.records import entry_id
from chainmall.referral.rules import ReferralState
from tests.referral.test_golden import Shop

V1 = ReferralConfig()  # config_version "1": rank 1 earns 2000 bp
V2 = V1.replace(config_version="2", direct_rate_tiers=(RateTier(min_rank=1, rate_bp=1000),))


def march(day: int) -> datetime:
    return datetime(2025, 3, day, tzinfo=UTC)


class VersionShop(Shop):
    """The golden shop plus activations; settles on both paths and checks they agree."""

    def activate(self, version: str, effective_at: datetime) -> int:
        self.events.append(ConfigActivated(self._next(), effective_at, version))
        return self.seq

    def settle_with(
        self, config: ReferralConfig, versions: dict[str, ReferralConfig]
    ) -> Settlement:
        frame = events_to_frame(self.events)
        slow, fast = fold(frame, config, versions), settle(frame, config, versions)
        pd.testing.assert_frame_equal(slow.entries, fast.entries)
        pd.testing.assert_frame_equal(slow.rejected, fast.rejected)
        assert slow.merkle_root() == fast.merkle_root()
        return fast


@pytest.fixture
def shop() -> VersionShop:
    """A (member, no team) invited B: B's orders pay A a direct commission at rank 1."""
    shop = VersionShop()
    shop.user("A")
    shop.user("B", "A")
    shop.join("A")
    return shop


def commissions(result: Settlement, kind: str = "COMMISSION") -> list[tuple[int, str]]:
    e = result.entries
    e = e[e["kind"] == kind]
    return list(zip(e["amount_fen"], e["config_version"].astype(str), strict=True))


def test_rate_change_mid_month(shop: VersionShop) -> None:
    """10,000-fen lines: 2000 bp before 15 March, 1000 bp from then on."""
    shop.pay("B", 10_000, at=march(5))
    shop.activate("2", march(15))
    shop.pay("B", 10_000, at=march(10))  # paid before effective_at: still version 1
    [late] = shop.pay("B", 10_000, at=march(20))
    shop.refund_line(late, 10_000)
    result = shop.settle_with(V1, {"2": V2})
    assert commissions(result) == [(2_000, "1"), (2_000, "1"), (1_000, "2")]
    assert commissions(result, "REVERSAL") == [(-1_000, "2")]  # keeps its line's version
    e = result.entries
    row = e[(e["kind"] == "COMMISSION") & (e["line_id"] == late)].iloc[0]
    key = dict(seq=None, order_id=int(row["order_id"]), line_id=late, ref=None, refund_id=None)
    ids = result.entry_ids()
    assert ids[row.name] == entry_id(
        "2", "COMMISSION", user_id=shop.ids["A"], reward_type="DIRECT", **key
    )
    assert ids[row.name] != entry_id(
        "1", "COMMISSION", user_id=shop.ids["A"], reward_type="DIRECT", **key
    )
    assert result.records()[row.name]["config_version"] == "2"


def test_settlement_and_withdrawal_versions(shop: VersionShop, tmp_path: Path) -> None:
    """SETTLE keeps the line's version; a WITHDRAWAL takes the version in force at it."""
    [line] = shop.pay("B", 10_000, at=march(5))
    order = shop.order
    shop.activate("2", march(6))
    shop.events.append(OrderReceived(shop._next(), march(6), order))
    shop.events.append(SettlementTick(shop._next(), march(25)))
    shop.events.append(Withdrawal(shop._next(), march(26), shop.ids["A"], 500))
    result = shop.settle_with(V1, {"2": V2})
    e = result.entries
    kinds = list(zip(e["kind"].astype(str), e["config_version"].astype(str), strict=True))
    assert kinds == [("COMMISSION", "1"), ("SETTLE", "1"), ("WITHDRAWAL", "2")]
    assert e["line_id"].iloc[1] == line
    ledger = result.ledger()  # the ledger, its proofs and its export stay consistent
    ledger.verify()
    assert ledger.root() == result.merkle_root()
    head = ledger.head()
    for index in range(len(ledger)):
        assert verify_inclusion(ledger.entries[index].record, ledger.inclusion_proof(index), head)
    ledger.to_jsonl(tmp_path / "ledger.jsonl")
    assert Ledger.from_jsonl(tmp_path / "ledger.jsonl").root() == ledger.root()


def test_monthly_cap_change_mid_month(shop: VersionShop) -> None:
    """Each credit is limited by ITS line's cap against all credits of the month so far.

    Caps: version 1 3,000 fen, version 2 5,000 fen. A's direct commissions (2,000 wanted each):
    5 Mar v1: room 3,000 - 0 -> 2,000; 6 Mar v1: room 1,000 -> 1,000 + CAPPED 1,000;
    20 Mar v2: room 5,000 - 3,000 -> 2,000; 26 Mar v1 again: room 3,000 - 5,000 < 0 -> 0 +
    CAPPED 2,000; 2 Apr v1: a new month -> 2,000.
    """
    low = V1.replace(monthly_cap_fen=3_000)
    high = low.replace(config_version="2", monthly_cap_fen=5_000)
    shop.pay("B", 10_000, at=march(5))
    shop.pay("B", 10_000, at=march(6))
    shop.activate("2", march(15))
    shop.pay("B", 10_000, at=march(20))
    shop.activate("1", march(25))  # back to the initial version
    shop.pay("B", 10_000, at=march(26))
    shop.pay("B", 10_000, at=datetime(2025, 4, 2, tzinfo=UTC))
    result = shop.settle_with(low, {"2": high})
    assert commissions(result) == [(2_000, "1"), (1_000, "1"), (2_000, "2"), (0, "1"), (2_000, "1")]
    capped = result.entries[result.entries["kind"] == "CAPPED"]
    assert capped["cap_cut_fen"].tolist() == [1_000, 2_000]
    assert capped["config_version"].astype(str).tolist() == ["1", "1"]
    assert result.balances.set_index("user_id").loc[shop.ids["A"], "credited_fen"] == 7_000


def test_resolution_by_seq_and_effective_at(shop: VersionShop) -> None:
    """Latest effective_at wins (ties: larger seq); an activation only affects later seqs."""
    v3 = V1.replace(config_version="3", direct_rate_tiers=(RateTier(min_rank=1, rate_bp=500),))
    shop.pay("B", 10_000, at=march(20))  # before any activation (by seq): version 1
    shop.activate("2", march(15))
    shop.pay("B", 10_000, at=march(14))  # later seq, paid before effective_at: version 1
    shop.pay("B", 10_000, at=march(16))  # version 2
    shop.activate("3", march(15))  # same effective_at, larger seq: wins from now on
    shop.activate("2", march(10))  # larger seq but an earlier effective_at: loses
    shop.pay("B", 10_000, at=march(16))  # version 3
    shop.pay("B", 10_000, at=march(12))  # only the 10 Mar activation is in force: version 2
    result = shop.settle_with(V1, {"2": V2, "3": v3})
    assert commissions(result) == [
        (2_000, "1"),
        (2_000, "1"),
        (1_000, "2"),
        (500, "3"),
        (1_000, "2"),
    ]


def test_unknown_version_rejected(shop: VersionShop) -> None:
    shop.activate("7", march(1))
    shop.pay("B", 10_000, at=march(5))
    result = shop.settle_with(V1, {"2": V2})
    assert result.rejected[["type", "reason"]].values.tolist() == [
        ["CONFIG_ACTIVATED", "UNKNOWN_VERSION"]
    ]
    assert commissions(result) == [(2_000, "1")]
    frame = events_to_frame(shop.events)  # a row without its label: MISSING_FIELD
    frame.loc[frame["type"] == "CONFIG_ACTIVATED", "month"] = None
    assert settle(frame, V1).rejected["reason"].tolist() == ["MISSING_FIELD"]
    assert fold(frame, V1).rejected["reason"].tolist() == ["MISSING_FIELD"]
    state, out = apply(ReferralState(), ConfigActivated(1, march(1), "2"), V1)
    assert out == [] and state.rejected == [(1, "CONFIG_ACTIVATED", "UNKNOWN_VERSION")]


def test_versions_validated_at_the_boundary(shop: VersionShop) -> None:
    frame = events_to_frame(shop.events)
    with pytest.raises(ConfigError, match="slide_count"):
        settle(frame, V1, {"2": V2.replace(slide_count=3)})
    with pytest.raises(ConfigError, match="refund_window_days"):
        fold(frame, V1, {"2": V2.replace(refund_window_days=3)})
    with pytest.raises(ConfigError, match="differs from its config_version"):
        settle(frame, V1, {"3": V2})
    with pytest.raises(ConfigError, match="both the initial config"):
        settle(frame, V1, {"1": V1.replace(team_rate_bp=0)})
    with pytest.raises(ConfigError, match="must be a ReferralConfig"):
        settle(frame, V1, {"2": {"team_rate_bp": 0}})  # type: ignore[dict-item]
    with pytest.raises(ComplianceConfigError):  # an unlawful version is refused as ever
        ReferralConfig(config_version="2", per_head_reward_fen=100)
    with pytest.warns(ComplianceWarning):
        risky = ReferralConfig(config_version="2", gratitude_enabled=True, unsafe_allow=True)
        initial = ReferralConfig(gratitude_enabled=True, unsafe_allow=True)
    with (
        pytest.raises(ConfigError, match="gratitude_enabled"),  # compliance is structural
        pytest.warns(ComplianceWarning),  # the override is reported where the rules run
    ):
        settle(frame, V1, {"2": risky})
    with pytest.warns(ComplianceWarning):
        both = settle(frame, initial, {"2": risky})
    assert both.compliance_overrides == ("gratitude_enabled",)  # recorded for every version
    assert list(both.versions) == ["1", "2"]
