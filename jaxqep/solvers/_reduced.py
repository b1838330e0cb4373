"""Tripartite reset models on the partial traces (``jaxqep.qrm._reduced``)."""

from __future__ import annotations

import jax.numpy as jnp

from .._dispatch import register
from .._solution import RESULTS, SteadyStateSolution, make_stats
from ..qrm._model_tripartite import TripartiteResetModel
from ..qrm._tripartite import reduced_tripartite_entropy_production
from ._base import AbstractSolver

__all__ = ["Reduced"]


class Reduced(AbstractSolver):
    """Direct solve of the reduced fixed-point equations on the partial traces.

    For :class:`jaxqep.TripartiteResetModel`: ``(n_C n_B)² + (n_A n_C)²`` real unknowns
    instead of ``d²``; the resolvents are elementwise in the eigenbasis of ``H`` (shared by
    a batch when only ``g``, ``λ`` vary); the three systems go through one batched LU,
    with an implicit derivative rule on the same factors (see :mod:`jaxqep.qrm._reduced`).
    The default up to ``d = 32``.

    Example:
        >>> import jaxqep
        >>> H = jaxqep.models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
        >>> tA = jaxqep.models.diagonal_reset_state(0.95)
        >>> tB = jaxqep.models.diagonal_reset_state(0.6)
        >>> m = jaxqep.TripartiteResetModel(H, tA, tB, 0.7, 0.6, (2, 2, 2), g=0.1, lam=0.3)
        >>> a = jaxqep.entropy_production(m, jaxqep.solvers.Reduced()).total
        >>> b = jaxqep.entropy_production(m, jaxqep.solvers.DenseLU()).total
        >>> bool(abs(a / b - 1) < 1e-9)
        True
    """


@register("entropy_production", TripartiteResetModel, Reduced)
def _ep(problem: TripartiteResetModel, solver: Reduced):
    return reduced_tripartite_entropy_production(*problem.args())


@register("steady_state", TripartiteResetModel, Reduced)
def _ss(problem: TripartiteResetModel, solver: Reduced):
    ep = reduced_tripartite_entropy_production(*problem.args())
    return SteadyStateSolution(
        rho=ep.rho,
        result=RESULTS.successful,
        stats=make_stats(ep.residual, ep.condition, jnp.zeros((), jnp.int32)),
    )
