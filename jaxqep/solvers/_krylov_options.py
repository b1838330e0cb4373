"""Options shared by the GMRES-based solvers (:class:`MatrixFree`, :class:`GKLSKrylov`)."""

from __future__ import annotations

from ._base import AbstractSolver

__all__ = ["AbstractKrylovSolver"]


class AbstractKrylovSolver(AbstractSolver):
    """A solver driving the package's GMRES (:mod:`jaxqep._krylov`); subclasses declare
    the fields ``rtol``, ``residual_tol``, ``max_steps``, ``restart``, ``stagnation_cycles``
    with their own defaults."""

    def __check_init__(self):
        name = type(self).__name__
        if int(self.restart) < 1 or int(self.max_steps) < 1:  # pyright: ignore[reportAttributeAccessIssue]
            raise ValueError(f"{name}: restart and max_steps must be >= 1")
        if not (float(self.rtol) > 0 and float(self.residual_tol) > 0):  # pyright: ignore[reportAttributeAccessIssue]
            raise ValueError(f"{name}: rtol and residual_tol must be > 0")

    def options(self) -> dict:
        """The options in the form of the matrix-free drivers (``qrm._matrix_free``)."""
        return dict(
            tol=float(self.rtol),  # pyright: ignore[reportAttributeAccessIssue]
            residual_tol=float(self.residual_tol),  # pyright: ignore[reportAttributeAccessIssue]
            max_iterations=int(self.max_steps),  # pyright: ignore[reportAttributeAccessIssue]
            restart=int(self.restart),  # pyright: ignore[reportAttributeAccessIssue]
            stagnation_cycles=int(self.stagnation_cycles),  # pyright: ignore[reportAttributeAccessIssue]
        )
