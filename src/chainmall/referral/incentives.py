"""Month close (R7-R10): team contribution value, partners, the dividend, badges.

:func:`close_months` runs at every accepted ``MONTH_CLOSE`` of an events frame
(a close before ``month end + refund window + processing`` is rejected as
``PREMATURE_CLOSE`` by the settlement, so nothing here sees an unsettled month):

- **TCV** (R7, non-monetary). For each member ``u`` and each ``s`` at inviter-tree
  depth 1..``tcv_depth`` below ``u``:
  ``contrib(u, s, m) = floor(contrib(u, s, m') × (active(s, m) ? 1 : 1 − decay))
  + settled_net_gmv(s, m)`` where ``m'`` is the previous closed month,
  ``active`` = an order paid in ``m`` with net ≥ ``repurchase_min_fen`` and still
  ≥ it after refunds as of the close, and ``settled_net_gmv`` = base minus
  refunds of ``s``'s orders paid in ``m`` and settled (R5 tick) before the close.
  ``TCV(u, m) = Σ_s contrib(u, s, m)``. No headcount or depth term (C3).
- **Partner** (R8): the first tick at which ≥ ``partner_repurchase_count`` settled
  repurchase orders (not the buyer's first order, base ≥ ``repurchase_min_fen``,
  not fully refunded) exist in ``u``'s depth ≤ 2 subtree. Never revoked; confers
  no downline reward (C5).
- **Dividend** (R9, off by default): members with TCV > 0, not banned, not on
  hold; the top ``K = ceil(fraction × N)`` by (TCV desc, user_id asc) split the
  fixed ``dividend_pool_fen`` pro rata to TCV by largest remainder (ties: smaller
  user_id); each share is cut to the monthly cap room left by the user's
  credited commissions of that month and the excess returns to the platform.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chainmall.referral._batch.history import History, accept_history
from chainmall.referral._batch.kernels import NEVER, Limits
from chainmall.referral._batch.r11_holds import Holds
from chainmall.referral._batch.tables import read_tables
from chainmall.referral.calendar import month_codes
from chainmall.referral.config import ReferralConfig, config_or
from chainmall.referral.frame import read_frame
from chainmall.referral.ids import IdSpaces, as_ids
from chainmall.referral.settlement import Settlement

__all__ = ["MonthCloseResult", "badges", "close_months", "largest_remainder"]


@dataclass(frozen=True)
class MonthCloseResult:
    """Outputs of the accepted month closes.

    Attributes:
        tcv: ``month, user_id, tcv_fen`` (non-monetary score, in fen of GMV).
        partners: ``user_id, partner_seq`` (seq of the promoting tick).
        dividend: ``month, user_id, tcv_fen, share_fen, cap_cut_fen, amount_fen``
            (empty unless ``dividend_enabled``).
        platform_returned: ``month, pool_fen, paid_fen, returned_fen``.
    """

    tcv: pd.DataFrame
    partners: pd.DataFrame
    dividend: pd.DataFrame
    platform_returned: pd.DataFrame

    def dividend_records(self, version: str) -> list[dict[str, Any]]:
        """Ledger records (kind ``DIVIDEND``) of the paid dividend lines, ids by content."""
        out = []
        paid = self.dividend[self.dividend["amount_fen"] > 0]
        for row in paid.to_dict("records"):
            key = [version, "DIVIDEND", row["month"], int(row["user_id"])]
            eid = hashlib.sha256(json.dumps(key, separators=(",", ":")).encode()).hexdigest()
            out.append(
                {
                    "entry_id": eid,
                    "kind": "DIVIDEND",
                    "month": row["month"],
                    "user_id": int(row["user_id"]),
                    "amount_fen": int(row["amount_fen"]),
                    "cap_cut_fen": int(row["cap_cut_fen"]),
                    "config_version": version,
                }
            )
        return out


def largest_remainder(pool: int, weights: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Split ``pool`` (fen) pro rata to integer ``weights``; parts sum to ``pool`` exactly.

    Floors first, then one fen each to the largest remainders (ties: smaller id).
    """
    total = int(weights.sum())
    if total <= 0 or pool <= 0:
        return np.zeros(len(weights), np.int64)
    scaled = [pool * int(w) for w in weights.tolist()]  # Python ints: no overflow
    parts = np.array([s // total for s in scaled], dtype=np.int64)
    rema = np.array([s % total for s in scaled], dtype=object)
    left = pool - int(parts.sum())
    order = sorted(range(len(weights)), key=lambda i: (-rema[i], ids[i]))
    parts[order[:left]] += 1
    return parts


def _orders(history: History, tz: str, ids: IdSpaces) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per accepted order: buyer (the caller's id), month, base, settle tick, first-order
    flag; and refunds."""
    orders, accepted = history.orders, history.accepted
    users = ids.spaces.get("user")
    receipts = accepted.receipts
    base = np.zeros(len(orders.ev), dtype=np.int64)
    np.add.at(base, orders.line_order, orders.paid - orders.balance)
    month_code, months = month_codes(orders.ts, tz)
    tick = np.full(len(orders.ev), NEVER, dtype=np.int64)
    tick[receipts.order] = accepted.ticks.seq_at(receipts.tick)
    frame = pd.DataFrame(
        {
            "order_id": orders.order_id,
            "seq": orders.seq,
            "user_id": orders.user_id if users is None else users.ids(orders.user_id),
            "month": np.array(months, dtype=object)[month_code] if months else month_code,
            "base": base,
            "tick_seq": tick,
        }
    )
    frame["first_order"] = frame["seq"] == frame.groupby("user_id")["seq"].transform("min")
    refunds = accepted.refunds
    refund_frame = pd.DataFrame(
        {
            "order_id": orders.order_id[orders.line_order[refunds.line]],
            "refund_seq": refunds.seq,
            "refund": refunds.amount,
        }
    )
    return frame.sort_values("order_id", kind="stable").reset_index(drop=True), refund_frame


def _refunded_before(orders: pd.DataFrame, refunds: pd.DataFrame, seq: np.ndarray) -> np.ndarray:
    """Refunded amount of each order by refunds with seq < ``seq`` (aligned with orders)."""
    merged = refunds.merge(
        pd.DataFrame({"order_id": orders["order_id"], "limit": seq}), on="order_id"
    )
    merged = merged[merged["refund_seq"] < merged["limit"]]
    total = merged.groupby("order_id")["refund"].sum()
    return total.reindex(orders["order_id"]).fillna(0).to_numpy(dtype=np.int64)


def _ancestors(users: pd.DataFrame, depth: int) -> pd.DataFrame:
    """``user_id, ancestor_id, level`` over the inviter tree, levels 1..depth."""
    inviter = users.set_index("user_id")["inviter_id"]
    frames, current = [], as_ids(inviter.dropna())
    for level in range(1, depth + 1):
        frames.append(
            pd.DataFrame(
                {
                    "user_id": current.index.to_numpy(),
                    "ancestor_id": current.to_numpy(),
                    "level": level,
                }
            )
        )
        up = inviter.reindex(current.to_numpy())
        keep = up.notna().to_numpy()
        current = as_ids(pd.Series(up.to_numpy()[keep], index=current.index[keep]))
    return pd.concat(frames, ignore_index=True)


def close_months(
    settlement: Settlement, events: pd.DataFrame, config: ReferralConfig | None = None
) -> MonthCloseResult:
    """TCV, partners and dividend at each accepted ``MONTH_CLOSE`` of ``events``.

    Args:
        settlement: the settlement of ``events`` under ``config``.
        events: the events frame the settlement was computed from.
        config: rules; default: ``settlement.config``.
    """
    config = config_or(config, settlement.config)
    inc = config.incentives
    frame = read_frame(events)
    history = accept_history(read_tables(frame), {config.config_version: config}, Limits())
    orders, refunds = _orders(history, config.timezone, frame.ids)
    users = settlement.users.set_index("user_id")
    member, banned = users["member_seq"], users["banned_seq"]
    anc = _ancestors(settlement.users, inc.tcv_depth)
    closes = history.accepted.closes
    contrib = pd.Series(dtype="int64", index=pd.MultiIndex.from_arrays([[], []]))
    tcv_parts, div_parts, ret_parts = [], [], []
    credited = _credited(settlement)
    for month, close_seq in sorted(zip(closes.text.tolist(), closes.seq.tolist(), strict=True)):
        in_month = orders[orders["month"] == month]
        activity = _activity(in_month, refunds, close_seq, inc.repurchase_min_fen)
        is_member = anc["ancestor_id"].map(member).lt(close_seq).fillna(False).to_numpy(bool)
        pairs: pd.Index = anc[is_member].set_index(["ancestor_id", "user_id"]).index
        contrib = _contributions(contrib, pairs, activity, inc.tcv_decay_bp)
        tcv = contrib.groupby(level=0).sum()
        tcv = tcv[tcv > 0]
        tcv_parts.append(
            pd.DataFrame(
                {
                    "month": month,
                    "user_id": as_ids(pd.Series(tcv.index)).to_numpy(),
                    "tcv_fen": tcv.to_numpy(dtype=np.int64),
                }
            )
        )
        if inc.dividend_enabled:
            div, returned = _dividend(
                month, close_seq, tcv, banned, history.accepted.holds, credited, settlement, config
            )
            div_parts.append(div)
            ret_parts.append(returned)
    return MonthCloseResult(
        tcv=_concat(tcv_parts, ["month", "user_id", "tcv_fen"]),
        partners=_partners(
            orders, refunds, anc, member, inc.partner_repurchase_count, inc.repurchase_min_fen
        ),
        dividend=_concat(div_parts, _DIVIDEND_COLUMNS),
        platform_returned=_concat(ret_parts, ["month", "pool_fen", "paid_fen", "returned_fen"]),
    )


_DIVIDEND_COLUMNS = ["month", "user_id", "tcv_fen", "share_fen", "cap_cut_fen", "amount_fen"]


def _activity(
    in_month: pd.DataFrame, refunds: pd.DataFrame, close_seq: int, minimum: int
) -> pd.DataFrame:
    """Per buyer of the month's orders: settled net GMV and activity at the close (R7)."""
    refunded = _refunded_before(in_month, refunds, np.full(len(in_month), close_seq))
    base = in_month["base"].to_numpy()
    net = np.maximum(base - refunded, 0)
    settled = in_month["tick_seq"].to_numpy() < close_seq
    frame = pd.DataFrame(
        {
            "user_id": in_month["user_id"],
            "gmv": np.where(settled, net, 0),
            "active": (base >= minimum) & (net >= minimum),
        }
    )
    return frame.groupby("user_id").agg(gmv=("gmv", "sum"), active=("active", "any"))


def _contributions(
    contrib: pd.Series, pairs: pd.Index, activity: pd.DataFrame, decay_bp: int
) -> pd.Series:
    """R7: ``contrib(u, s, m)`` from last month's, decayed unless ``s`` was active, + GMV."""
    keys = pairs.union(contrib.index) if len(contrib) else pairs
    prev = contrib.reindex(keys, fill_value=0).to_numpy(dtype=np.int64)
    s_ids = keys.get_level_values(1)
    active = activity["active"].reindex(s_ids, fill_value=False).to_numpy(dtype=bool)
    gmv = activity["gmv"].reindex(s_ids, fill_value=0).to_numpy(dtype=np.int64)
    kept = np.where(active, prev, prev * (10_000 - decay_bp) // 10_000)
    return pd.Series(kept + gmv, index=keys)


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if parts:
        return pd.concat(parts, ignore_index=True)[columns]
    return pd.DataFrame({c: pd.Series(dtype=object if c == "month" else "int64") for c in columns})


def _credited(settlement: Settlement) -> pd.Series:
    """Credited commissions per (user_id, accrual month), fen (R4.6 running total at the end;
    a refund of a commission awaiting approval frees headroom, a decline does not)."""
    e = settlement.entries
    money = e[e["kind"].isin(["COMMISSION", "REVERSAL", "CLAWBACK", "AWAIT_REVERSAL"])]
    grouped = money.groupby([as_ids(money["user_id"]), money["month"].astype(str)])
    return grouped["amount_fen"].sum().astype("int64")


def _dividend(
    month: str,
    close_seq: int,
    tcv: pd.Series,
    banned: pd.Series,
    holds: Holds,
    credited: pd.Series,
    settlement: Settlement,
    config: ReferralConfig,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    inc = config.incentives
    ids = as_ids(settlement.users["user_id"]).to_numpy()
    held = {int(ids[u]) for u in holds.spans if holds.held_at(u, close_seq)}
    ban = banned.reindex(tcv.index)
    ok = (ban.isna() | (ban >= close_seq)).to_numpy() & ~tcv.index.isin(list(held))
    pool_users = pd.DataFrame(
        {"user_id": as_ids(pd.Series(tcv.index[ok])).to_numpy(), "tcv_fen": tcv[ok]}
    )
    pool_users = pool_users.sort_values(["tcv_fen", "user_id"], ascending=[False, True])
    k = -(-len(pool_users) * inc.dividend_top_fraction_bp // 10_000)
    top = pool_users.head(k).reset_index(drop=True)
    share = largest_remainder(
        inc.dividend_pool_fen, top["tcv_fen"].to_numpy(np.int64), top["user_id"].to_numpy()
    )
    used = credited.reindex(pd.MultiIndex.from_arrays([top["user_id"], [month] * len(top)]))
    room = np.maximum(config.monthly_cap_fen - used.fillna(0).to_numpy(dtype=np.int64), 0)
    amount = np.minimum(share, room)
    div = top.assign(month=month, share_fen=share, cap_cut_fen=share - amount, amount_fen=amount)[
        ["month", "user_id", "tcv_fen", "share_fen", "cap_cut_fen", "amount_fen"]
    ]
    paid = int(amount.sum())
    returned = pd.DataFrame(
        {
            "month": [month],
            "pool_fen": [inc.dividend_pool_fen],
            "paid_fen": [paid],
            "returned_fen": [inc.dividend_pool_fen - paid],
        }
    )
    return div, returned


def _partners(
    orders: pd.DataFrame,
    refunds: pd.DataFrame,
    anc: pd.DataFrame,
    member: pd.Series,
    need: int,
    minimum: int,
) -> pd.DataFrame:
    """First tick seq at which a member's depth <= 2 subtree has ``need`` settled repurchases."""
    settled = orders[orders["tick_seq"] != NEVER]
    refunded = _refunded_before(settled, refunds, settled["tick_seq"].to_numpy())
    repurchase = settled[
        (~settled["first_order"]) & (settled["base"] >= minimum) & (refunded < settled["base"])
    ]
    rows = repurchase[["user_id", "tick_seq"]].merge(anc[anc["level"] <= 2], on="user_id")
    rows = rows.sort_values(["ancestor_id", "tick_seq"], kind="stable")
    rows["n"] = rows.groupby("ancestor_id").cumcount() + 1
    hit = rows[rows["n"] == need]
    hit = hit[hit["ancestor_id"].map(member).notna().to_numpy()]
    out = pd.DataFrame(
        {
            "user_id": as_ids(hit["ancestor_id"]).to_numpy(),
            "partner_seq": hit["tick_seq"].to_numpy(dtype=np.int64),
        }
    )
    return out.sort_values("user_id").reset_index(drop=True)


def badges(settlement: Settlement, config: ReferralConfig | None = None) -> pd.DataFrame:
    """Per user with points: net points, badge, uplift (bp) and logistics priority (R10)."""
    config = config_or(config, settlement.config)
    inc = config.incentives
    energy = settlement.energy
    if energy is None or energy.empty:
        points = pd.Series(dtype="int64")
    else:
        points = energy.groupby("user_id")["points"].sum()
    level = np.array([inc.badge_index(int(p)) for p in points.to_numpy()], dtype=np.int64)
    names = np.array([None, *(b.name for b in inc.badges)], dtype=object)
    uplift = np.array([0, *(b.uplift_bp for b in inc.badges)], dtype=np.int64)
    priority = np.array([False, *(b.logistics_priority for b in inc.badges)], dtype=bool)
    return pd.DataFrame(
        {
            "user_id": as_ids(pd.Series(points.index)).to_numpy(),
            "points": points.to_numpy(dtype=np.int64),
            "badge": names[level + 1],
            "uplift_bp": uplift[level + 1] if config.badge_uplift_enabled else 0,
            "logistics_priority": priority[level + 1],
        }
    )
