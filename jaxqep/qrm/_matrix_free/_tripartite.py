"""Matrix-free steady states and entropy production of large tripartite reset models.

The three solves of a tripartite reset model (``L_g``, ``L^A_{λg}``, ``L^B_{(1-λ)g}``,
chains with resets on their end sites), each a bordered GMRES solve
(:mod:`jaxqep.qrm._matrix_free._solve`) of the packed Lindbladian
(:mod:`jaxqep.qrm._matrix_free._resets`) with the two-level preconditioner
(:mod:`jaxqep.qrm._matrix_free._preconditioner`), sharing the static structure of a
concrete ``H`` (:mod:`jaxqep.qrm._matrix_free._structure`).

Measured on ``models.reset_chain`` (λ = 0.3, restart 60), GMRES iterations for
``ρ, ρ^A, ρ^B``: N = 6: 37/50/45 (g = 0.01) to 73/66/76 (g = 1), 115/97/92 (g = 3) and
111/119/98 (g = 30); N = 8: 96/119/79 (g = 0.1), 111/159/99 (g = 1), 153/204/113 (g = 3);
N = 10: 125/269/100 (g = 0.1), 163/226/119 (g = 1), 184/337/146 (g = 3). Without the
slow-space part, GMRES needs thousands of iterations or stalls for ``g ≲ 1``. On 2 CPU
cores, ``benchmarks/bench_chain.py`` at N = 10 (d = 1024, g = 1) takes 13 s for the three
states and σ with a concrete ``H`` and 53 s with ``H`` traced (dense products, full
Krylov vectors), against 99 s before the structure, the ``conj ∘ L`` form, chunked and
selective Gram-Schmidt and restart 60; an iteration then costs about 20 ms, half of it
in ``L`` and the preconditioner, and logm of the three states about 2 s.
"""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .._results import EntropyProduction
from .._tripartite import tripartite_result, validate_coupling, validate_tripartite
from ._preconditioner import _two_level_preconditioner
from ._resets import _lindblad_packed, _Resets
from ._solve import _options, _solve_packed
from ._structure import _ell_pattern, _invariant_support, _nonzero_pattern

__all__ = [
    "TripartiteSteadyStates",
    "tripartite_steady_states_iterative",
    "tripartite_entropy_production_iterative",
    "_tripartite_parts",
    "_tripartite_states",
    "_entropy_production_from_states",
]


class TripartiteSteadyStates(eqx.Module):
    """The three steady states of a tripartite reset model, from matrix-free solves.

    Attributes:
        rho: steady state ``ρ⁺_g`` of ``L_g``, ``(d, d)``.
        partial_states: ``(ρ^A, ρ^B)``, steady states of ``L^A_{λg}``, ``L^B_{(1-λ)g}``.
        residuals: ``‖L_k(ρ_k)‖_F`` for ``(L_g, L^A, L^B)``, shape ``(3,)``.
        iterations: GMRES iterations of the three solves, shape ``(3,)``.
        converged: per-solve convergence flags, shape ``(3,)``.
    """

    rho: Array
    partial_states: Array
    residuals: Array
    iterations: Array
    converged: Array


def _tripartite_parts(h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam):
    """``(H coefficient, resets)`` of ``L_g``, ``L^A_{λg}`` and ``L^B_{(1-λ)g}``."""
    both = _Resets(tau_a, tau_b, gamma_a, gamma_b, dims)
    only_a = _Resets(tau_a, None, gamma_a, gamma_b, dims)
    only_b = _Resets(None, tau_b, gamma_a, gamma_b, dims)
    return ((g, both), (g * lam, only_a), (g * (1.0 - lam), only_b))


def _tripartite_states(
    h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam, opts, throw, nz: np.ndarray | None = None
):
    """The three solves. ``nz``: static non-zero pattern of ``H`` (default: read from ``H``
    if it is concrete at trace time). A given pattern must contain that of ``H`` and its
    connected components must stay invariant (derivatives included) -- e.g. the pattern
    of a concrete ``H0`` for ``H = H0 + p V`` with ``V`` inside it."""
    d = h.shape[0]
    rdtype = jnp.real(jnp.zeros((), jnp.result_type(h.dtype, tau_a.dtype, float))).dtype
    names = ("L_g (total)", "L^A (part A)", "L^B (part B)")
    if nz is None:
        nz = _nonzero_pattern(h)  # static structure of a concrete H, shared by the solves
    ell = _ell_pattern(nz)
    sols = []
    for (coef, resets), name in zip(
        _tripartite_parts(h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam), names
    ):
        apply_l = _lindblad_packed(h, coef, resets, ell)
        support = _invariant_support(nz, resets)
        prec = _two_level_preconditioner(h, coef, resets, nz=nz, support=support)
        sols.append(_solve_packed(apply_l, prec, d, rdtype, opts, name, throw, support))
    return TripartiteSteadyStates(
        rho=sols[0].rho,
        partial_states=jnp.stack([sols[1].rho, sols[2].rho]),
        residuals=jnp.stack([s.residual for s in sols]),
        iterations=jnp.stack([s.iterations for s in sols]),
        converged=jnp.stack([s.converged for s in sols]),
    )


def tripartite_steady_states_iterative(
    H: ArrayLike,
    tau_A: ArrayLike,
    tau_B: ArrayLike,
    gamma_A: ArrayLike,
    gamma_B: ArrayLike,
    dims: Sequence[int],
    g: ArrayLike,
    lam: ArrayLike,
    *,
    throw: bool = True,
    **solver_options,
) -> TripartiteSteadyStates:
    """Steady states ``ρ⁺_g, ρ^A, ρ^B`` of a tripartite reset model, matrix-free.

    Same model and arguments as :func:`jaxqep.qrm.tripartite_entropy_production`; for an
    N-qubit chain with resets on its end sites, ``dims = (2, 2**(N-2), 2)``. Three
    preconditioned GMRES solves (see :mod:`jaxqep.qrm._matrix_free._preconditioner`), each
    costing a few real ``d x d`` matrix products per iteration (sparse and block-diagonal
    ones when ``H`` is concrete at trace time); memory ``O(restart · d²)``.

    Args:
        H: Hermitian coupling Hamiltonian ``(d, d)``.
        tau_A: reset state on ``H_A``.
        tau_B: reset state on ``H_B``.
        gamma_A: reset rate of A.
        gamma_B: reset rate of B.
        dims: ``(n_A, n_C, n_B)``.
        g: coupling constant.
        lam: splitting ``λ``.
        throw: raise if a solve does not converge (else see ``converged``).
        **solver_options: see :func:`jaxqep.qrm.steady_state_matrix_free`.

    Returns:
        :class:`TripartiteSteadyStates`, including residuals and iteration counts.

    Example:
        >>> import jaxqep
        >>> m = jaxqep.models.reset_chain(6)
        >>> st = jaxqep.qrm.tripartite_steady_states_iterative(*m.tripartite_args(), 1.0, 0.3)
        >>> bool(st.converged.all())
        True
    """
    h, tau_a, tau_b, gamma_a, gamma_b, dims = validate_tripartite(
        H, tau_A, tau_B, gamma_A, gamma_B, dims
    )
    g, lam = validate_coupling(g, lam)
    return _tripartite_states(
        h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam, _options(solver_options), throw
    )


def tripartite_entropy_production_iterative(
    h: Array,
    tau_a: Array,
    tau_b: Array,
    gamma_a: Array,
    gamma_b: Array,
    dims: Sequence[int],
    g: Array,
    lam: Array,
    **solver_options,
) -> EntropyProduction:
    """Matrix-free route of :func:`jaxqep.qrm.tripartite_entropy_production`.

    Takes already validated arrays (the public entry point validates and dispatches here
    for ``method="iterative"``, or ``"auto"`` with ``d > 32``). Raises when any of the
    three steady-state solves does not converge.

    Args:
        h: Hermitian ``(d, d)``; tau_a, tau_b: reset states; gamma_a, gamma_b: rates;
        dims: ``(n_A, n_C, n_B)``; g: coupling; lam: splitting.
        **solver_options: see :func:`jaxqep.qrm.steady_state_matrix_free`.

    Returns:
        :class:`EntropyProduction` (parts and fluxes ordered ``(A, B)``; ``residual`` is
        the largest of the three ``‖L_k(ρ_k)‖_F``).

    Example:
        >>> import jaxqep
        >>> m = jaxqep.models.reset_chain(6)
        >>> ep = jaxqep.qrm.tripartite_entropy_production(*m.tripartite_args(), 1.0, 0.3)
        >>> bool(ep.total > 0)
        True
    """
    states = _tripartite_states(
        h, tau_a, tau_b, gamma_a, gamma_b, tuple(dims), g, lam, _options(solver_options), True
    )
    return _entropy_production_from_states(states, h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam)


def _entropy_production_from_states(
    states: TripartiteSteadyStates, h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam
) -> EntropyProduction:
    return tripartite_result(
        h,
        tau_a,
        tau_b,
        gamma_a,
        gamma_b,
        dims,
        g,
        lam,
        states.rho,
        states.partial_states,
        jnp.max(states.residuals),
    )
