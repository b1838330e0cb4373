"""Dense bordered LU on the ``d² x d²`` superoperators (any Lindbladian given or built as a
matrix); implicit derivatives through ``lineax`` (never through the factorisation)."""

from __future__ import annotations

import jax.numpy as jnp

from .._dispatch import register
from .._solution import RESULTS, SteadyStateSolution, make_stats
from .._steady import _check_state, solve_bordered
from .._superop import unvec
from .._superop_model import SuperoperatorModel
from ..qrm._model_reset import ResetModel
from ..qrm._model_tripartite import TripartiteResetModel
from ..qrm._spohn import dense_spohn_entropy_production
from ..qrm._tripartite import dense_tripartite_entropy_production
from ._base import AbstractSolver

__all__ = ["DenseLU"]


class DenseLU(AbstractSolver):
    """Dense LU of the bordered system ``(L + u tᵀ) x = u`` (``t = vec(I)``, ``u = t/d``).

    Serves every problem that can build its Lindbladian as a matrix
    (:class:`jaxqep.SuperoperatorModel`, :class:`jaxqep.ResetModel`,
    :class:`jaxqep.TripartiteResetModel`); O(d⁶) time, O(d⁴) memory, so for small ``d``
    and as an independent check of the structured solvers. The steady states of ``L``
    and of its parts come from one batched LU call; the condition estimate is Hager's,
    on the LU factors already computed.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jaxqep.models.single_qubit_hamiltonian(eps=1.0, delta=0.7)
        >>> taus = jnp.stack([jaxqep.models.diagonal_reset_state(t) for t in (0.9, 0.2)])
        >>> model = jaxqep.ResetModel(H, taus, jnp.array([1.0, 0.5]))
        >>> a = jaxqep.entropy_production(model, jaxqep.solvers.DenseLU()).total
        >>> b = jaxqep.entropy_production(model, jaxqep.solvers.ClosedForm()).total
        >>> bool(abs(a - b) < 1e-12)
        True
    """


def _dense_steady_state(lmat, name: str) -> SteadyStateSolution:
    d = int(round(lmat.shape[-1] ** 0.5))
    x, kappa = solve_bordered(lmat, condition=True)
    rho = _check_state(unvec(x, d), name)
    residual = jnp.linalg.norm(lmat.astype(x.dtype) @ x)
    rho = 0.5 * (rho + jnp.conj(rho.T))
    return SteadyStateSolution(
        rho=rho, result=RESULTS.successful, stats=make_stats(residual, kappa)
    )


@register("steady_state", SuperoperatorModel, DenseLU)
def _ss_superop(problem: SuperoperatorModel, solver: DenseLU):
    return _dense_steady_state(problem.matrix(), problem.name)


@register("entropy_production", SuperoperatorModel, DenseLU)
def _ep_superop(problem: SuperoperatorModel, solver: DenseLU):
    return dense_spohn_entropy_production(problem.parts)


@register("steady_state", ResetModel, DenseLU)
@register("steady_state", TripartiteResetModel, DenseLU)
def _ss_matrix(problem, solver: DenseLU):
    return _dense_steady_state(jnp.sum(problem.superoperators(), axis=0), "L")


@register("entropy_production", ResetModel, DenseLU)
def _ep_reset(problem: ResetModel, solver: DenseLU):
    return dense_spohn_entropy_production(problem.superoperators())


@register("entropy_production", TripartiteResetModel, DenseLU)
def _ep_tripartite(problem: TripartiteResetModel, solver: DenseLU):
    return dense_tripartite_entropy_production(*problem.args())
