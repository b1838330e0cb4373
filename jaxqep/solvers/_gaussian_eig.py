"""The eigenvector route of Gaussian networks (CPU)."""

from __future__ import annotations

from .._solution import RESULTS
from ..gaussian._lyapunov import eig_solve
from ._base import AbstractSolver
from ._gaussian_common import register_gaussian

__all__ = ["Eig"]


class Eig(AbstractSolver):
    """``A = V Λ V⁻¹`` (LAPACK ``geev`` in a host callback, CPU only), then every plain
    solve is 4 matmuls; self-consistent reservoirs by the exact Schur complement.

    Fastest on CPU for repeated solves, but the eigenvectors of a defective or nearly
    defective drift matrix (exceptional points) are ill-conditioned: there the residual
    check fails and the solve raises (``RESULTS.ill_conditioned`` with ``throw=False``)
    instead of returning a wrong NESS; use :class:`DirectLyapunov` (the default, which
    falls back to the sign iteration) or :class:`SignIteration`.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jaxqep.gaussian.chain_hamiltonian(3, 1.0, 0.2)
        >>> net = jaxqep.GaussianNetwork(H, jnp.array([0.5, 0, 0.5]), jnp.array([1., 0, 2]))
        >>> a = jaxqep.entropy_production(net, jaxqep.solvers.Eig()).total
        >>> b = jaxqep.entropy_production(net, jaxqep.solvers.SignIteration()).total
        >>> bool(abs(a - b) < 1e-12 * abs(a))
        True
    """


def _routes(problem, solver):
    return dict(
        route=eig_solve,
        name="Eig",
        failure=RESULTS.ill_conditioned,
        hint=": the drift matrix is (nearly) defective, its eigenvectors are "
        "ill-conditioned; use jaxqep.solvers.SignIteration() or the default solver",
    )


register_gaussian(Eig, _routes)
