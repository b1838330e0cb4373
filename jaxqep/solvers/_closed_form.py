"""Closed-form steady states of single-space reset models (seed 004, eqs. 3.8-3.9)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._dispatch import register
from .._solution import RESULTS, SteadyStateSolution, make_stats
from ..qrm._model_reset import ResetModel
from ..qrm._reset import closed_form_entropy_production, qrm_lindbladian_action, reset_steady_state
from ._base import AbstractSolver

__all__ = ["ClosedForm"]


class ClosedForm(AbstractSolver):
    """Closed forms: ``ρ⁺_mn = T_mn / (1 + i(e_m - e_n)/Γ)`` in the eigenbasis of ``H``.

    For :class:`jaxqep.ResetModel`: every steady state (of ``L`` and of each part) costs
    one ``eigh``, O(d³), no ``d² x d²`` solve. Derivatives by the closed form's own rule
    (the tangent is the same map applied to a new right-hand side), finite at degenerate
    spectra of ``H``.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jaxqep.models.single_qubit_hamiltonian(eps=1.0, delta=0.7)
        >>> tau = jaxqep.models.diagonal_reset_state(0.9)
        >>> model = jaxqep.ResetModel(H, tau[None], jnp.array([1.0]))
        >>> sol = jaxqep.steady_state(model, jaxqep.solvers.ClosedForm())
        >>> round(float(jnp.trace(sol.rho).real), 12)
        1.0
    """


def _condition(h, gammas, lam):
    # In H's eigenbasis the closed form divides T_mn by 1 + i c (e_m - e_n)/γ, so the map
    # T -> ρ is conditioned by max |1 + i c Δ/γ| (its smallest modulus is 1).
    w = jax.lax.stop_gradient(jnp.linalg.eigvalsh(h))
    ratios = jnp.concatenate([jnp.abs(lam) / gammas, (1.0 / jnp.sum(gammas))[None]])
    return jnp.sqrt(1.0 + (jax.lax.stop_gradient(jnp.max(ratios)) * (w[-1] - w[0])) ** 2)


@register("steady_state", ResetModel, ClosedForm)
def _steady_state(problem: ResetModel, solver: ClosedForm) -> SteadyStateSolution:
    h, taus, gammas = problem.H, problem.taus, problem.gammas
    rate = jnp.sum(gammas)
    t_mix = jnp.einsum("j,jab->ab", gammas.astype(h.dtype), taus) / rate
    rho = reset_steady_state(h, t_mix, rate)
    residual = jnp.linalg.norm(qrm_lindbladian_action(h, taus, gammas, rho))
    ratios = jnp.asarray([1.0 / rate])
    w = jax.lax.stop_gradient(jnp.linalg.eigvalsh(h))
    cond = jnp.sqrt(1.0 + (jax.lax.stop_gradient(ratios[0]) * (w[-1] - w[0])) ** 2)
    return SteadyStateSolution(rho=rho, result=RESULTS.successful, stats=make_stats(residual, cond))


@register("entropy_production", ResetModel, ClosedForm)
def _entropy_production(problem: ResetModel, solver: ClosedForm):
    return closed_form_entropy_production(problem.H, problem.taus, problem.gammas, problem.lambdas)
