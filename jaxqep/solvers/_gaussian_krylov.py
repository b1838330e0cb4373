"""The scalable route of Gaussian networks with self-consistent reservoirs: GMRES on the
full NESS equation, preconditioned in the eigenbasis of the Hermitian part (why: see
:func:`jaxqep.gaussian._lyapunov.eigh_krylov_solve`)."""

from __future__ import annotations

from functools import partial

import jax

from .._solution import RESULTS
from ..gaussian._lyapunov import direct_solve, eigh_krylov_solve, lazy_fallback
from ._base import AbstractSolver
from ._gaussian_common import register_gaussian

__all__ = ["EighKrylov", "KRYLOV_MIN_SIZE"]

# Smallest network for which Auto prefers EighKrylov to DirectLyapunov (with
# self-consistent reservoirs); below it the eig-based Schur complement is as fast.
KRYLOV_MIN_SIZE = 48


class EighKrylov(AbstractSolver):
    """GMRES on the full NESS equation, right-preconditioned by the exact inverse of the
    uniform-damping operator ``i[Hᵀ, ·] - d̄`` (diagonal in the eigenbasis of ``Hᵀ``).

    For :class:`jaxqep.GaussianNetwork` with self-consistent reservoirs on any network
    (lattices, random networks, any probe profile): one Hermitian ``eigh`` (real for real
    ``H``) and four products with its eigenvectors per Krylov step, no non-Hermitian
    eigendecomposition, no outer (Büttiker) loop; lowers on every backend. Exact: the
    full residual is verified; where GMRES does not reach it (strongly non-uniform
    damping) the solve falls back to :class:`DirectLyapunov` (``fallback=True``; run only
    where needed, also under ``vmap``) or raises (``RESULTS.not_converged``). Implicitly
    differentiated (the adjoint equation by the same method). The default of :class:`Auto` with
    self-consistent reservoirs from ``L = 48`` on.

    Args:
        rtol: GMRES tolerance on the preconditioned system.
        restart: Krylov dimension between restarts.
        max_steps: iteration cap.
        fallback: fall back to :class:`DirectLyapunov` where GMRES fails.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jaxqep.gaussian.lattice_hamiltonian(4, 4, 1.0, 0.5)
        >>> g = jnp.zeros(16).at[0].set(0.1).at[-1].set(0.1)
        >>> n = jnp.zeros(16).at[0].set(1.0).at[-1].set(2.0)
        >>> net = jaxqep.GaussianNetwork(H, g, n, 0.05 * jnp.ones(16))
        >>> a = jaxqep.entropy_production(net, jaxqep.solvers.EighKrylov(fallback=False))
        >>> b = jaxqep.entropy_production(net, jaxqep.solvers.DirectLyapunov())
        >>> bool(abs(a.total / b.total - 1) < 1e-9), int(a.iterations) > 0
        (True, True)
    """

    rtol: float = 1e-13
    restart: int = 40
    max_steps: int = 400
    fallback: bool = True

    def __check_init__(self):
        if int(self.restart) < 1 or int(self.max_steps) < 1:
            raise ValueError("EighKrylov: restart and max_steps must be >= 1")
        if not float(self.rtol) > 0:
            raise ValueError("EighKrylov: rtol must be > 0")


def _route(A, g, B, *, real_u, solver):
    X, ok, steps = eigh_krylov_solve(
        A, g, B, real_u=real_u, rtol=solver.rtol, restart=solver.restart,
        max_steps=solver.max_steps,
    )
    if not solver.fallback:
        # A failed GMRES is reported by the residual check (not as "no NESS").
        return X, (jax.numpy.asarray(True), steps)
    from ..gaussian._lyapunov import RESIDUAL_TOL, relative_residual

    good = ok & (relative_residual(A, g, X, B) <= RESIDUAL_TOL)
    def fallback():
        Xd, okd = direct_solve(A, g, B)
        return Xd, (okd, steps)

    return lazy_fallback(good, (X, (ok, steps)), fallback)


def _routes(problem, solver):
    return dict(
        route=partial(_route, real_u=problem.real_h, solver=solver),
        transpose_route=partial(_route, real_u=problem.real_h, solver=solver),
        name="EighKrylov",
        failure=RESULTS.not_converged,
        hint=": GMRES did not converge (raise max_steps, or use fallback=True or "
        "DirectLyapunov())",
    )


register_gaussian(EighKrylov, _routes)
