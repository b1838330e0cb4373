"""The O(L²) route of chains whose NESS is tridiagonal."""

from __future__ import annotations

from functools import partial

import jax.numpy as jnp

from .._solution import RESULTS
from ..gaussian._lyapunov import direct_solve, tridiagonal_solve
from ._base import AbstractSolver
from ._gaussian_common import register_gaussian

__all__ = ["Tridiagonal"]


class Tridiagonal(AbstractSolver):
    """Exact NESS of chains whose covariance is tridiagonal, in O(L²).

    The chain (27) of seed 000 with baths on its end sites (any rates) and any profile
    of self-consistent rates (every site damped): ``C = diag(c) + β Y`` with two real
    unknowns (derived in :func:`jaxqep.gaussian._lyapunov._tridiagonal_ansatz`; eqs.
    29a/29b are its uniform case). Chosen statically by :class:`Auto` when the network's
    structure is ``"tridiagonal_chain"``, so under ``vmap`` only this route runs.
    Derivatives: the adjoint equation has a general right-hand side and is solved by
    :class:`DirectLyapunov`.

    Args:
        fallback: where the ansatz fails, run :class:`DirectLyapunov` instead of raising
            (only for the batch elements that need it). ``Auto`` sets it for networks
            whose structure was not known at construction.

    Example:
        >>> import jax, jax.numpy as jnp, jaxqep
        >>> from jaxqep.gaussian import chain_baths, chain_hamiltonian
        >>> H = chain_hamiltonian(50, 1.0, 3e-3)
        >>> g, n = chain_baths(50, 1e-2, 1.0, 2.0)
        >>> def total(rate):
        ...     net = jaxqep.GaussianNetwork(H, g, n, rate * jnp.ones(50))
        ...     return jaxqep.entropy_production(net).total
        >>> jaxqep.GaussianNetwork(H, g, n, 1e-3 * jnp.ones(50)).default_solver()
        Tridiagonal()
        >>> bool(jnp.all(jax.vmap(total)(jnp.linspace(1e-3, 1e-2, 4)) > 0))
        True
    """

    fallback: bool = False


def _unchecked(A, g, B):
    # Where the ansatz fails the residual check of solve_ness raises with the hint below
    # (ok stays True: a failed ansatz says nothing about the existence of a NESS).
    X, _ = tridiagonal_solve(A, g, B)
    return X, jnp.asarray(True)


def _routes(problem, solver):
    if solver.fallback:
        route = partial(tridiagonal_solve, fallback=direct_solve)
    else:
        route = _unchecked
    return dict(
        route=route,
        transpose_route=direct_solve,
        name="Tridiagonal",
        failure=RESULTS.not_converged,
        hint=": the NESS of this network is not tridiagonal (H a chain with uniform "
        "on-site energy and hopping modulus, baths on the end sites only, every site "
        "damped); use jaxqep.solvers.Auto() or DirectLyapunov()",
    )


register_gaussian(Tridiagonal, _routes)
