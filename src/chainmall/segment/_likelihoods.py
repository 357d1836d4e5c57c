"""Log-likelihoods of the BTYD purchase models on compressed data, in log-parameter space.

Each function takes log-parameters and the unique ``(x, t_x, T)`` patterns with
their counts, and returns the weighted log-likelihood and (where it pays) its
gradient with respect to the log-parameters. Formulas: Fader, Hardie & Lee (2005)
for BG/NBD; Batislam, Denizel & Filiztekin (2007) for MBG/NBD; Fader & Hardie's
note "Deriving the conditional PMF of the Pareto/NBD model" (2005), eqs. 19-20,
for Pareto/NBD.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln, hyp2f1

__all__ = ["Patterns", "beta_geo_ll", "log_hyp2f1_c_a1", "pareto_ll", "pareto_log_a0"]


@dataclass(frozen=True)
class Patterns:
    """Unique ``(x, t_x, T)`` rows with counts, stored as indices into unique values.

    Terms that depend on one coordinate only (``lnΓ(r+x)``, ``ln(α+T)``, ...) are
    evaluated once per unique value and gathered, and the Pareto/NBD
    hypergeometric terms once per unique ``(x, t_x)`` and ``(x, T)`` pair.
    """

    x_values: np.ndarray
    tx_values: np.ndarray
    T_values: np.ndarray
    ix: np.ndarray
    itx: np.ndarray
    iT: np.ndarray
    weight: np.ndarray
    pair_tx: np.ndarray | None = None
    pair_T: np.ndarray | None = None
    pair_tx_inverse: np.ndarray | None = None
    pair_T_inverse: np.ndarray | None = None

    @property
    def x(self) -> np.ndarray:
        """Repeat purchases of each pattern."""
        return np.asarray(self.x_values[self.ix])

    @property
    def t_x(self) -> np.ndarray:
        """Time of last purchase of each pattern."""
        return np.asarray(self.tx_values[self.itx])

    @property
    def T(self) -> np.ndarray:
        """Age of each pattern."""
        return np.asarray(self.T_values[self.iT])

    @classmethod
    def compress(
        cls,
        x: np.ndarray,
        t_x: np.ndarray,
        T: np.ndarray,
        *,
        pairs: bool = False,
        weights: np.ndarray | None = None,
    ) -> Patterns:
        """Group equal customers; ``pairs`` also indexes unique (x, t_x) and (x, T) pairs.

        ``weights``: customers per row (default one each).
        """
        x_values, fx = _factorize(x)
        tx_values, ftx = _factorize(t_x)
        T_values, fT = _factorize(T)
        key = (fx * len(tx_values) + ftx) * len(T_values) + fT
        pattern, first_keys = pd.factorize(key, sort=False)
        counts = np.bincount(pattern, weights=weights)
        ix = first_keys // (len(tx_values) * len(T_values))
        itx = first_keys // len(T_values) % len(tx_values)
        iT = first_keys % len(T_values)
        pair_tx = pair_T = pair_tx_inverse = pair_T_inverse = None
        if pairs:
            pair_tx, pair_tx_inverse = _pairs(ix, itx, len(tx_values))
            pair_T, pair_T_inverse = _pairs(ix, iT, len(T_values))
        return cls(
            x_values=x_values,
            tx_values=tx_values,
            T_values=T_values,
            ix=ix,
            itx=itx,
            iT=iT,
            weight=counts.astype(np.float64),
            pair_tx=pair_tx,
            pair_T=pair_T,
            pair_tx_inverse=pair_tx_inverse,
            pair_T_inverse=pair_T_inverse,
        )


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(values, sort=False)
    return np.asarray(uniques, dtype=np.float64), codes.astype(np.int64)


def _pairs(first: np.ndarray, second: np.ndarray, n_second: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique (first, second) index pairs as a (k, 2) array, and each row's pair index."""
    inverse, codes = pd.factorize(first * n_second + second, sort=False)
    return np.column_stack([codes // n_second, codes % n_second]), inverse.astype(np.int64)


def beta_geo_ll(log_params: np.ndarray, data: Patterns, modified: bool) -> tuple[float, np.ndarray]:
    """Weighted BG/NBD (``modified=False``) or MBG/NBD log-likelihood and gradient.

    Per customer ``LL = A1 + A2 + log(exp(A3) + [x>0 or MBG] exp(A4))`` with
    ``A1 = lnΓ(r+x) - lnΓ(r) + r ln α``,
    ``A2 = lnB(a, b+x+δ) - lnB(a, b)``, ``A3 = -(r+x) ln(α+T)``,
    ``A4 = ln a - ln(b+x-1+δ) - (r+x) ln(α+t_x)``; δ = 1 for MBG/NBD.
    """
    r, alpha, a, b = np.exp(log_params)
    xv, ix, w = data.x_values, data.ix, data.weight
    shift = 1.0 if modified else 0.0
    # terms of x only, evaluated once per unique x
    rx_v = r + xv
    bx_v = b + xv + shift
    abx_v = a + b + xv + shift
    active_v = np.ones_like(xv, dtype=bool) if modified else xv > 0
    denom_v = np.where(active_v, bx_v - 1.0, 1.0)
    a12_v = (
        gammaln(rx_v)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(bx_v)
        - gammaln(b)
        - gammaln(abx_v)
    )
    with np.errstate(divide="ignore"):
        log_odds_v = np.where(active_v, np.log(a) - np.log(denom_v), -np.inf)
    psi_ab = digamma(a + b)
    d_r_v = digamma(rx_v) - digamma(r) + np.log(alpha)
    d_a_v = psi_ab - digamma(abx_v)
    d_b_v = psi_ab + digamma(bx_v) - digamma(b) - digamma(abx_v)
    # per-pattern terms: LL = A12 + A3 + log(1 + exp(A4 - A3))
    log_at = np.take(np.log(alpha + data.T_values), data.iT)
    log_gap = log_at - np.take(np.log(alpha + data.tx_values), data.itx)
    rx = np.take(rx_v, ix)
    odds = np.take(log_odds_v, ix) + rx * log_gap  # A4 - A3 = log odds of having dropped out
    softplus, dropped = _softplus_sigmoid(odds)
    w_x = np.bincount(ix, weights=w, minlength=len(xv))
    wrx = w * rx
    ll = float(_dot(w_x, a12_v) - _dot(wrx, log_at) + _dot(w, softplus))
    ww4 = w * dropped  # weight times posterior probability of having dropped out
    inv_at = np.take(1.0 / (alpha + data.T_values), data.iT)
    inv_atx = np.take(1.0 / (alpha + data.tx_values), data.itx)
    d_r = _dot(w_x, d_r_v) - _dot(w, log_at) + _dot(ww4, log_gap)
    d_alpha = w.sum() * r / alpha - _dot(wrx, inv_at) - _dot(ww4 * rx, inv_atx - inv_at)
    d_a = _dot(w_x, d_a_v) + ww4.sum() / a
    d_b = _dot(w_x, d_b_v) - _dot(ww4, np.take(1.0 / denom_v, ix))
    grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return ll, grad


def _dot(left: np.ndarray, right: np.ndarray) -> float:
    """Dot product without BLAS threads (cheaper than ``@`` on a busy machine)."""
    return float(np.multiply(left, right).sum())


def _softplus_sigmoid(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(log(1 + e^z), 1 / (1 + e^-z))``, stable for any z including -inf."""
    with np.errstate(invalid="ignore"):
        small = np.exp(-np.abs(z))
    small = np.nan_to_num(small, nan=0.0)
    softplus = np.maximum(z, 0.0) + np.log1p(small)
    sigmoid = np.where(z >= 0, 1.0, small) / (1.0 + small)
    return softplus, sigmoid


def log_hyp2f1_c_a1(a: np.ndarray, b: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``ln 2F1(a, b; a+1; z)`` for ``0 <= z < 1``, stable as ``z -> 1``.

    Pfaff: ``2F1(a,b;c;z) = (1-z)^-b 2F1(c-a, b; c; z/(z-1))`` with ``c-a = 1``;
    the right-hand series lies in (0, 1] and does not overflow.
    """
    w = z / (z - 1.0)
    with np.errstate(all="ignore"):
        out = np.asarray(-b * np.log1p(-z) + np.log(hyp2f1(1.0, b, a + 1.0, w)), dtype=np.float64)
    bad = ~np.isfinite(out)
    if bad.any():  # scipy's series fails for large b and w < -1
        a_b, b_b, z_b = np.broadcast_arrays(a, b, z)
        out = out.copy()
        out[bad] = _log_hyp2f1_quadrature(a_b[bad], b_b[bad], z_b[bad])
    return out


_QUAD_NODES, _QUAD_WEIGHTS = np.polynomial.legendre.leggauss(200)


def _log_hyp2f1_quadrature(a: np.ndarray, b: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``ln 2F1(a, b; a+1; z)`` from Euler's integral ``a ∫ u^(a-1) (1-zu)^-b du``.

    With ``u = 1 - e^s`` the integrand is smooth in ``s``; the range of ``s``
    reaches well below the scales ``1/a`` and ``(1-z)/b`` of the peak at u = 1.
    """
    low = np.log(np.minimum(1.0 - z, 1.0 / a) / (b + 1.0)) - 15.0
    half = 0.5 * -low
    s_nodes = low[:, None] + half[:, None] * (_QUAD_NODES[None, :] + 1.0)
    v = np.exp(s_nodes)
    log_integrand = (
        (a[:, None] - 1.0) * np.log1p(-np.minimum(v, 1.0 - 1e-16))
        - b[:, None] * np.log((1.0 - z[:, None]) + z[:, None] * v)
        + s_nodes
    )
    top = log_integrand.max(axis=1)
    total = np.exp(log_integrand - top[:, None]) @ _QUAD_WEIGHTS
    return np.asarray(np.log(a) + top + np.log(total * half))


def _pareto_term(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """``ln[2F1(r+s+x, b'; r+s+x+1; |α-β|/(max+t)) / (max+t)^(r+s+x)]`` (eqs. 19-20)."""
    if alpha < beta:
        low, high, second = alpha, beta, r + x
    else:
        low, high, second = beta, alpha, np.full_like(x, s + 1.0)
    rsx = r + s + x
    return log_hyp2f1_c_a1(rsx, second, (high - low) / (high + t)) - rsx * np.log(high + t)


def _log_a0_from_terms(term_tx: np.ndarray, term_T: np.ndarray) -> np.ndarray:
    """``ln(exp(term_tx) - exp(term_T))``; ``A0 > 0`` since t_x <= T (0 when equal)."""
    diff = np.minimum(term_T - term_tx, -1e-300)
    return np.asarray(term_tx + np.log(-np.expm1(diff)))


def pareto_log_a0(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """``ln A0`` of the Pareto/NBD likelihood (Fader & Hardie 2005 note, eqs. 19-20)."""
    return _log_a0_from_terms(
        _pareto_term(r, alpha, s, beta, x, t_x), _pareto_term(r, alpha, s, beta, x, T)
    )


def pareto_ll(log_params: np.ndarray, data: Patterns) -> float:
    """Weighted Pareto/NBD log-likelihood.

    ``LL = lnΓ(r+x) - lnΓ(r) + r ln α + s ln β + ln[(α+T)^-(r+x) (β+T)^-s + s/(r+s+x) A0]``.
    """
    r, alpha, s, beta = np.exp(log_params)
    xv, ix = data.x_values, data.ix
    a1_v = gammaln(r + xv) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    log_a0 = _pareto_log_a0_pairs(r, alpha, s, beta, data)
    x = np.take(xv, ix)
    alive_term = -(r + x) * np.take(np.log(alpha + data.T_values), data.iT) - s * np.take(
        np.log(beta + data.T_values), data.iT
    )
    dead_term = np.log(s) + log_a0 - np.log(r + s + x)
    a2 = alive_term + _softplus_sigmoid(dead_term - alive_term)[0]
    w_x = np.bincount(ix, weights=data.weight, minlength=len(xv))
    return _dot(w_x, a1_v) + _dot(data.weight, a2)


def _pareto_log_a0_pairs(
    r: float, alpha: float, s: float, beta: float, data: Patterns
) -> np.ndarray:
    """``ln A0`` per pattern with the hypergeometric terms on unique (x, t) pairs."""
    assert data.pair_tx is not None and data.pair_T is not None  # compress(pairs=True)
    term_tx = _pareto_term(
        r, alpha, s, beta, data.x_values[data.pair_tx[:, 0]], data.tx_values[data.pair_tx[:, 1]]
    )[data.pair_tx_inverse]
    term_T = _pareto_term(
        r, alpha, s, beta, data.x_values[data.pair_T[:, 0]], data.T_values[data.pair_T[:, 1]]
    )[data.pair_T_inverse]
    return _log_a0_from_terms(term_tx, term_T)
