"""Cost-optimal order quantities: EOQ and periodic-review (s, S) with a fixed order cost.

Costs are per unit of time (the demand rate's unit) for EOQ, per review period
for (s, S); money in any one currency unit.

* EOQ: ``Q* = √(2Kλ/h)``, cost ``g(Q) = Kλ/Q + hQ/2``, ``g(Q*) = √(2Kλh)``
  (order cost ``K``, demand rate ``λ``, holding cost ``h`` per unit and time).
* (s, S), periodic review, backorders, integer demand with pmf ``p_d`` per
  period (Zheng & Federgruen 1991): when the inventory position is at or below
  ``s`` order up to ``S``. With the one-period cost of the level ``y`` that an
  order protects, ``G(y) = E[h (y - D_P)^+ + p (D_P - y)^+]`` (``D_P`` = demand
  over the protection interval ``P = L + 1``; a random lead time makes ``D_P`` a
  mixture, see :func:`protection_pmf`), the renewal weights
  ``m(0) = 1/(1 - p_0)``, ``m(j) = Σ_{l=1..j} p_l m(j-l) / (1 - p_0)`` and
  ``M(j) = Σ_{l<j} m(l)``, the long-run cost per period is
  ``c(s, S) = [K + Σ_{d<S-s} m(d) G(S - d)] / M(S - s)``;
  :func:`optimal_ss_policy` finds the exact minimiser by Zheng and Federgruen's
  search, which moves ``s`` and ``S`` one unit at a time.

With a random lead time, orders are assumed not to overtake each other (the
mixture is exact for sequential lead times and an approximation when orders
can cross). Demand in money or large volumes is bucketed to integer units of
size ``unit`` first (:func:`empirical_pmf`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from chainmall._validation import check_array, check_scalar
from chainmall.exceptions import DataValidationError
from chainmall.replenish._checks import lead_time_weights

_MAX_BUCKETS = 10_000_000
"""Most demand values (units) a pmf may span."""

__all__ = [
    "SsPolicy",
    "empirical_pmf",
    "eoq",
    "eoq_cost",
    "optimal_ss_policy",
    "protection_pmf",
    "ss_policy_cost",
]


def _positive(**values: float) -> None:
    """Each value must be a finite number > 0 (costs per unit, rates per time)."""
    for name, value in values.items():
        check_scalar(value, name, "number", gt=0)


def eoq_cost(
    order_quantity: float, order_cost: float, holding_cost: float, demand_rate: float
) -> float:
    """Ordering plus holding cost per unit of time of lot size ``Q``: ``Kλ/Q + hQ/2``."""
    _positive(order_quantity=order_quantity, order_cost=order_cost, holding_cost=holding_cost)
    check_scalar(demand_rate, "demand_rate", "number", ge=0)
    return order_cost * demand_rate / order_quantity + holding_cost * order_quantity / 2.0


def eoq(order_cost: float, holding_cost: float, demand_rate: float) -> tuple[float, float]:
    """Economic order quantity ``√(2Kλ/h)`` and its cost per unit of time ``√(2Kλh)``."""
    _positive(order_cost=order_cost, holding_cost=holding_cost, demand_rate=demand_rate)
    quantity = float(np.sqrt(2.0 * order_cost * demand_rate / holding_cost))
    return quantity, eoq_cost(quantity, order_cost, holding_cost, demand_rate)


def _check_pmf(pmf: np.ndarray, name: str) -> np.ndarray:
    arr = check_array(pmf, name, "number", ge=0, allow_empty=False)
    if arr.size > _MAX_BUCKETS or not np.isclose(arr.sum(), 1.0):
        raise DataValidationError(
            f"{name} must be probabilities of demand 0, 1, 2, ... units summing to 1; "
            f"got {arr.size} values summing to {arr.sum():.6f}"
        )
    return arr


def empirical_pmf(samples: np.ndarray, unit: float = 1.0) -> np.ndarray:
    """Pmf of ``round(max(sample, 0) / unit)`` over 0, 1, ... (demand scenarios in buckets)."""
    _positive(unit=unit)
    values = check_array(samples, "samples", "number", ndim=None, allow_empty=False).ravel()
    scaled = np.rint(np.maximum(values, 0.0) / unit)
    if scaled.max() > _MAX_BUCKETS:
        raise DataValidationError(
            f"samples / unit reaches {scaled.max():.3g} buckets (at most {_MAX_BUCKETS:,}); "
            "pick a larger unit"
        )
    buckets = scaled.astype(np.int64)
    return np.bincount(buckets) / values.size


def protection_pmf(period_pmf: np.ndarray, periods: int | Mapping[int, float]) -> np.ndarray:
    """Pmf of demand over ``periods`` periods (a mixture when ``{periods: probability}``).

    For an (s, S) policy with lead time ``L`` the protection interval is ``L + 1``
    periods; an empirical lead-time distribution ``{L: p_L}`` becomes
    ``{L + 1: p_L}``.
    """
    pmf = _check_pmf(period_pmf, "period_pmf")
    weights = lead_time_weights(periods, "periods")  # probabilities summing to 1
    longest = max(weights)
    if (pmf.size - 1) * longest > _MAX_BUCKETS:
        raise DataValidationError(
            f"demand over {longest} periods spans more than {_MAX_BUCKETS:,} units; bucket "
            "demand with a larger unit (empirical_pmf(samples, unit))"
        )
    out = np.zeros((pmf.size - 1) * longest + 1)
    power = np.array([1.0])
    for k in range(longest + 1):
        if k in weights:
            out[: power.size] += weights[k] * power
        power = np.convolve(power, pmf)
    return out


@dataclass(frozen=True)
class _CostModel:
    """``G`` on integer levels and the renewal weights ``m`` of one (s, S) problem."""

    period_pmf: np.ndarray
    cover_pmf: np.ndarray
    holding_cost: float
    stockout_cost: float
    order_cost: float
    _m: list[float] = field(default_factory=list)  # renewal weights computed so far

    def one_period(self, level: np.ndarray | int) -> np.ndarray:
        """``G(y)``: expected holding + shortage cost of protection level ``y`` (units)."""
        y = np.atleast_1d(np.asarray(level, dtype=np.int64))
        d = np.arange(self.cover_pmf.size)
        over = np.clip(y[:, None] - d[None, :], 0, None) @ self.cover_pmf
        under = np.clip(d[None, :] - y[:, None], 0, None) @ self.cover_pmf
        return np.asarray(self.holding_cost * over + self.stockout_cost * under)

    def renewal(self, size: int) -> np.ndarray:
        """``m(0..size-1)``: expected periods spent ``j`` units below the order-up-to level."""
        p = self.period_pmf
        m = self._m
        if not m:
            m.append(1.0 / (1.0 - p[0]))
        while len(m) < size:  # sequential recursion, extended only as far as asked
            j = len(m)
            k = min(j, p.size - 1)
            m.append(float(p[1 : k + 1] @ np.asarray(m[j - k : j][::-1])) / (1.0 - p[0]))
        return np.asarray(m[: max(size, 1)])

    def cost(self, s: int, big_s: int) -> float:
        """``c(s, S)``, the long-run cost per period of the (s, S) policy."""
        gap = big_s - s
        m = self.renewal(gap)
        g = self.one_period(big_s - np.arange(gap))
        return float((self.order_cost + m @ g) / m.sum())


def _model(
    demand_pmf: np.ndarray,
    holding_cost: float,
    stockout_cost: float,
    order_cost: float,
    lead_time: int | Mapping[int, float],
) -> _CostModel:
    pmf = _check_pmf(demand_pmf, "demand_pmf")
    if pmf[0] >= 1.0:
        raise DataValidationError("demand_pmf puts all mass on zero demand; no policy is needed")
    _positive(holding_cost=holding_cost, stockout_cost=stockout_cost, order_cost=order_cost)
    cover = {k + 1: p for k, p in lead_time_weights(lead_time).items()}
    return _CostModel(
        pmf,
        protection_pmf(pmf, cover),
        float(holding_cost),
        float(stockout_cost),
        float(order_cost),
    )


def ss_policy_cost(
    reorder_point: int,
    order_up_to: int,
    demand_pmf: np.ndarray,
    holding_cost: float,
    stockout_cost: float,
    order_cost: float,
    *,
    lead_time: int | Mapping[int, float] = 0,
) -> float:
    """Long-run cost per period ``c(s, S)`` of an (s, S) policy (units of ``demand_pmf``).

    Args:
        reorder_point, order_up_to: ``s < S`` in demand units.
        demand_pmf: probabilities of demand 0, 1, 2, ... units per period.
        holding_cost, stockout_cost: per unit and period (back-ordered units).
        order_cost: fixed cost per order.
        lead_time: periods, or an empirical distribution ``{periods: probability}``.
    """
    check_scalar(reorder_point, "reorder_point", "count")
    check_scalar(order_up_to, "order_up_to", "count")
    if int(order_up_to) <= int(reorder_point):
        raise DataValidationError(
            f"order_up_to ({order_up_to}) must exceed reorder_point ({reorder_point})"
        )
    model = _model(demand_pmf, holding_cost, stockout_cost, order_cost, lead_time)
    return model.cost(int(reorder_point), int(order_up_to))


@dataclass(frozen=True)
class SsPolicy:
    """An (s, S) policy in demand units and its long-run cost per period."""

    reorder_point: int
    order_up_to: int
    cost: float


def optimal_ss_policy(
    demand_pmf: np.ndarray,
    holding_cost: float,
    stockout_cost: float,
    order_cost: float,
    *,
    lead_time: int | Mapping[int, float] = 0,
) -> SsPolicy:
    """The cost-minimising (s, S) policy (Zheng & Federgruen 1991); arguments as :func:`ss_policy_cost`."""
    model = _model(demand_pmf, holding_cost, stockout_cost, order_cost, lead_time)
    levels = np.arange(model.cover_pmf.size + 1)
    best = int(levels[np.argmin(model.one_period(levels))])  # y*, the minimiser of G
    s, big_s = best, best
    while True:  # lower s until ordering at s is worth it
        s -= 1
        if model.cost(s, big_s) <= model.one_period(s)[0]:
            break
    c0 = model.cost(s, big_s)
    candidate = big_s + 1
    while model.one_period(candidate)[0] <= c0:  # larger S can only help while G(S) <= c0
        if model.cost(s, candidate) < c0:
            big_s = candidate
            while model.cost(s, big_s) <= model.one_period(s + 1)[0]:
                s += 1
            c0 = model.cost(s, big_s)
        candidate += 1
    return SsPolicy(int(s), int(big_s), float(c0))
