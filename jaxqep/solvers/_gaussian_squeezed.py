"""The NESS of Gaussian networks with squeezed thermal baths: two dense L×L solves.

The 2L×2L Lyapunov equation ``𝔸 Θ + Θ 𝔸^† = -𝔻`` of the Wigner covariance has a block
diagonal drift ``𝔸 = Diag(B, A)`` (:mod:`jaxqep.gaussian._squeezed`), so it is solved as
the L×L Lyapunov equation of ``C`` (the route of :class:`DirectLyapunov`, with its
no-NESS detection and residual guarantee) and the L×L Sylvester equation
``B S + S Bᵀ = -Diag(γ m)`` (:func:`jaxqep.linalg.solve_sylvester`): three L×L
eigendecompositions instead of one 2L×2L (eight times the work). Derivatives are
implicit (adjoint Lyapunov/Sylvester solves).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._dispatch import register
from .._errors import recorded_mark, recorded_since
from .._lyapunov import solve_sylvester
from .._solution import RESULTS, make_stats
from .._validate import check
from ..gaussian._lyapunov import RESIDUAL_TOL, direct_solve
from ..gaussian._ness import solve_ness
from ..gaussian._squeezed import SqueezedGaussianNetwork
from ..gaussian._squeezed_observables import (
    SqueezedGaussianSteadyState,
    squeezed_entropy_production_of,
)
from ._base import AbstractSolver

__all__ = ["SqueezedLyapunov", "squeezed_ness"]


class SqueezedLyapunov(AbstractSolver):
    """Dense O(L³) NESS ``(C, S)`` of a :class:`jaxqep.SqueezedGaussianNetwork`.

    ``C`` by the route of :class:`DirectLyapunov` (eig on CPU, sign iteration elsewhere;
    a network without NESS raises ``RESULTS.no_ness``), ``S = <a a>`` by
    :func:`jaxqep.linalg.solve_sylvester` on ``B S + S Bᵀ = -Diag(γ m)``,
    ``B = -iH - G/2``. Both are verified by their residuals. The default (and only)
    solver of squeezed networks.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> net = jaxqep.SqueezedGaussianNetwork(jnp.zeros((1, 1)), jnp.array([2.0]),
        ...                                      jnp.array([1.0]), jnp.array([0.5j]))
        >>> ss = jaxqep.steady_state(net, jaxqep.solvers.SqueezedLyapunov())
        >>> complex(ss.squeezing[0, 0]) == 0.5j  # the bath's <b b>
        True
    """


def _sylvester_residual(Bm, S, F):
    fro = jnp.linalg.norm
    r = fro(Bm @ S + S @ Bm.T + F)
    scale = fro(F) + 2.0 * fro(Bm) * fro(S)
    return r / jnp.where(scale > 0, scale, 1.0)


def squeezed_ness(net: SqueezedGaussianNetwork):
    """``(C, S, residual, condition)`` of a squeezed network (see :class:`SqueezedLyapunov`)."""
    # With throw=False the C solve records its failures (no NESS) instead of raising;
    # then the S solve must not run on an unstable B (its spectrum check would raise).
    mark = recorded_mark()
    C, res_c, cond_c, _ = solve_ness(net, route=direct_solve, name="SqueezedLyapunov")
    H, g, m = net.hamiltonian, net.gammas, net.squeezing
    Bm = -1j * H - 0.5 * jnp.diag(g).astype(H.dtype)
    failed = recorded_since(mark)
    if failed is not None:
        Bm = jnp.where(failed, -jnp.eye(Bm.shape[0], dtype=Bm.dtype), Bm)
    F = jnp.diag(g * m).astype(H.dtype)
    # The S solve runs after C's checks: a network without NESS reports that, not the
    # Sylvester solver's spectrum message. A data dependency on C's checked entry (an
    # optimisation barrier does not order them on CPU: XLA drops it).
    tie = 0.0 * jnp.real(C[0, 0])
    Bm = Bm.at[0, 0].add(jnp.where(jnp.isfinite(tie), tie, 0.0).astype(Bm.dtype))
    S = solve_sylvester(Bm, Bm.T, -F)
    S = 0.5 * (S + S.T)
    res_s = jax.lax.stop_gradient(_sylvester_residual(Bm, S, F))
    S = check(
        S,
        ~(res_s <= RESIDUAL_TOL),
        "SqueezedLyapunov: the NESS squeezing S = <a a> does not solve its equation to "
        f"rounding level (normwise backward error above {RESIDUAL_TOL:g})",
        RESULTS.not_converged,
    )
    fro = jnp.linalg.norm
    nf = fro(F)
    cond_s = jnp.where(nf > 0, 2.0 * fro(Bm) * fro(S) / jnp.where(nf > 0, nf, 1.0), 1.0)
    cond_s = jax.lax.stop_gradient(jnp.maximum(cond_s, 1.0))
    return C, S, jnp.maximum(res_c, res_s), jnp.maximum(cond_c, cond_s)


@register("steady_state", SqueezedGaussianNetwork, SqueezedLyapunov)
def _ss(problem: SqueezedGaussianNetwork, solver: SqueezedLyapunov):
    C, S, residual, condition = squeezed_ness(problem)
    return SqueezedGaussianSteadyState(
        covariance=C,
        squeezing=S,
        result=RESULTS.successful,
        stats=make_stats(residual, condition, jnp.zeros((), jnp.int32)),
    )


@register("entropy_production", SqueezedGaussianNetwork, SqueezedLyapunov)
def _ep(problem: SqueezedGaussianNetwork, solver: SqueezedLyapunov):
    C, S, residual, condition = squeezed_ness(problem)
    return squeezed_entropy_production_of(problem, C, S, residual, condition)
