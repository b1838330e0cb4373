"""Steady states of Lindbladians by a differentiable dense linear solve.

The steady state ``ρ`` of ``L`` (``L ρ = 0``, ``tr ρ = 1``) solves the bordered system
``(L + u t^T) x = u`` with ``t = vec(I)`` the trace functional and ``u = vec(I)/d``:
if ``ker L`` is spanned by ``ρ`` then ``(L + u t^T)`` is invertible (because
``t^T L = 0`` for a trace-preserving ``L`` and ``t^T u = 1``) and its solution is ``ρ``.
A kernel of dimension > 1 makes the bordered matrix singular; we detect that from the
solution (non-finite, non-Hermitian, or a norm no density matrix can have) and report it.

The solve goes through ``lineax`` (LU), which differentiates implicitly: the backward pass
is one adjoint solve with the same factorisation, never a backpropagation through the
factorisation itself.
"""

from __future__ import annotations

from typing import Literal, overload

import equinox as eqx
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, ArrayLike

from ._condition import lu_condition
from ._errors import error_if
from ._superop import unvec

__all__ = ["steady_state", "steady_state_from_superop", "SteadyState", "solve_bordered"]


class SteadyState(eqx.Module):
    """A steady state with its health report.

    Attributes:
        rho: the density matrix, shape ``(d, d)``.
        residual: ``‖L(ρ)‖_F``; small even for a near-singular solve.
        condition: 1-norm condition estimate ``κ₁`` of the bordered system (Hager's
            estimator); the state's relative error is bounded by about ``κ₁ · eps``, and
            ``κ₁`` grows without bound as ``ker L`` approaches dimension 2.
    """

    rho: Array
    residual: Array
    condition: Array


@overload
def solve_bordered(lmat: Array, *, condition: Literal[False] = False) -> Array: ...
@overload
def solve_bordered(lmat: Array, *, condition: Literal[True]) -> tuple[Array, Array]: ...
def solve_bordered(lmat: Array, *, condition: bool = False) -> Array | tuple[Array, Array]:
    """Return ``vec(ρ)`` solving ``L ρ = 0, tr ρ = 1`` for a batch-free ``(d², d²)`` matrix.

    With ``condition=True`` return ``(vec(ρ), κ₁)``, the 1-norm condition estimate of the
    bordered matrix (``_condition.lu_condition``, from the same LU factorisation).
    """
    n = lmat.shape[-1]
    d = int(round(n**0.5))
    dtype = jnp.result_type(lmat.dtype, jnp.complex64)
    lmat = lmat.astype(dtype)
    t = jnp.eye(d, dtype=dtype).reshape(-1)
    u = t / d
    bordered = lmat + jnp.outer(u, t)
    sol = lx.linear_solve(lx.MatrixLinearOperator(bordered), u, solver=lx.LU(), throw=False)
    if not condition:
        return sol.value
    lu_and_piv = sol.state[0]
    return sol.value, lu_condition(bordered, lu_and_piv)


def _check_state(rho: Array, name: str) -> Array:
    d = rho.shape[-1]
    dtype_eps = jnp.finfo(jnp.real(rho).dtype).eps
    tol = 1e3 * d * dtype_eps**0.5 if dtype_eps > 1e-10 else 1e-6
    finite = jnp.all(jnp.isfinite(rho))
    herm_err = jnp.max(jnp.abs(rho - jnp.conj(rho.T)))
    norm = jnp.sqrt(jnp.sum(jnp.abs(rho) ** 2))
    bad = (~finite) | (herm_err > tol) | (norm > 1.0 + tol)
    return error_if(
        rho,
        bad,
        f"{name}: the steady state is not unique (the Lindbladian's kernel has dimension "
        "> 1, or is numerically so close to it that the solve is meaningless)",
    )


def steady_state_from_superop(lmat: ArrayLike, *, name: str = "L") -> SteadyState:
    """Unique steady state of a Lindbladian given as a ``(d², d²)`` matrix.

    Args:
        lmat: the Lindbladian in row-major vectorisation.
        name: label used in error messages.

    Returns:
        :class:`SteadyState` with ``rho`` (Hermitised), the residual ``‖L ρ‖`` and the
        condition estimate of the solve.

    Raises:
        ValueError: (at trace time) if ``lmat`` is not square of size ``d²``.
        EquinoxRuntimeError: if the steady state is not unique.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> tau = jnp.diag(jnp.array([0.8, 0.2]))
        >>> L = jaxqep.superop.reset_dissipator(tau)
        >>> jaxqep.steady_state_from_superop(L).rho.real.diagonal()
        Array([0.8, 0.2], dtype=float64)
    """
    lmat = jnp.asarray(lmat)
    if lmat.ndim != 2 or lmat.shape[0] != lmat.shape[1]:
        raise ValueError(f"{name} must be a square (d², d²) matrix, got shape {lmat.shape}")
    n = lmat.shape[0]
    d = int(round(n**0.5))
    if d * d != n:
        raise ValueError(f"{name} has size {n}, which is not d² for an integer d")
    x, kappa = solve_bordered(lmat, condition=True)
    rho = _check_state(unvec(x, d), name)
    residual = jnp.linalg.norm(lmat.astype(x.dtype) @ x)
    rho = 0.5 * (rho + jnp.conj(rho.T))
    return SteadyState(rho=rho, residual=residual, condition=kappa)


def steady_state(lmat: ArrayLike) -> Array:
    """Steady-state density matrix of a Lindbladian matrix (see
    :func:`steady_state_from_superop`)."""
    return steady_state_from_superop(lmat).rho
