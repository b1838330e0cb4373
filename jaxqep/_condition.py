"""Condition-number estimates of the linear solves behind steady states.

A steady state is returned together with ``‖L(ρ)‖`` (its residual), which is small even
when the solve is near-singular: a bordered system that is almost singular (λ near 0 or
1, g → 0, a kernel that is nearly two-dimensional) still has a tiny residual, but its
solution is sensitive to rounding in proportion to the condition number. So every dense
solve also reports ``κ₁(A) = ‖A‖₁ ‖A⁻¹‖₁``, with ``‖A⁻¹‖₁`` from Hager's estimator
(Higham, *Accuracy and Stability of Numerical Algorithms*, Alg. 15.3, as in LAPACK's
``xGECON``), which reuses the LU factorisation already computed: a few ``O(n²)``
triangular solves, no extra factorisation (so no extra batched LU under ``vmap``).
The estimate is a lower bound, in practice within a factor of a few of the true value.
Relative errors of the state are then bounded by about ``κ₁ · eps``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
from jaxtyping import Array

__all__ = ["lu_condition", "lu_condition_packed"]


def lu_condition(a: Array, lu_and_piv: tuple[Array, Array], iterations: int = 2) -> Array:
    """Estimate ``κ₁(A) = ‖A‖₁ ‖A⁻¹‖₁`` from an LU factorisation of ``A`` (unbatched).

    Args:
        a: the ``(n, n)`` matrix.
        lu_and_piv: its factorisation, as returned by ``jax.scipy.linalg.lu_factor``.
        iterations: Hager steps (each costs one solve with ``A`` and one with ``A^H``).

    Returns:
        The estimate (real scalar, not differentiated: gradients are stopped).

    Example:
        >>> import jax.numpy as jnp, jax.scipy.linalg as jsl
        >>> from jaxqep._condition import lu_condition
        >>> a = jnp.array([[1.0, 0.0], [0.0, 1e-6]])
        >>> float(lu_condition(a, jsl.lu_factor(a)))
        1000000.0
    """
    a, lu_and_piv = jax.lax.stop_gradient((a, lu_and_piv))

    def solve(v, adjoint):
        trans = (2 if jnp.iscomplexobj(v) else 1) if adjoint else 0
        return jsl.lu_solve(lu_and_piv, v, trans=trans)

    return _hager(a, solve, iterations)


def _hager(a: Array, solve, iterations: int) -> Array:
    """``‖a‖₁ · est(‖a⁻¹‖₁)`` given ``solve(v, adjoint)`` with ``a`` or ``a^H``."""
    n = a.shape[-1]
    dtype = jnp.result_type(a.dtype)
    norm_a = jnp.max(jnp.sum(jnp.abs(a), axis=0))
    x = jnp.full((n,), 1.0 / n, dtype)
    est = jnp.zeros((), norm_a.dtype)
    for _ in range(iterations):
        y = solve(x, False)
        est = jnp.maximum(est, jnp.sum(jnp.abs(y)))
        ay = jnp.abs(y)
        xi = jnp.where(ay > 0, y / jnp.where(ay > 0, ay, 1.0), 1.0).astype(dtype)
        z = solve(xi, True)
        x = jax.nn.one_hot(jnp.argmax(jnp.abs(z)), n, dtype=dtype)
    est = jnp.maximum(est, jnp.sum(jnp.abs(solve(x, False))))
    # Higham's extra vector guards against matrices that fool the power-like iteration.
    alt = jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0) * (1.0 + jnp.arange(n) / max(n - 1, 1))
    est = jnp.maximum(est, 2.0 * jnp.sum(jnp.abs(solve(alt.astype(dtype), False))) / (3.0 * n))
    # A singular factorisation gives inf/NaN: report inf, never NaN.
    kappa = norm_a * est
    return jnp.where(jnp.isnan(kappa), jnp.inf, kappa)


def lu_condition_packed(a: Array, lu: Array, perm: Array, iterations: int = 2) -> Array:
    """:func:`lu_condition` for the packed factors of ``jax.lax.linalg.lu`` (unbatched).

    Args:
        a: the ``(n, n)`` matrix.
        lu: packed factors with at least ``n`` columns (``a[perm] = L U``; extra columns,
            e.g. of an augmented right-hand side, are ignored).
        perm: the row permutation returned by ``jax.lax.linalg.lu``.
        iterations: Hager steps.

    Returns:
        The estimate of ``‖a‖₁ ‖a⁻¹‖₁`` (no gradient).
    """
    a, lu, perm = jax.lax.stop_gradient((a, lu, perm))
    n = a.shape[-1]
    lmat = lu[:n, :n]
    conj = jnp.iscomplexobj(lmat)

    def solve(v, adjoint):
        tri = jax.lax.linalg.triangular_solve
        if not adjoint:  # a x = v: x = U⁻¹ L⁻¹ v[perm]
            y = tri(lmat, v[perm][:, None], left_side=True, lower=True, unit_diagonal=True)
            return tri(lmat, y, left_side=True, lower=False)[:, 0]
        # a^H x = v: x[perm] = L^{-H} U^{-H} v
        y = tri(lmat, v[:, None], left_side=True, lower=False, transpose_a=True, conjugate_a=conj)
        y = tri(
            lmat,
            y,
            left_side=True,
            lower=True,
            unit_diagonal=True,
            transpose_a=True,
            conjugate_a=conj,
        )[:, 0]
        return jnp.zeros_like(y).at[perm].set(y)

    return _hager(a, solve, iterations)
