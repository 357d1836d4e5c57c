"""Inventory simulator for periodic-review order-up-to policies (vectorised over SKUs).

Each period ``t`` (for every series at once): orders placed ``L`` periods ago
arrive; on review periods (``t % R == 0``) the order ``max(S_t - IP_t, 0)`` is
placed, where ``IP`` is on hand plus on order; demand (clipped at 0) is served
from stock on hand; unmet demand is lost (or back-ordered). Reported per series:

* fill rate = served / demand;
* cycle service = share of review cycles without a stock-out;
* stockout periods = periods whose demand was not fully served;
* days of supply = mean end-of-period stock / mean daily demand
  (``period_days`` days per period);
* turnover = served demand / mean end-of-period stock, per year;
* slow mover = days of supply above ``slow_days``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from chainmall.exceptions import DataValidationError

__all__ = ["SimulationResult", "simulate_order_up_to"]


@dataclass(frozen=True)
class SimulationResult:
    """Trajectories ``(n_series, T)`` and per-series KPIs."""

    on_hand_end: np.ndarray
    orders: np.ndarray
    served: np.ndarray
    kpis: pd.DataFrame

    def summary(self) -> dict[str, float]:
        """Portfolio means: fill rate, cycle service, stockout periods, days of supply, ..."""
        k = self.kpis
        return {
            "fill_rate": float(k["fill_rate"].mean()),
            "cycle_service": float(k["cycle_service"].mean()),
            "stockout_periods": float(k["stockout_periods"].mean()),
            "days_of_supply": float(k["days_of_supply"].mean()),
            "turnover": float(k["turnover"].mean()),
            "slow_mover_share": float(k["slow_mover"].mean()),
        }


def simulate_order_up_to(
    demand: np.ndarray,
    order_up_to: np.ndarray,
    *,
    lead_time: int = 1,
    review: int = 1,
    initial_on_hand: np.ndarray | None = None,
    lost_sales: bool = True,
    period_days: float = 7.0,
    slow_days: float = 56.0,
    ids: list[str] | None = None,
) -> SimulationResult:
    """Simulate an (R, S) policy; ``order_up_to[:, t]`` is S at review period ``t``.

    ``initial_on_hand`` defaults to ``order_up_to[:, 0]``. Loop over periods only
    (sequential), vectorised over series.
    """
    d = np.maximum(np.asarray(demand, dtype="float64"), 0.0)
    s = np.asarray(order_up_to, dtype="float64")
    if d.shape != s.shape or d.ndim != 2:
        raise DataValidationError(
            f"demand and order_up_to must share shape (n_series, T); got {d.shape}, {s.shape}"
        )
    if lead_time < 0 or review < 1:
        raise DataValidationError("lead_time must be >= 0 and review >= 1 periods")
    n, horizon = d.shape
    on_hand = (
        s[:, 0] if initial_on_hand is None else np.asarray(initial_on_hand, dtype="float64")
    ).copy()
    pipeline = np.zeros((n, horizon + lead_time + 1))
    on_hand_end = np.zeros((n, horizon))
    orders = np.zeros((n, horizon))
    served = np.zeros((n, horizon))
    for t in range(horizon):
        on_hand += pipeline[:, t]
        if t % review == 0:
            position = on_hand + pipeline[:, t + 1 :].sum(axis=1)
            orders[:, t] = np.maximum(s[:, t] - position, 0.0)
            if lead_time == 0:
                on_hand += orders[:, t]
            else:
                pipeline[:, t + lead_time] += orders[:, t]
        served[:, t] = np.minimum(d[:, t], np.maximum(on_hand, 0.0))
        on_hand -= d[:, t] if not lost_sales else served[:, t]
        on_hand_end[:, t] = on_hand
    total = d.sum(axis=1)
    short = served < d - 1e-9
    cycles = np.add.reduceat(short, np.arange(0, horizon, review), axis=1) > 0
    stock = np.maximum(on_hand_end, 0.0).mean(axis=1)
    daily = total / horizon / period_days
    days = np.divide(stock, daily, out=np.full(n, np.inf), where=daily > 0)
    kpis = pd.DataFrame(
        {
            "unique_id": ids if ids is not None else np.arange(n),
            "fill_rate": np.divide(served.sum(axis=1), total, out=np.ones(n), where=total > 0),
            "cycle_service": 1.0 - cycles.mean(axis=1),
            "stockout_periods": short.sum(axis=1),
            "days_of_supply": days,
            "turnover": np.divide(
                served.sum(axis=1) * (365.0 / (horizon * period_days)),
                stock,
                out=np.zeros(n),
                where=stock > 0,
            ),
            "slow_mover": days > slow_days,
        }
    )
    return SimulationResult(on_hand_end, orders, served, kpis)
