"""Team-health monitor (R11): deterministic rules plus an anomaly score raise holds.

No money is computed here. Per team (an inviter and their direct invitees) the
monitor derives features from the events frame:

| feature | meaning |
|---|---|
| ``n_invitees`` | bound invitees |
| ``max_binds_per_hour`` | most binds to the inviter in one clock hour |
| ``min_amount_share`` | share of invitees' first orders within +5% of ``repurchase_min_fen`` |
| ``refund_ratio`` | refunded / paid over the invitees' order lines |
| ``reciprocal_pairs`` | invitees who bought the same amount as the inviter on the same day |
| ``orders_per_invitee`` | invitee orders per invitee |

Rules (thresholds in :class:`HealthConfig`) flag bursts, minimum-amount
concentration, refund ratios and reciprocal buying; an
:class:`~sklearn.ensemble.IsolationForest` over the log features flags the
``anomaly_fraction`` most isolated teams. A flagged team's inviter gets a HOLD
(:func:`hold_events`), which pauses settlement and never changes an amount.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from pydantic import Field

from chainmall._validation import Column, check_frame, check_scalar, require_columns
from chainmall.config import EngineConfig
from chainmall.exceptions import ConfigError, DataValidationError
from chainmall.referral.frame import read_frame
from chainmall.referral.ids import as_ids

__all__ = ["HealthConfig", "health_report", "hold_events", "inject_fraud_rings", "team_features"]

FEATURES = (
    "n_invitees",
    "max_binds_per_hour",
    "min_amount_share",
    "refund_ratio",
    "reciprocal_pairs",
    "orders_per_invitee",
)


class HealthConfig(EngineConfig):
    """Team-health thresholds and the anomaly model's settings."""

    min_team_size: int = Field(default=3, ge=1, description="teams smaller are not scored")
    max_binds_per_hour: int = Field(default=8, ge=1, description="bind burst threshold (count)")
    min_amount_fen: int = Field(default=5_000, ge=1, description="minimum qualifying amount (fen)")
    min_amount_share: float = Field(
        default=0.6, gt=0, le=1, description="share of first orders at the minimum that flags"
    )
    refund_ratio: float = Field(default=0.3, gt=0, le=1, description="refund ratio that flags")
    reciprocal_pairs: int = Field(default=3, ge=1, description="reciprocal pairs that flag")
    min_orders: int = Field(default=5, ge=1, description="orders needed for ratio rules")
    anomaly_fraction: float = Field(
        default=0.01, ge=0, le=0.5, description="share of teams the anomaly score flags"
    )
    n_estimators: int = Field(default=200, ge=10, description="IsolationForest trees")


def team_features(events: pd.DataFrame, config: HealthConfig | None = None) -> pd.DataFrame:
    """Per inviter with >= ``min_team_size`` invitees: the features of the module table."""
    config = _health_config(config)
    read_frame(events)  # the events frame's schema: labels, aware one-zone times, integers
    require_columns(events, ["type", "ts", "user_id"], name="events")
    binds = events[events["type"] == "BOUND"].drop_duplicates("user_id")
    inviter = as_ids(binds.set_index("user_id")["inviter_id"])
    hour = binds["ts"].dt.floor("h")
    per_hour = binds.groupby([as_ids(binds["inviter_id"]), hour]).size()
    feats = pd.DataFrame(
        {
            "n_invitees": inviter.value_counts(),
            "max_binds_per_hour": per_hour.groupby(level=0).max(),
        }
    )
    feats = feats[feats["n_invitees"] >= config.min_team_size]
    paid = events[events["type"] == "ORDER_PAID"]
    base = paid["amount_fen"].astype("int64") - paid["balance_paid_fen"].fillna(0).astype("int64")
    orders = (
        paid.assign(base=base, day=paid["ts"].dt.floor("D"))
        .groupby("order_id")
        .agg(
            user_id=("user_id", "first"),
            base=("base", "sum"),
            day=("day", "first"),
            seq=("seq", "first"),
        )
        .reset_index()
    )
    orders["inviter"] = orders["user_id"].map(inviter)
    team_orders = orders[orders["inviter"].notna()]
    team_orders = team_orders.assign(inviter=as_ids(team_orders["inviter"]))
    first = team_orders.sort_values("seq").drop_duplicates("user_id")
    at_min = (first["base"] >= config.min_amount_fen) & (
        first["base"] <= config.min_amount_fen * 105 // 100
    )
    by_team = first.assign(at_min=at_min).groupby("inviter")
    feats["min_amount_share"] = by_team["at_min"].mean()
    feats["n_orders"] = team_orders.groupby("inviter").size()
    refunds = events[events["type"] == "REFUND"]
    line_buyer = paid.set_index("line_id")["user_id"]
    ref_team = refunds["line_id"].map(line_buyer).map(inviter)
    refunded = refunds["amount_fen"].astype("int64").groupby(ref_team.to_numpy()).sum()
    paid_team = paid["amount_fen"].astype("int64").groupby(paid["user_id"].map(inviter)).sum()
    feats["refund_ratio"] = (refunded / paid_team).reindex(feats.index)
    own = orders[["user_id", "day", "base"]].rename(columns={"user_id": "inviter"})
    pairs = team_orders.merge(own, on=["inviter", "day", "base"]).drop_duplicates(
        ["inviter", "user_id"]
    )
    feats["reciprocal_pairs"] = pairs.groupby("inviter").size()
    feats = feats.fillna(0)
    feats["orders_per_invitee"] = feats["n_orders"] / feats["n_invitees"]
    feats.index.name = "user_id"
    return feats.reset_index()[["user_id", *FEATURES, "n_orders"]]


def health_report(
    events: pd.DataFrame, config: HealthConfig | None = None, *, seed: int = 0
) -> pd.DataFrame:
    """Features, rule flags, anomaly score and the hold decision per team (inviter).

    Returns:
        :func:`team_features` plus ``rule_burst, rule_min_amount, rule_refund,
        rule_reciprocal, anomaly_score`` (higher = more isolated), ``anomaly``,
        ``hold`` and ``reasons`` (comma-separated).
    """
    from sklearn.ensemble import IsolationForest

    config = _health_config(config)
    seed = check_scalar(seed, "seed", "count", ge=0, le=2**32 - 1)
    feats = team_features(events, config)
    enough = feats["n_orders"] >= config.min_orders
    flags = {
        "rule_burst": feats["max_binds_per_hour"] > config.max_binds_per_hour,
        "rule_min_amount": enough & (feats["min_amount_share"] >= config.min_amount_share),
        "rule_refund": enough & (feats["refund_ratio"] >= config.refund_ratio),
        "rule_reciprocal": feats["reciprocal_pairs"] >= config.reciprocal_pairs,
    }
    out = feats.assign(**flags)
    score = np.zeros(len(feats))
    if len(feats) >= 10 and config.anomaly_fraction > 0:
        x = np.log1p(feats[list(FEATURES)].to_numpy(dtype=float))
        model = IsolationForest(n_estimators=config.n_estimators, random_state=seed)
        score = -model.fit(x).score_samples(x)
    k = int(np.ceil(config.anomaly_fraction * len(feats)))
    rank = np.argsort(np.argsort(-score, kind="stable"), kind="stable")
    out["anomaly_score"] = score
    out["anomaly"] = rank < k
    names = [*flags, "anomaly"]
    out["hold"] = out[names].any(axis=1)
    out["reasons"] = [
        ",".join(n.removeprefix("rule_") for n in names if row[n])
        for row in out[names].to_dict("records")
    ]
    return out


def hold_events(report: pd.DataFrame, *, start_seq: int, ts: pd.Timestamp) -> pd.DataFrame:
    """HOLD events (one per held team inviter) to append to an events frame at ``ts``.

    ``report`` is :func:`health_report`'s frame (``user_id``, ``hold``); the events
    are numbered from ``start_seq``; ``ts`` is a timezone-aware instant.
    """
    check_frame(report, _REPORT, name="report", id_column="user_id", allow_empty=True)
    start_seq = check_scalar(start_seq, "start_seq", "count", ge=1)
    ts = _instant(ts, "ts")
    held = as_ids(report.loc[report["hold"], "user_id"])
    return pd.DataFrame(
        {
            "seq": np.arange(start_seq, start_seq + len(held), dtype=np.int64),
            "type": "HOLD",
            "ts": pd.Series([ts] * len(held), dtype=f"datetime64[ns, {ts.tz}]"),
            "user_id": held.astype("Int64" if held.dtype == np.int64 else object).to_numpy(),
        }
    )


_REPORT = (Column("user_id", "id"), Column("hold", "flag"))


def _health_config(config: object) -> HealthConfig:
    if config is None:
        return HealthConfig()
    if not isinstance(config, HealthConfig):
        raise ConfigError(f"config must be a HealthConfig or None, got {type(config).__name__}")
    return config


def _instant(value: object, name: str) -> pd.Timestamp:
    """``value`` as a timezone-aware Timestamp inside pandas' range, or an error."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise DataValidationError(
            f"{name} must be a timezone-aware datetime, got {type(value).__name__} {value!r}; "
            "e.g. pandas.Timestamp('2025-03-01 12:00', tz='Asia/Shanghai')"
        )
    try:
        return pd.Timestamp(value).as_unit("ns")
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        raise DataValidationError(
            f"{name} = {value!r} is outside 1677-09-22 .. 2262-04-11; pass a real instant"
        ) from None


def inject_fraud_rings(
    events: pd.DataFrame,
    *,
    n_rings: int = 10,
    ring_size: int = 12,
    seed: int = 0,
    min_amount_fen: int = 5_000,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Add fraud rings to an events frame; return the new frame and the ring leaders.

    A ring: an existing user (the leader) binds ``ring_size`` new accounts within
    minutes; each buys once at exactly the minimum qualifying amount the next day,
    the leader buys the same amount that day (reciprocal buying), and half of the
    ring's orders are refunded three days later. ``seq`` is renumbered by time.
    """
    rng = np.random.default_rng(seed)
    registered = events[events["type"] == "REGISTERED"]
    users = registered["user_id"].astype("int64").to_numpy()
    span = events["ts"].quantile([0.1, 0.6]).to_numpy()
    early = users[(registered["ts"] < span[0]).to_numpy()]
    leaders = rng.choice(early, size=n_rings, replace=False)
    next_user = int(users.max()) + 1
    next_id = int(max(events["order_id"].max(), events["line_id"].max())) + 1
    next_refund = int(events["refund_id"].max() if events["refund_id"].notna().any() else 0) + 1
    rows: list[dict[str, object]] = []
    minute, day = pd.Timedelta(minutes=1), pd.Timedelta(days=1)
    for leader in leaders.tolist():
        t0 = span[0] + (span[1] - span[0]) * rng.random()
        buyers = [leader]
        for i in range(ring_size):
            u, t = next_user, t0 + i * minute * 3
            next_user += 1
            buyers.append(u)
            rows += [
                {"type": "REGISTERED", "ts": t, "user_id": u},
                {"type": "BOUND", "ts": t, "user_id": u, "inviter_id": leader},
            ]
        for i, u in enumerate(buyers):
            t, oid = t0 + day + i * minute, next_id
            next_id += 1
            rows += [
                {
                    "type": "ORDER_PAID",
                    "ts": t,
                    "user_id": u,
                    "order_id": oid,
                    "line_id": oid,
                    "amount_fen": min_amount_fen,
                    "balance_paid_fen": 0,
                },
                {"type": "ORDER_RECEIVED", "ts": t + day, "order_id": oid},
            ]
            if i % 2:
                rows.append(
                    {
                        "type": "REFUND",
                        "ts": t + 3 * day,
                        "refund_id": next_refund,
                        "line_id": oid,
                        "amount_fen": min_amount_fen,
                    }
                )
                next_refund += 1
    extra = pd.DataFrame(rows)
    extra["ts"] = pd.to_datetime(extra["ts"], utc=True)
    old = events.assign(_key=events["seq"].astype("int64"))
    extra["_key"] = int(old["_key"].max()) + 1 + np.arange(len(extra))
    merged = pd.concat([old, extra], ignore_index=True).sort_values(["ts", "_key"], kind="stable")
    key = merged.pop("_key").to_numpy()
    merged["seq"] = np.cumsum(np.r_[True, key[1:] != key[:-1]]).astype("int64")
    for col in (
        "user_id",
        "inviter_id",
        "order_id",
        "line_id",
        "amount_fen",
        "balance_paid_fen",
        "refund_id",
    ):
        if col in merged:
            merged[col] = merged[col].astype("Int64")
    return merged.reset_index(drop=True), np.sort(leaders)
