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

import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array

from ._condition import lu_condition
from ._errors import error_if
from ._solution import RESULTS

__all__ = ["solve_bordered", "check_state"]


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
        RESULTS.non_unique,
    )


check_state = _check_state
