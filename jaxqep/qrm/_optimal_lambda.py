"""Finite-g search for the splitting λ that minimises the exact σ(ρ⁺_g) (seed 004, Sec. 8)."""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import _validate as val, optimize
from .._entry import solve
from ..solvers import DenseLU
from ._model_tripartite import TripartiteResetModel
from ._perturbation import ZERO_RTOL, LeadingOrder, _validate_lambda, leading_order

__all__ = ["LambdaSearch", "optimal_lambda"]


class LambdaSearch(eqx.Module):
    """Result of :func:`optimal_lambda`.

    Attributes:
        lam: the ``λ`` minimising the exact ``σ(ρ⁺_g)`` at this ``g`` (optax).
        sigma: ``σ(ρ⁺_g)`` at ``lam``.
        sigma_over_g2: ``σ / g²`` at ``lam`` (compare with ``leading.sigma2_min``).
        has_zero: ``σ(lam) ≤ rtol·σ-scale``: does the exact ``σ`` vanish at its minimum?
        converged: the optimiser met its gradient tolerance.
        steps: optimiser iterations used.
        leading: :class:`LeadingOrder` of the same model (the ``g → 0`` prediction:
            ``leading.lambda_min``, ``leading.sigma2_min``, ``leading.has_zero``).
    """

    lam: Array
    sigma: Array
    sigma_over_g2: Array
    has_zero: Array
    converged: Array
    steps: Array
    leading: LeadingOrder


def optimal_lambda(
    H: ArrayLike,
    tau_A: ArrayLike,
    tau_B: ArrayLike,
    gamma_A: ArrayLike,
    gamma_B: ArrayLike,
    dims: Sequence[int],
    g: ArrayLike,
    *,
    lam_init: ArrayLike | None = None,
    optimizer=None,
    steps: int = 100,
    gtol: float = 1e-10,
    rtol: float = ZERO_RTOL,
) -> LambdaSearch:
    """Minimise the exact ``σ(ρ⁺_g)`` over the splitting ``λ`` at finite ``g`` with optax.

    Differentiable: ``jax.grad`` of ``lam`` (or ``sigma``) with respect to ``g``, ``H``,
    the reset states and rates goes through the implicit function theorem at the optimum
    (:func:`jaxqep.optimize.minimize`, optimistix's implicit adjoint).

    The objective is ``σ(g, λ)/g²`` (``O(1)`` as ``g → 0``) from the dense tripartite
    solver; the search starts at the leading-order minimiser ``lambda_min`` unless
    ``lam_init`` is given (or ``lambda_min`` is undefined, then at ``1/2``). As ``g → 0``,
    ``lam → lambda_min`` and ``sigma_over_g2 → sigma2_min`` with ``O(g)`` errors.

    Args:
        H: Hermitian coupling Hamiltonian ``(d, d)`` (as in :func:`leading_order`).
        tau_A: reset state on ``H_A``.
        tau_B: reset state on ``H_B``.
        gamma_A: reset rate of A.
        gamma_B: reset rate of B.
        dims: ``(n_A, n_C, n_B)``.
        g: coupling (non-zero).
        lam_init: starting ``λ``.
        optimizer: an optax optimiser; default ``optax.lbfgs()``.
        steps: maximal number of iterations.
        gtol: stop when ``|dσ/dλ| / g² ≤ gtol``.
        rtol: relative tolerance of ``has_zero`` (scale ``‖H‖²/(γ_A+γ_B)``).

    Returns:
        :class:`LambdaSearch`.

    Example:
        >>> import jaxqep
        >>> H = jaxqep.models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
        >>> tA = jaxqep.models.diagonal_reset_state(0.95)
        >>> tB = jaxqep.models.diagonal_reset_state(0.6)
        >>> res = jaxqep.qrm.optimal_lambda(H, tA, tB, 0.7, 0.6, (2, 2, 2), 0.01, lam_init=0.3)
        >>> bool(res.has_zero)
        False
    """
    lo = leading_order(H, tau_A, tau_B, gamma_A, gamma_B, dims)
    g = val.nonzero_scalar(g, "g")
    if lam_init is None:
        lam0 = jnp.where(jnp.isfinite(lo.lambda_min), lo.lambda_min, 0.5)
    else:
        lam0 = _validate_lambda(lam_init)
    # The optimum does not depend on the starting point (implicit adjoint).
    lam0 = jax.lax.stop_gradient(lam0)
    model = (
        jnp.asarray(H),
        jnp.asarray(tau_A),
        jnp.asarray(tau_B),
        jnp.asarray(gamma_A),
        jnp.asarray(gamma_B),
        tuple(int(x) for x in dims),
        g,
    )
    res = optimize.minimize(
        _sigma_over_g2,
        jnp.asarray(lam0, dtype=jnp.result_type(float)),
        args=(model,),
        optimizer=optimizer,
        steps=steps,
        gtol=gtol,
    )
    g2 = g * g
    sigma = res.value * g2
    h = jnp.asarray(H)
    scale = jnp.real(jnp.sum(jnp.abs(h) ** 2)) / (jnp.asarray(gamma_A) + jnp.asarray(gamma_B))
    return LambdaSearch(
        lam=res.params,
        sigma=sigma,
        sigma_over_g2=res.value,
        has_zero=res.value <= rtol * scale,
        converged=res.converged,
        steps=res.steps,
        leading=lo,
    )


def _sigma_over_g2(lam, model):
    h, tau_a, tau_b, gamma_a, gamma_b, dims, g = model
    problem = TripartiteResetModel(h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam)
    return solve("entropy_production", problem, DenseLU(), True).total / (g * g)
