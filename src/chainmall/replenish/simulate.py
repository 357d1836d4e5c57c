"""Inventory simulator for periodic-review (R, S) and (R, s, S) policies (vectorised over SKUs).

Each period ``t`` (for every series at once): orders due arrive; on review
periods (``t % R == 0``) the order ``max(S_t - IP_t, 0)`` is placed, where
``IP`` is on hand plus on order — under an (s, S) policy only when
``IP_t ≤ s_t``; it arrives after the lead time ``L`` (fixed, or one draw per
order from an empirical distribution: orders may cross); demand (clipped at 0)
is served from stock on hand; unmet demand is lost (or back-ordered).
Reported per series:

* fill rate = served / demand;
* cycle service = share of review cycles without a stock-out;
* stockout periods = periods whose demand was not fully served;
* days of supply = mean end-of-period stock / mean daily demand
  (``period_days`` days per period);
* turnover = served demand / mean end-of-period stock, per year;
* slow mover = days of supply above ``slow_days``;
* orders = orders placed (for fixed ordering costs).

:func:`simulate_service_feedback` closes the loop on the service level
(adaptive conformal inference, Gibbs & Candès 2021): the order-up-to level of
each review is ``D̂ + SS(ℓ_t)`` and after each review cycle the level moves by
``ℓ_{t+1} = ℓ_t + γ (stockout share_t − (1 − target))``, so the achieved cycle
service tracks the target even where stock already above ``S`` (no order) or
shifting error scales make a fixed level over- or under-protect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chainmall._validation import check_array, check_scalar
from chainmall.exceptions import DataValidationError
from chainmall.replenish._checks import MAX_PERIODS, matrix, service_level

__all__ = ["SimulationResult", "simulate_order_up_to", "simulate_service_feedback"]


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
            "orders": float(k["orders"].mean()),
        }


def _lead_times(lead_time: int | np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Lead time of the order placed at each (series, period), in periods."""
    if np.ndim(lead_time) == 0:
        fixed = check_scalar(lead_time, "lead_time", "count", ge=0, le=MAX_PERIODS)
        return np.full(shape, fixed, dtype=np.int64)
    lt = check_array(lead_time, "lead_time", "count", ndim=2, ge=0, le=MAX_PERIODS)
    if lt.shape != shape:
        raise DataValidationError(
            f"lead_time must be an int or an integer array of shape {shape}, "
            f"got {lt.dtype} {lt.shape}; draw per-order lead times with rng.choice"
        )
    return lt.astype(np.int64)


def _periods(review: Any, period_days: Any, slow_days: Any) -> tuple[int, float, float]:
    """The review period (periods) and the day counts, checked."""
    return (
        check_scalar(review, "review", "count", ge=1, le=MAX_PERIODS),
        check_scalar(period_days, "period_days", "number", gt=0),
        check_scalar(slow_days, "slow_days", "number", gt=0),
    )


def _check_shapes(d: np.ndarray, other: np.ndarray, name: str) -> None:
    if d.shape != other.shape or d.ndim != 2:
        raise DataValidationError(
            f"demand and {name} must share shape (n_series, T); got {d.shape}, {other.shape}"
        )


def _run(
    d: np.ndarray,
    level_at: Callable[[int, np.ndarray], np.ndarray],
    trigger: np.ndarray,
    lead: np.ndarray,
    review: int,
    on_hand: np.ndarray,
    lost_sales: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Period loop (sequential), vectorised over series: (on_hand_end, orders, served).

    ``level_at(t, short)`` gives S at review ``t`` from the stock-out flags so far.
    """
    n, horizon = d.shape
    on_hand = on_hand.copy()
    rows = np.arange(n)
    pipeline = np.zeros((n, horizon + int(lead.max(initial=0)) + 1))
    on_hand_end = np.zeros((n, horizon))
    orders = np.zeros((n, horizon))
    served = np.zeros((n, horizon))
    for t in range(horizon):
        on_hand += pipeline[:, t]
        if t % review == 0:
            position = on_hand + pipeline[:, t + 1 :].sum(axis=1)
            due = position <= trigger[:, t]
            level = level_at(t, served[:, :t] < d[:, :t] - 1e-9)
            orders[:, t] = np.where(due, np.maximum(level - position, 0.0), 0.0)
            now = lead[:, t] == 0
            on_hand += np.where(now, orders[:, t], 0.0)
            pipeline[rows, t + lead[:, t]] += np.where(now, 0.0, orders[:, t])
        served[:, t] = np.minimum(d[:, t], np.maximum(on_hand, 0.0))
        on_hand -= d[:, t] if not lost_sales else served[:, t]
        on_hand_end[:, t] = on_hand
    return on_hand_end, orders, served


def _result(
    d: np.ndarray,
    trajectories: tuple[np.ndarray, np.ndarray, np.ndarray],
    review: int,
    period_days: float,
    slow_days: float,
    ids: list[str] | None,
) -> SimulationResult:
    """Per-series KPIs of simulated trajectories (see the module docstring)."""
    on_hand_end, orders, served = trajectories
    n, horizon = d.shape
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
            "orders": (orders > 0).sum(axis=1),
        }
    )
    return SimulationResult(on_hand_end, orders, served, kpis)


def simulate_order_up_to(
    demand: np.ndarray,
    order_up_to: np.ndarray,
    *,
    lead_time: int | np.ndarray = 1,
    review: int = 1,
    reorder_level: np.ndarray | None = None,
    initial_on_hand: np.ndarray | None = None,
    lost_sales: bool = True,
    period_days: float = 7.0,
    slow_days: float = 56.0,
    ids: list[str] | None = None,
) -> SimulationResult:
    """Simulate an (R, S) policy; ``order_up_to[:, t]`` is S at review period ``t``.

    Args:
        demand, order_up_to: ``(n_series, T)`` units per period and levels.
        lead_time: periods until an order arrives: an int, or ``(n_series, T)``
            integers, the lead time of the order placed at each period.
        review: review period ``R`` in periods.
        reorder_level: ``(n_series, T)`` levels ``s``: order (up to ``S``) only when
            the inventory position is at or below ``s`` — an (R, s, S) policy.
        initial_on_hand: stock at the start; defaults to ``order_up_to[:, 0]``.
        lost_sales: unmet demand is lost (else back-ordered).
        period_days, slow_days: days per period; days of supply that flag a slow mover.
        ids: series ids for the KPI frame.
    """
    d = np.maximum(matrix(demand, "demand"), 0.0)
    s = matrix(order_up_to, "order_up_to")
    _check_shapes(d, s, "order_up_to")
    review, period_days, slow_days = _periods(review, period_days, slow_days)
    check_scalar(lost_sales, "lost_sales", "flag")
    trigger = (
        np.full(d.shape, np.inf)
        if reorder_level is None
        else matrix(reorder_level, "reorder_level")
    )
    _check_shapes(d, trigger, "reorder_level")
    start = (
        s[:, 0]
        if initial_on_hand is None
        else check_array(initial_on_hand, "initial_on_hand", "number")
    )
    if start.shape != (d.shape[0],):
        raise DataValidationError(
            f"initial_on_hand must hold one level per series ({d.shape[0]}), got {start.shape}"
        )
    trajectories = _run(
        d,
        lambda t, _short: s[:, t],
        trigger,
        _lead_times(lead_time, d.shape),
        review,
        start,
        lost_sales,
    )
    return _result(d, trajectories, review, period_days, slow_days, ids)


def simulate_service_feedback(
    demand: np.ndarray,
    expected: np.ndarray,
    safety_at: Callable[[int, float], np.ndarray],
    target: float,
    *,
    adapt_rate: float = 0.2,
    warmup: int = 0,
    lead_time: int | np.ndarray = 1,
    review: int = 1,
    lost_sales: bool = True,
    period_days: float = 7.0,
    slow_days: float = 56.0,
    ids: list[str] | None = None,
) -> tuple[SimulationResult, np.ndarray]:
    """(R, S) with ``S_t = expected_t + max(safety_at(t, ℓ_t), 0)`` and the level ``ℓ`` fed back.

    Args:
        demand, expected: ``(n_series, T)`` demand and forecast over the protection interval.
        safety_at: ``safety_at(t, level)`` -> safety stock per series at review ``t``, e.g.
            :meth:`chainmall.replenish.conformal.ConformalSafetyStock.at`.
        target: cycle-service target in (0, 1); the first level.
        adapt_rate: ``γ``, level change per unit of stock-out share above the allowed
            ``1 - target`` (0 keeps the level fixed).
        warmup: first periods that only tune the level and stock; KPIs cover the rest.
        lead_time, review, lost_sales, period_days, slow_days, ids: as
            :func:`simulate_order_up_to`.

    Returns:
        The KPIs after the warm-up and the level used at each period ``(T,)``.
    """
    target = service_level(target, "target")
    adapt_rate = check_scalar(adapt_rate, "adapt_rate", "number", ge=0)
    d = np.maximum(matrix(demand, "demand"), 0.0)
    mean = matrix(expected, "expected")
    _check_shapes(d, mean, "expected")
    review, period_days, slow_days = _periods(review, period_days, slow_days)
    check_scalar(lost_sales, "lost_sales", "flag")
    warmup = check_scalar(warmup, "warmup", "count", ge=0, lt=d.shape[1])
    levels = np.full(d.shape[1], target)

    def level_at(t: int, short: np.ndarray) -> np.ndarray:
        if t >= review:  # the cycle that just ended moves the level
            missed = float(short[:, t - review :].any(axis=1).mean())
            levels[t:] = np.clip(
                levels[t - review] + adapt_rate * (missed - 1 + target), 0.01, 0.999
            )
        return np.asarray(mean[:, t] + np.maximum(safety_at(t, float(levels[t])), 0.0))

    start = mean[:, 0] + np.maximum(safety_at(0, target), 0.0)
    on_hand_end, orders, served = _run(
        d,
        level_at,
        np.full(d.shape, np.inf),
        _lead_times(lead_time, d.shape),
        review,
        start,
        lost_sales,
    )
    keep = slice(warmup, None)
    result = _result(
        d[:, keep],
        (on_hand_end[:, keep], orders[:, keep], served[:, keep]),
        review,
        period_days,
        slow_days,
        ids,
    )
    return result, levels
