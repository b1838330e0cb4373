"""Bordered matrix-free steady-state solve by right-preconditioned GMRES.

For an N-qubit chain with resets on its end sites the Liouvillian has ``4^N x 4^N``
entries; nothing here builds it. Every Lindbladian is applied as a function on ``d x d``
matrices and the bordered steady-state system ``L(x) + u tr(x) = u`` (``u = I/d``, as in
``jaxqep._steady``) is solved by restarted, right-preconditioned GMRES (the package's
own, :class:`jaxqep._krylov.GMRES`, plugged into ``lineax.linear_solve``), which
differentiates implicitly (one adjoint Krylov solve, never a backpropagation through the
iterations). The unknowns are packed Hermitian matrices
(:mod:`jaxqep.qrm._matrix_free._packing`), restricted to a static Krylov support when
one is known (:func:`jaxqep.qrm._matrix_free._structure._invariant_support`).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
from jaxtyping import Array

from ..._errors import error_if
from ..._krylov import GMRES
from ..._solution import RESULTS
from ._packing import _pack, _unpack

__all__ = [
    "MatrixFreeSteadyState",
    "steady_state_matrix_free",
    "_DEFAULTS",
    "_options",
    "_solve_packed",
]


class MatrixFreeSteadyState(eqx.Module):
    """A steady state from a matrix-free Krylov solve, with its convergence report.

    Attributes:
        rho: the density matrix (Hermitian, unit trace), shape ``(d, d)``.
        residual: ``‖L(ρ)‖_F`` recomputed at the returned state.
        iterations: GMRES iterations spent (preconditioned applications of ``L``,
            not counting one residual evaluation per restart).
        converged: whether GMRES met its tolerance (``‖b - A x‖ <= tol ‖b‖`` for the
            bordered system) and ``residual <= residual_tol``.
    """

    rho: Array
    residual: Array
    iterations: Array
    converged: Array


_DEFAULTS = dict(
    tol=1e-14, residual_tol=1e-10, max_iterations=3000, restart=60, stagnation_cycles=10
)


def _options(solver_options: dict) -> dict:
    unknown = set(solver_options) - set(_DEFAULTS)
    if unknown:
        raise TypeError(f"unexpected solver options {sorted(unknown)}; valid: {sorted(_DEFAULTS)}")
    opts = {**_DEFAULTS, **solver_options}
    if int(opts["restart"]) < 1 or int(opts["max_iterations"]) < 1:
        raise ValueError("solver options: restart and max_iterations must be >= 1")
    return opts


def _solve_packed(
    apply_l: Callable[[Array], Array],
    precondition: Callable[[Array], Array] | None,
    d: int,
    dtype,
    opts: dict,
    name: str,
    throw: bool,
    support: np.ndarray | None = None,
) -> MatrixFreeSteadyState:
    """Solve ``L(x) + u tr(x) = u`` on packed Hermitian matrices by restarted GMRES.

    ``support``: static ``(d, d)`` pattern that contains ``u`` and is mapped into itself
    by ``L`` and the preconditioner (:func:`._structure._invariant_support`); the Krylov
    vectors then hold only its entries.
    """
    u = jnp.eye(d, dtype=dtype) / d
    diag = np.arange(d)
    if support is None:
        flat = pos = None
        structure = jax.ShapeDtypeStruct((d, d), dtype)
    else:
        flat = np.flatnonzero(support)
        pos = np.cumsum(support.ravel()).reshape(d, d) - 1  # index in the compressed vector
        structure = jax.ShapeDtypeStruct((flat.size,), dtype)

    def to_full(v: Array) -> Array:
        if flat is None:
            return v
        # A scatter, not a gather: XLA fuses a gather into its consumers, and the
        # preconditioner's output would be recomputed by each of the ELL gathers of L.
        out = jnp.zeros(d * d, dtype).at[flat].set(v, indices_are_sorted=True, unique_indices=True)
        return out.reshape(d, d)

    def to_vec(s: Array) -> Array:
        return s if flat is None else s.reshape(-1)[flat]

    def trace(v: Array) -> Array:
        return jnp.sum(v[diag, diag] if pos is None else v[pos[diag, diag]])

    u_vec = to_vec(u)
    # The trace is taken on the diagonal entries only: a full-matrix reduction here would
    # pull the whole operator into one (YNNPACK) fusion with materialised gathers, 7 times
    # slower on XLA:CPU. Likewise only the kept entries of L(S) are computed (to_vec fuses).
    operator = lx.FunctionLinearOperator(
        lambda v: to_vec(apply_l(to_full(v))) + trace(v) * u_vec, structure
    )
    tol = float(opts["tol"])
    solver = GMRES(
        rtol=tol,
        atol=0.0,
        restart=min(int(opts["restart"]), int(np.prod(structure.shape))),
        max_steps=int(opts["max_iterations"]),
        stagnation_cycles=int(opts["stagnation_cycles"]),
    )
    options = {}
    if precondition is not None:
        options["preconditioner"] = lx.FunctionLinearOperator(
            lambda v: to_vec(precondition(to_full(v))), structure
        )
    sol = lx.linear_solve(operator, u_vec, solver, options=options, throw=False)
    s = to_full(sol.value / trace(sol.value))  # tr L = 0: removes rounding drift only
    residual = jnp.linalg.norm(apply_l(s))  # ‖pack(X)‖_F = ‖X‖_F for Hermitian X
    iterations = sol.stats["num_steps"]
    ok = (
        (sol.result == lx.RESULTS.successful)
        & jnp.isfinite(residual)
        & (residual <= opts["residual_tol"])
    )
    if throw:
        s = error_if(
            s,
            ~ok,
            f"{name}: the matrix-free steady-state solve did not converge (residual "
            f"tolerance tol={opts['tol']:g} not met, or ‖L(ρ)‖ above residual_tol="
            f"{opts['residual_tol']:g}, at the iteration cap or on stagnation). Raise "
            "max_iterations or restart, or loosen the tolerances; a Lindbladian without a "
            "unique steady state also ends here.",
            RESULTS.not_converged,
        )
    return MatrixFreeSteadyState(
        rho=_unpack(s), residual=residual, iterations=iterations, converged=ok
    )


def steady_state_matrix_free(
    apply_L: Callable[[Array], Array],
    d: int,
    *,
    preconditioner: Callable[[Array], Array] | None = None,
    dtype=None,
    throw: bool = True,
    **solver_options,
) -> MatrixFreeSteadyState:
    """Unique steady state of a Lindbladian given as a function, by preconditioned GMRES.

    Solves ``L(ρ) = 0, tr ρ = 1`` through the bordered system ``L(x) + tr(x) I/d = I/d``
    (well posed iff ``ker L`` is one-dimensional) over Hermitian matrices. The solve is
    implicitly differentiable (``lineax``): gradients with respect to anything ``apply_L``
    closes over cost one adjoint Krylov solve.

    Args:
        apply_L: ``X -> L(X)`` on complex ``(d, d)`` matrices; must be linear and map
            Hermitian matrices to Hermitian matrices (every Lindbladian does). Never
            materialised.
        d: Hilbert-space dimension (static).
        preconditioner: optional ``X -> M(X)`` approximating ``L^{-1}`` (on Hermitian
            matrices; linear). Without one GMRES is plain and often slow.
        dtype: real dtype of the Krylov vectors (default: float64 when x64 is on).
        throw: raise (``EquinoxRuntimeError``) when the solve does not converge; with
            ``False`` the result's ``converged`` flag reports it instead.
        **solver_options: ``tol`` (GMRES tolerance relative to ``‖I/d‖``, 1e-14),
            ``residual_tol`` (accepted
            ``‖L(ρ)‖_F``, 1e-10), ``max_iterations`` (3000), ``restart`` (60),
            ``stagnation_cycles`` (10).

    Returns:
        :class:`MatrixFreeSteadyState` (``rho``, ``residual``, ``iterations``,
        ``converged``).

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> tau = jnp.diag(jnp.array([0.8, 0.2]))
        >>> H = jnp.array([[0.0, 0.3], [0.3, 1.0]])
        >>> L = lambda X: -1j * (H @ X - X @ H) + (tau * jnp.trace(X) - X)
        >>> ss = jaxqep.qrm.steady_state_matrix_free(L, 2)
        >>> bool(ss.converged), bool(ss.residual < 1e-10)
        (True, True)
    """
    d = int(d)
    opts = _options(solver_options)
    if dtype is None:
        dtype = jnp.result_type(float)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        raise TypeError("dtype: give the real dtype of the packed Krylov vectors")

    def apply_packed(s: Array) -> Array:
        return _pack(apply_L(_unpack(s))).astype(dtype)

    prec: Callable[[Array], Array] | None = (
        None
        if preconditioner is None
        else lambda s: _pack(preconditioner(_unpack(s))).astype(dtype)
    )

    return _solve_packed(apply_packed, prec, d, dtype, opts, "L", throw)
