"""The inverse Gram matrix of EASE, fresh or updated after new interactions.

EASE needs ``P = (XᵀX + λI)⁻¹`` of the binary user×item matrix ``X``. When the
rows of some users change (new users, new interactions of known users) and new
items join, ``XᵀX`` changes by ``Δ = AᵀA − BᵀB``, with ``A`` those users' rows
after the change and ``B`` before it. Written as ``Δ = Uᵀ C U``, the
push-through form of the Woodbury identity gives

``P_new = P − (P Uᵀ) C (I + U P Uᵀ C)⁻¹ (U P)``

in ``O(n² r)`` for ``r`` rows of ``U`` instead of the ``O(n³)`` of a fresh
inverse (``C`` need not be invertible). Two factorisations are available and
the one with fewer rows is used:

* by users: ``U = [A; B]``, ``C = diag(+1, …, −1, …)`` (``r`` = changed rows);
* by items: ``U`` selects the items ``S`` where ``Δ`` is non-zero and
  ``C = Δ[S, S]`` (``r = |S|``; best for many users touching few items).

New items enter ``P`` with ``1/λ`` on the diagonal (an empty column) first.
When ``r`` exceeds a quarter of the items a fresh inverse is computed instead.
Either way the result equals a refit up to float64 round-off.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from chainmall.recommend._base import FloatArray, IntArray
from chainmall.recommend.interactions import Interactions

__all__ = ["gram_inverse", "updated_gram_inverse"]

_FRESH_ABOVE_SHARE = 0.25
"""A touched-item set larger than this share of the catalogue gets a fresh inverse."""


def binary(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """1.0 on every stored non-zero cell."""
    out: sp.csr_matrix = (matrix != 0).astype(np.float64).tocsr()
    return out


def gram_inverse(matrix: sp.csr_matrix, reg: float) -> FloatArray:
    """``(XᵀX + reg·I)⁻¹`` of the binary version ``X`` of ``matrix``."""
    x = binary(matrix)
    gram = np.asarray((x.T @ x).todense())
    gram[np.diag_indices_from(gram)] += reg
    inverse: FloatArray = np.linalg.inv(gram)
    return inverse


def updated_gram_inverse(
    inverse: FloatArray, old: Interactions, new: Interactions, users: IntArray, reg: float
) -> FloatArray:
    """The inverse Gram matrix of ``new`` from that of ``old``, where only the rows of
    ``users`` (row indices of ``new``) differ and ``new`` may hold more items."""
    item_pos = np.searchsorted(new.item_ids, old.item_ids)
    n = new.n_items
    expanded = np.zeros((n, n))
    expanded[np.diag_indices(n)] = 1.0 / reg
    expanded[np.ix_(item_pos, item_pos)] = inverse
    after = binary(new.matrix[users])
    old_rows, known = old.user_index(new.user_ids[users])
    before = binary(old.matrix[old_rows[known]])
    before = sp.csr_matrix(
        (before.data, item_pos[before.indices], before.indptr), shape=(before.shape[0], n)
    )
    basis, core = _smaller_factorisation(after, before)
    if basis.shape[0] == 0:
        return expanded
    if basis.shape[0] > _FRESH_ABOVE_SHARE * n:
        return gram_inverse(new.matrix, reg)
    left = np.asarray(basis @ expanded)  # U P (r × n); P is symmetric, so P Uᵀ = leftᵀ
    inner = np.eye(basis.shape[0]) + np.asarray(basis @ left.T) @ core
    correction = left.T @ (core @ np.linalg.solve(inner, left))
    updated: FloatArray = expanded - correction
    return (updated + updated.T) / 2.0


def _smaller_factorisation(
    after: sp.csr_matrix, before: sp.csr_matrix
) -> tuple[sp.csr_matrix, FloatArray]:
    """``(U, C)`` with ``Uᵀ C U = AᵀA − BᵀB``, by users or by items, whichever has fewer rows."""
    n_rows = after.shape[0] + before.shape[0]
    delta = (after.T @ after - before.T @ before).tocsr()
    delta.eliminate_zeros()
    touched = np.unique(delta.indices)
    if len(touched) == 0:
        return sp.csr_matrix((0, after.shape[1])), np.zeros((0, 0))
    if n_rows <= len(touched):
        signs = np.r_[np.ones(after.shape[0]), -np.ones(before.shape[0])]
        return sp.vstack([after, before]).tocsr(), np.diag(signs)
    selector = sp.csr_matrix(
        (np.ones(len(touched)), (np.arange(len(touched)), touched)),
        shape=(len(touched), after.shape[1]),
    )
    return selector, delta[touched][:, touched].toarray()
