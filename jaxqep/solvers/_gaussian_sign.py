"""The Newton sign-iteration route of Gaussian networks (any backend)."""

from __future__ import annotations

from ..gaussian._lyapunov import sign_solve
from ._base import AbstractSolver
from ._gaussian_common import register_gaussian

__all__ = ["SignIteration"]


class SignIteration(AbstractSolver):
    """Scaled Newton iteration for the sign of ``[[A, Q], [0, -A^†]]`` (inverses and
    matmuls only: lowers on every backend; backward stable also at exceptional points).

    Converges quadratically after about ``log2(|Im λ|/|Re λ|)`` steps, so weakly damped
    networks cost more steps. With self-consistent reservoirs every Schur-complement
    step reruns the iteration (use :class:`EighKrylov` for large networks).

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jnp.array([[0.0, 0.25], [0.25, 0.0]])       # PT dimer, exceptional point
        >>> net = jaxqep.GaussianNetwork(H, jnp.array([1.1, 0.1]), jnp.array([1.0, 3.0]))
        >>> round(float(jaxqep.entropy_production(net, jaxqep.solvers.SignIteration()).total), 4)
        0.0485
    """


def _routes(problem, solver):
    return dict(route=sign_solve, name="SignIteration")


register_gaussian(SignIteration, _routes)
