"""Balances per user, against a plain pandas group-by of the same entries."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.referral.records import KINDS
from chainmall.referral.settlement import balances_of


def _expected(entries: pd.DataFrame) -> pd.DataFrame:
    """The balance formulas of :func:`balances_of`, written as a group-by."""
    e = entries.assign(receivable_fen=entries["receivable_fen"].fillna(0))
    ref = e["ref_pos"].fillna(-1).astype(int).tolist()
    kinds = e["kind"].astype(str).tolist()
    direct_tax = [  # a one-step WITHDRAWAL's tax leaves available, a request's reserved
        k == "WITHHOLDING" and r >= 0 and kinds[r] == "WITHDRAWAL"
        for k, r in zip(kinds, ref, strict=True)
    ]
    direct = e["amount_fen"].where(direct_tax, 0).groupby(e["user_id"]).sum()
    amount = e.pivot_table("amount_fen", "user_id", "kind", aggfunc="sum", observed=False)
    recv = e.pivot_table("receivable_fen", "user_id", "kind", aggfunc="sum", observed=False)
    a = amount.reindex(columns=list(KINDS), fill_value=0).fillna(0).astype("int64")
    r = recv.reindex(columns=list(KINDS), fill_value=0).fillna(0).astype("int64")
    out = pd.DataFrame(
        {
            "pending_fen": a["COMMISSION"] + a["REVERSAL"] - a["SETTLE"] - a["AWAIT_APPROVAL"],
            "awaiting_approval_fen": a["AWAIT_APPROVAL"]
            - a["APPROVE"]
            + a["DECLINE"]
            + a["AWAIT_REVERSAL"],
            "available_fen": a["SETTLE"]
            + r["SETTLE"]
            + a["APPROVE"]
            + r["APPROVE"]
            + a["CLAWBACK"]
            + r["CLAWBACK"]
            + a["WITHDRAWAL"]
            + a["WITHDRAW_HOLD"]
            + a["WITHDRAW_RELEASE"]
            + r["WITHDRAW_RELEASE"]
            + a["ADJUSTMENT"]
            + r["ADJUSTMENT"]
            + direct,
            "reserved_fen": -a["WITHDRAW_HOLD"]
            - a["WITHDRAW_RELEASE"]
            + a["WITHDRAW_PAID"]
            + a["WITHDRAW_FEE"]
            + a["WITHHOLDING"]
            - direct,
            "receivable_fen": r["SETTLE"]
            + r["CLAWBACK"]
            + r["WITHDRAW_RELEASE"]
            + r["ADJUSTMENT"]
            + r["APPROVE"],
            "withdrawn_fen": -a["WITHDRAWAL"]
            - a["WITHDRAW_PAID"]
            - a["WITHDRAW_FEE"]
            - a["WITHHOLDING"],
            "withheld_fen": -a["WITHHOLDING"],
            "credited_fen": a["COMMISSION"]
            + a["REVERSAL"]
            + a["CLAWBACK"]
            + a["ADJUSTMENT"]
            + a["DECLINE"]
            + a["AWAIT_REVERSAL"],
        }
    )
    return out.rename_axis(index="user_id", columns=None).reset_index()


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 30),  # user number
            st.sampled_from(KINDS),
            st.integers(-(10**9), 10**9),
            st.one_of(st.none(), st.integers(-(10**6), 10**6)),
            st.integers(-1, 59),  # the row referred to (-1: none; clipped to the rows)
        ),
        max_size=60,
    ),
    spread=st.sampled_from([1, 1_000, 10**15]),  # dense ids (a counting pass) or sparse ones
    first=st.integers(-(10**3), 10**3),
)
def test_balances_match_group_by(rows: list, spread: int, first: int) -> None:
    users, kinds, amounts, receivables, refs = (
        zip(*rows, strict=True) if rows else ([], [], [], [], [])
    )
    entries = pd.DataFrame(
        {
            "user_id": pd.array([first + u * spread for u in users], dtype="Int64"),
            "kind": pd.Categorical(kinds, categories=list(KINDS)),
            "amount_fen": pd.array(amounts, dtype="Int64"),
            "receivable_fen": pd.array(receivables, dtype="Int64"),
            "ref_pos": pd.array([min(r, len(rows) - 1) for r in refs], dtype="Int64"),
        }
    )
    got = balances_of(entries)
    assert got["user_id"].is_monotonic_increasing
    assert np.array_equal(got["user_id"].to_numpy(), np.unique(entries["user_id"].to_numpy()))
    if rows:
        pd.testing.assert_frame_equal(got, _expected(entries), check_dtype=False)
