"""INV-1..INV-10 and fold == batch, as property tests over random event streams."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import networkx as nx
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainmall.referral import (
    ReferralConfig,
    events_to_frame,
    settle,
)
from chainmall.referral.records import ACCOUNT_KINDS, APPROVAL_KINDS
from tests.referral.equality import check_fold_equals_batch
from tests.referral.referral_streams import configs, streams, versions_of, with_entry_ids

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=2_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(streams(), configs())
def test_fold_equals_batch(events: list[Any], config: ReferralConfig) -> None:
    check_fold_equals_batch(events, config)


@pytest.mark.slow
@SLOW
@given(streams(max_events=150), configs())
def test_fold_equals_batch_many(events: list[Any], config: ReferralConfig) -> None:
    check_fold_equals_batch(events, config)


@FAST
@given(streams(), configs(), st.data())
def test_fold_equals_batch_versions(events: list[Any], config: ReferralConfig, data: Any) -> None:
    """Streams with CONFIG_ACTIVATED events (known and unknown labels) under versions."""
    check_fold_equals_batch(events, config, data.draw(versions_of(config)))


@pytest.mark.slow
@SLOW
@given(streams(max_events=150), configs(), st.data())
def test_fold_equals_batch_versions_many(
    events: list[Any], config: ReferralConfig, data: Any
) -> None:
    check_fold_equals_batch(events, config, data.draw(versions_of(config)))


def check_invariants(
    events: list[Any], config: ReferralConfig, versions: dict[str, ReferralConfig] | None = None
) -> None:
    events = with_entry_ids(events, config, versions)
    result = settle(events_to_frame(events), config, versions)
    e = result.entries
    version = result.versions  # each entry obeys the limits of its own config version
    users = result.users.set_index("user_id")
    inviter = users["inviter_id"].dropna().astype(int).to_dict()
    kinds = set(e["kind"].astype(str))
    # INV-9: only whitelisted kinds; every reward entry comes from an order line with a base
    assert kinds <= {
        "COMMISSION",
        "CAPPED",
        "BLOCKED_DEPTH",
        "FORFEITED",
        "REVERSAL",
        "CLAWBACK",
        "SETTLE",
        "WITHDRAWAL",
        *ACCOUNT_KINDS,
        *APPROVAL_KINDS,
    }
    rewards = e[e["kind"].isin(["COMMISSION", "CAPPED", "BLOCKED_DEPTH", "FORFEITED"])]
    assert rewards["line_id"].notna().all() and (rewards["base_fen"] > 0).all()
    # INV-1: per line <= 2 distinct paid beneficiaries, not the buyer, 1..2 inviter steps up
    paid = e[(e["kind"] == "COMMISSION") & (e["amount_fen"] > 0)]
    for _, group in paid.groupby("line_id"):
        assert len(group) <= 2 and group["user_id"].is_unique
        for row in group.itertuples():
            assert row.user_id != row.buyer_id
            node, steps = row.buyer_id, 0
            while node != row.user_id:
                node, steps = inviter[node], steps + 1
            assert 1 <= steps <= version[row.config_version].max_depth_genealogical
            assert steps == (1 if pd.isna(row.gen_dist) else row.gen_dist)
            assert pd.isna(row.gen_dist) == (
                row.reward_type == "DIRECT" and config.direct_beneficiary == "INVITER"
            )
    # INV-2: per-line ratio cap
    comm = e[e["kind"] == "COMMISSION"]
    per_line = comm.groupby("line_id", observed=True).agg(
        amount=("amount_fen", "sum"),
        base=("base_fen", "first"),
        version=("config_version", "first"),
    )
    ratio = per_line["version"].map(lambda v: version[v].max_payout_ratio_bp).astype("int64")
    assert (per_line["amount"] <= per_line["base"] * ratio // 10_000).all()
    # INV-3 and INV-10: running totals in ledger order
    credited: dict[tuple[int, str], int] = defaultdict(int)
    available: dict[int, int] = defaultdict(int)
    highest_cap = max(c.monthly_cap_fen for c in version.values())
    for row in e.itertuples():
        if row.kind in ("COMMISSION", "REVERSAL", "CLAWBACK", "AWAIT_REVERSAL"):
            credited[(row.user_id, row.month)] += row.amount_fen
            assert credited[(row.user_id, row.month)] <= highest_cap
            if row.kind == "COMMISSION" and row.amount_fen > 0:  # within its own version's cap
                assert (
                    credited[(row.user_id, row.month)]
                    <= version[row.config_version].monthly_cap_fen
                )
        if row.kind in ("SETTLE", "APPROVE", "CLAWBACK", "WITHDRAW_RELEASE", "ADJUSTMENT"):
            available[row.user_id] += row.amount_fen + row.receivable_fen
        if row.kind in ("WITHDRAWAL", "WITHDRAW_HOLD"):
            available[row.user_id] += row.amount_fen
        if row.kind == "WITHHOLDING" and e["kind"].iloc[row.ref_pos] == "WITHDRAWAL":
            available[row.user_id] += row.amount_fen  # a one-step payout's tax
        assert available[row.user_id] >= 0
    # INV-4: every account movement balances against the platform's commission expense
    b = result.balances
    net = b["pending_fen"] + b["awaiting_approval_fen"] + b["available_fen"]
    net += b["reserved_fen"] - b["receivable_fen"]
    net += b["withdrawn_fen"]
    assert (net == b["credited_fen"]).all()
    assert (b["receivable_fen"] >= 0).all() and (b["pending_fen"] >= 0).all()
    assert (b["awaiting_approval_fen"] >= 0).all()
    # INV-7: a fully refunded line nets to zero
    refunds = [x for x in events if type(x).__name__ == "RefundSucceeded"]
    rejected_seqs = set(result.rejected["seq"].tolist())  # a reused refund id is rejected
    refunded: dict[int, int] = defaultdict(int)
    for r in refunds:
        if r.seq not in rejected_seqs:
            refunded[r.line_id] += r.amount_fen
    paid_of = {
        (x.order_id, line.line_id): line.paid_fen
        for x in events
        if type(x).__name__ == "OrderPaid"
        for line in x.lines
    }
    for line_id, group in comm.groupby("line_id"):
        paid_fen = paid_of[(int(group["order_id"].iloc[0]), int(line_id))]
        if refunded.get(int(line_id)) == paid_fen:
            rows = e[
                (e["line_id"] == line_id)
                & e["kind"].isin(
                    ["COMMISSION", "REVERSAL", "CLAWBACK", "AWAIT_REVERSAL", "DECLINE"]
                )
            ]
            assert rows["amount_fen"].sum() == 0
    # INV-8: both relations are forests (acyclic; team chains terminate)
    graph = result.to_networkx()
    for kind in ("inviter", "team"):
        edges = [(a, b) for a, b, k in graph.edges(data="kind") if kind in k]
        assert nx.is_directed_acyclic_graph(nx.DiGraph(edges))


@FAST
@given(streams(), configs())
def test_invariants(events: list[Any], config: ReferralConfig) -> None:
    check_invariants(events, config)


@pytest.mark.slow
@SLOW
@given(streams(max_events=150), configs())
def test_invariants_many(events: list[Any], config: ReferralConfig) -> None:
    check_invariants(events, config)


@FAST
@given(streams(), configs(), st.data())
def test_invariants_versions(events: list[Any], config: ReferralConfig, data: Any) -> None:
    """INV-1..10 hold per entry under the limits of the entry's own config version."""
    check_invariants(events, config, data.draw(versions_of(config)))


@FAST
@given(streams(), configs(), st.data())
def test_replay_and_prefix(events: list[Any], config: ReferralConfig, data: Any) -> None:
    """INV-5/INV-6: a prefix's ledger is a prefix of the full ledger; replays change nothing."""
    full = settle(events_to_frame(events), config).records()
    cut = data.draw(st.integers(0, len(events)))
    prefix = settle(events_to_frame(events[:cut]), config).records()
    assert full[: len(prefix)] == prefix
    replayed = events + events[: data.draw(st.integers(0, len(events)))]
    assert settle(events_to_frame(replayed), config).records() == full
