"""Matrix-free Krylov solver for GKLS models with general jumps (large ``d``)."""

from __future__ import annotations

from ._krylov_options import AbstractKrylovSolver

__all__ = ["GKLSKrylov"]


class GKLSKrylov(AbstractKrylovSolver):
    """Restarted, right-preconditioned GMRES on the bordered system ``L(X) + tr(X) I/d =
    I/d`` over packed Hermitian matrices, for :class:`jaxqep.GKLSModel` with large ``d``.

    Each iteration applies ``L`` with sparse (ELL) products along the model's static
    non-zero patterns (``O(d² · nnz per row)``) and the *secular preconditioner*: the
    Lindbladian in ``H``'s eigenbasis with the couplings between coherences dropped
    (coherence ``mn`` decays at ``−i(e_m − e_n) − ½(g_m + g_n)``, ``g = diag(V†ΣL†L V)``)
    and the population block kept exactly (the bordered Pauli rate matrix, one ``d × d``
    LU). That is the Davies limit of ``L``: exact for a global master equation, and for
    local or strongly coupled ones it still captures the slow population dynamics that
    make plain GMRES stall, at four ``d × d`` products per application. Implicitly
    differentiated (one adjoint Krylov solve per gradient); the preconditioner is held
    fixed (``stop_gradient``). Memory ``O(restart · d²)``.

    Symmetry sectors: when the model's static patterns show a conserved quantity whose
    eigenspaces the jumps map one onto one (an XXZ chain with boundary ``σ±`` baths
    conserves the magnetisation), the steady state is block diagonal and the solve runs on
    the blocks only (``Σ_a n_a²`` unknowns, ``C(2N, N)`` for an N-site chain), with one
    ``eigh`` per block in the preconditioner (:mod:`jaxqep.thermal._sectors`). The
    structure is read from the patterns and verified; without it the full space is used.

    Args:
        rtol: relative tolerance of GMRES on the bordered system.
        residual_tol: largest accepted ``‖L(ρ)‖_F`` of the returned state.
        max_steps: iteration cap.
        restart: Krylov dimension between restarts.
        stagnation_cycles: restart cycles without progress before giving up.
        sectors: use the block-diagonal sector structure when the model has one
            (``False``: always the full space).

    Example:
        >>> import jaxqep
        >>> m = jaxqep.thermal.xxz_chain(6, 1.0, 0.5, 1.0, (0.2, 0.2), (0.5, 1.0))
        >>> sol = jaxqep.steady_state(m, jaxqep.solvers.GKLSKrylov())
        >>> bool(sol.stats.residual < 1e-10)
        True
    """

    rtol: float = 1e-13
    residual_tol: float = 1e-10
    max_steps: int = 2000
    restart: int = 40
    stagnation_cycles: int = 10
    sectors: bool = True
