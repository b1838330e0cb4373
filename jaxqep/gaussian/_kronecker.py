"""Kronecker-sum structure of a lattice Hamiltonian, ``H = H_x ⊗ 1 + 1 ⊗ H_y`` (site
``(i, j)`` at index ``i l_y + j``): the factors and the exactness test, one definition for
the detection at construction (NumPy, concrete) and the check at run time (JAX, traced)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

__all__ = ["kronecker_factors", "kronecker_split", "detect_kronecker"]


def kronecker_factors(
    K: Array | np.ndarray, lx: int, ly: int, xp=jnp
) -> tuple[Any, Any, Any]:
    """``(K_x, K_y, exact)`` with ``K ≈ K_x ⊗ 1 + 1 ⊗ K_y`` (row-major site index
    ``i l_y + j``), read from the first block row and column; ``exact`` is whether ``K``
    equals the Kronecker sum to rounding (else the caller falls back). ``xp``: ``jax.numpy``
    (traced) or ``numpy`` (concrete, at construction)."""
    return kronecker_split(K, lx, ly, xp)[:3]


def kronecker_split(
    K: Array | np.ndarray, lx: int, ly: int, xp=jnp
) -> tuple[Any, Any, Any, Any]:
    """:func:`kronecker_factors` and the Frobenius norm of the deviation ``K - (K_x ⊗ 1
    + 1 ⊗ K_y)``."""
    K4 = K.reshape(lx, ly, lx, ly)
    Kx = K4[:, 0, :, 0]
    Ky = K4[0, :, 0, :] - K4[0, 0, 0, 0] * xp.eye(ly, dtype=K.dtype)
    rec = (Kx[:, None, :, None] * xp.eye(ly, dtype=K.dtype)[None, :, None, :]
           + xp.eye(lx, dtype=K.dtype)[:, None, :, None] * Ky[None, :, None, :])
    scale = xp.max(xp.abs(K))
    dev = xp.abs(K4 - rec)
    err = xp.max(dev)
    exact = err <= 64 * xp.finfo(xp.real(K).dtype).eps * xp.where(scale > 0, scale, 1.0)
    return Kx, Ky, exact, xp.sqrt(xp.sum(dev * dev))


def detect_kronecker(h) -> tuple[int, int] | None:
    """``(l_x, l_y)`` if the concrete Hermitian ``h`` is a Kronecker sum ``H_x ⊗ 1 + 1 ⊗
    H_y`` (site ``(i, j)`` at index ``i l_y + j``, both factors at least 2), else ``None``.

    Of several factorisations the most balanced one (smallest ``l_x + l_y``). Cost
    ``O(L²)`` once, at construction: only factorisations whose non-zero pattern fits
    (``h[(i, j), (k, l)] = 0`` unless ``i = k`` or ``j = l``) are compared entrywise
    (:func:`kronecker_factors`).
    """
    h = np.asarray(h)
    h = h.astype(np.result_type(h.dtype, np.float64))
    L = h.shape[0]
    if L < 4:
        return None
    rows, cols = np.nonzero(h)
    if rows.size == 0:
        return None
    best = None
    for lx in range(2, L // 2 + 1):
        if L % lx:
            continue
        ly = L // lx
        if rows.size > L * (lx + ly - 1):
            continue
        i, j = np.divmod(rows, ly)
        k, l = np.divmod(cols, ly)
        if np.any((i != k) & (j != l)):
            continue
        if not bool(kronecker_factors(h, lx, ly, xp=np)[2]):
            continue
        if best is None or lx + ly < sum(best):
            best = (lx, ly)
    return best
