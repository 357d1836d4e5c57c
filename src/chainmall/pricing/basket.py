"""Joint pricing of the products one shop sells side by side (a basket), with cross effects.

Products of a store-week are substitutes: cutting one price takes sales from the others,
so a shop maximises the basket's objective, not each product's. With log-linear demand

.. math:: \\log q_k(p) = \\log q_k(p^0) + \\varepsilon_k \\log\\frac{p_k}{p^0_k}
   + \\sum_{j\\ne k} \\gamma_{kj} \\log\\frac{p_j}{p^0_j},

:func:`basket_ascent` sets each product in turn to its best allowed grid price given the
others (coordinate ascent; each step cannot lower the basket objective
:math:`\\sum_k (p_k - w c_k) q_k`), vectorised over baskets and grid points. The
optimiser (estimated elasticities) and the synthetic market's oracle (true ones) share it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["basket_ascent"]


def basket_ascent(
    *,
    log_units: np.ndarray,
    price: np.ndarray,
    own: np.ndarray,
    cross: np.ndarray,
    cost: np.ndarray,
    grid: np.ndarray,
    valid: np.ndarray,
    cell: np.ndarray,
    product: np.ndarray,
    cost_weight: float = 1.0,
    sweeps: int = 3,
) -> np.ndarray:
    """Basket prices (baskets x products, fen) after ``sweeps`` rounds of coordinate ascent.

    Args:
        log_units: log expected units at ``price`` (baskets x products; ``-inf`` = absent).
        price: starting prices (baskets x products, fen; any positive value where absent).
        own: own elasticity per basket and product.
        cross: ``cross[k, j]`` = d log q_k / d log p_j for k != j (zero diagonal).
        cost: unit cost per basket and product (fen).
        grid: candidate prices per offer row (rows x width, fen); ``valid`` masks them.
        cell, product: each row's basket and product index.
        cost_weight: ``w`` in the objective (1 profit, 0 revenue, between: the mix).
        sweeps: rounds over all products.
    """
    log_q = np.array(log_units, dtype=float)
    p = np.array(price, dtype=float)
    for _ in range(sweeps):
        for j in range(p.shape[1]):
            rows = np.flatnonzero(product == j)
            if not len(rows):
                continue
            cells = cell[rows]
            trial = grid[rows]
            shift = np.log(trial) - np.log(p[cells, j])[:, None]
            response = np.repeat(cross[None, :, j], len(rows), axis=0)
            response[:, j] = own[cells, j]
            with np.errstate(invalid="ignore"):
                units = np.exp(log_q[cells][:, :, None] + response[:, :, None] * shift[:, None, :])
            margin = np.repeat((p[cells] - cost_weight * cost[cells])[:, :, None], grid.shape[1], 2)
            margin[:, j, :] = trial - cost_weight * cost[cells, j][:, None]
            value = np.where(valid[rows], np.nansum(margin * units, axis=1), -np.inf)
            best = trial[np.arange(len(rows)), np.argmax(value, axis=1)]
            delta = np.log(best) - np.log(p[cells, j])
            log_q[cells] = log_q[cells] + response * delta[:, None]
            p[cells, j] = best
    return p
