"""Matrix-free preconditioned GMRES for large tripartite models (``jaxqep.qrm._matrix_free``)."""

from __future__ import annotations

import jax.numpy as jnp

from .._dispatch import register
from .._solution import RESULTS, SteadyStateSolution, make_stats
from ..qrm._matrix_free._tripartite import _entropy_production_from_states, _tripartite_states
from ..qrm._model_tripartite import TripartiteResetModel
from ._krylov_options import AbstractKrylovSolver

__all__ = ["MatrixFree"]


class MatrixFree(AbstractKrylovSolver):
    """Restarted GMRES on the bordered system, matrix-free, with a two-level preconditioner.

    For :class:`jaxqep.TripartiteResetModel` with large ``d`` (N-qubit chains): each
    iteration costs a few ``d x d`` products (sparse and block diagonal when the model's
    ``H`` was concrete at construction); memory ``O(restart · d²)``. Implicitly
    differentiated (one adjoint Krylov solve per gradient). The default above ``d = 32``.

    Args:
        rtol: relative tolerance of GMRES on the bordered system.
        residual_tol: largest accepted ``‖L(ρ)‖_F`` of the returned state.
        max_steps: iteration cap.
        restart: Krylov dimension between restarts.
        stagnation_cycles: restart cycles without progress before giving up.

    Example:
        >>> import jaxqep
        >>> m = jaxqep.models.reset_chain(6)
        >>> model = jaxqep.TripartiteResetModel(*m.tripartite_args(), g=1.0, lam=0.3)
        >>> sol = jaxqep.steady_state(model, jaxqep.solvers.MatrixFree(restart=40))
        >>> bool(sol.stats.residual < 1e-10), int(sol.stats.iterations) > 0
        (True, True)
    """

    rtol: float = 1e-14
    residual_tol: float = 1e-10
    max_steps: int = 3000
    restart: int = 60
    stagnation_cycles: int = 10


def _states(problem: TripartiteResetModel, solver: MatrixFree):
    nz = None if problem.pattern is None else problem.pattern.array
    return _tripartite_states(*problem.args(), solver.options(), True, nz=nz)  # pyright: ignore[reportCallIssue]


@register("steady_state", TripartiteResetModel, MatrixFree)
def _ss(problem: TripartiteResetModel, solver: MatrixFree):
    st = _states(problem, solver)
    return SteadyStateSolution(
        rho=st.rho,
        result=RESULTS.successful,
        stats=make_stats(st.residuals[0], None, st.iterations[0]),
    )


@register("entropy_production", TripartiteResetModel, MatrixFree)
def _ep(problem: TripartiteResetModel, solver: MatrixFree):
    st = _states(problem, solver)
    ep = _entropy_production_from_states(st, *problem.args())
    return ep.__class__(
        total=ep.total,
        parts=ep.parts,
        fluxes=ep.fluxes,
        rho=ep.rho,
        partial_states=ep.partial_states,
        residual=ep.residual,
        condition=ep.condition,
        iterations=jnp.max(st.iterations),
    )
