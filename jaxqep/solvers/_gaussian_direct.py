"""The default dense NESS route of Gaussian networks: eig on CPU, sign iteration elsewhere."""

from __future__ import annotations

from ..gaussian._lyapunov import direct_solve
from ._base import AbstractSolver
from ._gaussian_common import register_gaussian

__all__ = ["DirectLyapunov"]


class DirectLyapunov(AbstractSolver):
    """Dense O(L³) NESS of a :class:`jaxqep.GaussianNetwork`, for every backend.

    ``jax.lax.platform_dependent`` picks :class:`Eig` on CPU (LAPACK ``geev``; the result
    is verified and, where its residual is not at rounding level -- a defective drift
    matrix, e.g. the PT dimer at its exceptional point -- replaced by the sign
    iteration) and :class:`SignIteration` on any other platform, so one jitted function
    lowers for CPU and GPU alike. Self-consistent reservoirs by the exact Schur complement
    on the ``L`` diagonal unknowns. The default for networks without self-consistent
    reservoirs and for small networks with them.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jnp.array([[0.0, 0.25], [0.25, 0.0]])       # PT dimer, exceptional point
        >>> net = jaxqep.GaussianNetwork(H, jnp.array([1.1, 0.1]), jnp.array([1.0, 3.0]))
        >>> ep = jaxqep.entropy_production(net, jaxqep.solvers.DirectLyapunov())
        >>> round(float(ep.total), 4), bool(ep.residual < 1e-12)
        (0.0485, True)
    """


def _routes(problem, solver):
    return dict(route=direct_solve, name="DirectLyapunov")


register_gaussian(DirectLyapunov, _routes)
