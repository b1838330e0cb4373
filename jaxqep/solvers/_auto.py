"""Automatic choice of the solver, from the problem's static structure."""

from __future__ import annotations

from ._base import AbstractSolver

__all__ = ["Auto"]


class Auto(AbstractSolver):
    """Let the problem choose (:meth:`jaxqep.AbstractProblem.default_solver`).

    The choice is static (dimensions, structure read from concrete inputs at
    construction), so it survives ``jit`` and ``vmap``: a batch runs the chosen
    algorithm only, never several branches.

    - :class:`jaxqep.ResetModel`: :class:`ClosedForm`.
    - :class:`jaxqep.TripartiteResetModel`: :class:`Reduced` up to ``d = 32``,
      :class:`MatrixFree` above.
    - :class:`jaxqep.SuperoperatorModel`: :class:`DenseLU`.
    - :class:`jaxqep.GaussianNetwork`: :class:`Tridiagonal` for chains whose NESS is
      tridiagonal, :class:`EighKrylov` with self-consistent reservoirs from ``L = 48``
      (as its fast path ``EighSchur``, see ``jaxqep.solvers._gaussian_eigh_schur``),
      :class:`DirectLyapunov` otherwise (and ``Tridiagonal(fallback=True)`` when the
      structure was not known at construction).
    - :class:`jaxqep.GKLSModel`: :class:`DenseLU` up to ``d = 32``, :class:`GKLSKrylov`
      above.

    Example:
        >>> import jaxqep
        >>> m = jaxqep.models.reset_chain(4)
        >>> model = jaxqep.TripartiteResetModel(*m.tripartite_args(), g=1.0, lam=0.3)
        >>> jaxqep.solvers.Auto().select(model)
        Reduced()
    """

    def select(self, problem) -> AbstractSolver:
        """The solver used for ``problem``."""
        return problem.default_solver()
