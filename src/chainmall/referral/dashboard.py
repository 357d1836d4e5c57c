"""Distributor dashboard as data: per earner team, GMV, balances, commissions, fission path.

Team = the member's current team subtree (``team_parent`` links, any depth) —
labels only, never a reward base (C3). Team GMV = net goods base of the team's
accepted order lines. Balances come from the settlement's ledger.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd

from chainmall._validation import Column, check_frame
from chainmall.exceptions import DataValidationError
from chainmall.referral.ids import as_ids
from chainmall.referral.settlement import Settlement

__all__ = ["commission_detail", "dashboard", "fission_path", "team_members"]


def _children(users: pd.DataFrame, column: str) -> dict[Any, list[Any]]:
    links = users[users[column].notna()]
    out: dict[Any, list[Any]] = {}
    for child, parent in zip(
        links["user_id"].tolist(), as_ids(links[column]).tolist(), strict=True
    ):
        out.setdefault(parent, []).append(child)
    return out


def team_members(
    settlement: Settlement, user_id: Any, *, max_depth: int | None = None
) -> pd.DataFrame:
    """``user_id, parent_id, level`` of the member's current team subtree (breadth first)."""
    children = _children(settlement.users, "team_parent_id")
    rows, frontier, level = [], [user_id], 0
    while frontier and (max_depth is None or level < max_depth):
        level += 1
        nxt = []
        for parent in frontier:
            for child in sorted(children.get(parent, [])):
                rows.append((child, parent, level))
                nxt.append(child)
        frontier = nxt
    frame = pd.DataFrame(rows, columns=["user_id", "parent_id", "level"])
    return frame.assign(
        user_id=as_ids(frame["user_id"]),
        parent_id=as_ids(frame["parent_id"]),
        level=frame["level"].astype("int64"),
    )


def member_id(settlement: Settlement, user_id: Any) -> Any:
    """``user_id`` if the settlement knows the user, else a DataValidationError."""
    known = isinstance(user_id, str) or (
        isinstance(user_id, numbers.Integral) and not isinstance(user_id, bool | np.bool_)
    )
    if not known or not settlement.users["user_id"].isin([user_id]).any():
        raise DataValidationError(
            f"user_id {user_id!r} is not a user of the settlement; pass an id from "
            "settlement.users['user_id']"
        )
    return user_id


def fission_path(settlement: Settlement, user_id: Any) -> list[Any]:
    """Inviter chain from the root of the user's inviter tree down to the user."""
    user_id = member_id(settlement, user_id)
    return _path(settlement.users.set_index("user_id")["inviter_id"], user_id)


def _path(inviter: pd.Series, user_id: Any) -> list[Any]:
    """Inviter chain down to ``user_id`` (``inviter``: inviter id by user id)."""
    path = [user_id]
    while pd.notna(inviter.get(path[-1])):
        parent = inviter[path[-1]]
        path.append(int(parent) if isinstance(parent, int | np.integer) else parent)
    return path[::-1]


def commission_detail(settlement: Settlement, user_id: Any) -> pd.DataFrame:
    """Every ledger entry of the user, in ledger order."""
    user_id = member_id(settlement, user_id)
    e = settlement.entries
    mine: pd.DataFrame = e[e["user_id"] == user_id]
    return mine.reset_index(drop=True)


def dashboard(settlement: Settlement, events: pd.DataFrame) -> pd.DataFrame:
    """Per member: team size, team GMV (fen), balances (fen), inviter depth, status.

    ``events`` is the events frame the settlement was settled from; team GMV counts
    its accepted ``ORDER_PAID`` lines (the settlement's rejected events are left out).
    """
    paid = _accepted_lines(settlement, events)
    users = settlement.users
    members = users[users["member_seq"].notna()]
    parent = users.set_index("user_id")["team_parent_id"]
    base = paid["amount_fen"].astype("int64") - paid["balance_paid_fen"].astype("int64")
    gmv = base.groupby(as_ids(paid["user_id"]).to_numpy()).sum()
    size = pd.Series(0, index=users["user_id"].to_numpy(), dtype="int64")
    team_gmv = pd.Series(0, index=users["user_id"].to_numpy(), dtype="int64")
    own = gmv.reindex(users["user_id"].to_numpy(), fill_value=0)
    for u in members["user_id"].tolist():  # walk up each member's team chain
        node = parent.get(u)
        seen = 0
        while pd.notna(node) and seen < len(users):
            size[node] += 1
            team_gmv[node] += int(own[u])
            node = parent.get(node)
            seen += 1
    inviter = users.set_index("user_id")["inviter_id"]
    depth = np.array([len(_path(inviter, u)) - 1 for u in members["user_id"].tolist()])
    out = members[["user_id", "status"]].assign(
        team_size=size.reindex(members["user_id"]).to_numpy(),
        team_gmv_fen=team_gmv.reindex(members["user_id"]).to_numpy(),
        inviter_depth=depth,
    )
    balances = settlement.balances[["user_id", "pending_fen", "available_fen", "receivable_fen"]]
    out = out.merge(balances, on="user_id", how="left")
    money = ["pending_fen", "available_fen", "receivable_fen"]
    out[money] = out[money].fillna(0).astype("int64")
    return out.reset_index(drop=True)


_ROWS = (Column("seq", "count", ge=1), Column("type", "label"))
_LINES = (
    Column("user_id", "id"),
    Column("amount_fen", "money", ge=0),
    Column("balance_paid_fen", "money", ge=0, nullable=True, required=False),
)
"""What an accepted ``ORDER_PAID`` line holds (a line the settlement did not reject)."""


def _accepted_lines(settlement: Settlement, events: object) -> pd.DataFrame:
    """The accepted ``ORDER_PAID`` rows of ``events`` (``balance_paid_fen`` null: 0).

    A negative amount on a line the settlement did not reject means ``events`` is
    not the log it was settled from: refused, never summed.
    """
    frame = check_frame(events, _ROWS, name="events", id_column="seq", allow_empty=True)
    rejected = settlement.rejected["seq"].to_numpy()
    lines = (frame["type"] == "ORDER_PAID").to_numpy(dtype=bool) & ~frame["seq"].isin(rejected)
    paid = check_frame(frame[lines], _LINES, name="events", id_column="seq", allow_empty=True)
    if "balance_paid_fen" not in paid.columns:
        return paid.assign(balance_paid_fen=0)
    return paid.assign(balance_paid_fen=paid["balance_paid_fen"].fillna(0))
