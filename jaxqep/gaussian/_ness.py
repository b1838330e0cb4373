"""Stationary covariance ``C_ij = <a_i† a_j>`` of a Gaussian network (seed 000, App. B/D)."""

from __future__ import annotations

from typing import cast

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._solution import RESULTS
from .._validate import check
from ._lyapunov import Method, lyapunov_operator, solve_lyapunov
from ._model import validate_inputs

__all__ = ["ness_covariance", "stability_matrix"]


def stability_matrix(H: Array, gammas: Array, sc_rates: Array | None = None) -> Array:
    """``A = i Hᵀ - (G + Γ)/2`` of ``dC/dt = A C + C A^† + Diag(γ n + Γ ñ)``.

    A common multiple of the identity in ``H`` drops out of the commutator, so it is
    removed here: the sign iteration converges in ``~log2(|Im λ|/|Re λ|)`` steps and the
    eigen-solver loses digits in proportion to ``|λ|/|Re λ|``, both of which would suffer
    from a large uniform ``ω`` (e.g. ``ω = 1`` with rates ``1e-6``).
    """
    L = H.shape[0]
    shift = jnp.real(jnp.trace(H)) / L
    K = (H - shift * jnp.eye(L, dtype=H.dtype)).T
    damp = gammas if sc_rates is None else gammas + sc_rates
    return 1j * K - 0.5 * jnp.diag(damp).astype(K.dtype)


def _reaches_physical_bath(H: Array, gammas: Array, sc_rates: Array) -> Array:
    """True iff every site with Γ_k > 0 is connected (through H_kl ≠ 0) to a site with γ > 0.

    Otherwise a component carries only self-consistent reservoirs, which conserve its
    population: the identity on that component is stationary and the NESS is not unique.
    Connected components by min-label propagation with pointer jumping (each round
    O(L²), O(log L) rounds even on a chain), then one segment reduction.
    """
    L = H.shape[0]
    adj = (jnp.abs(H) > 0) | jnp.eye(L, dtype=bool)
    big = jnp.asarray(L, jnp.int32)

    def cond(st):
        _, changed, it = st
        return changed & (it < 4 * L)

    def body(st):
        labels, _, it = st
        new = jnp.minimum(labels, jnp.min(jnp.where(adj, labels[None, :], big), axis=1))
        # Pointer jumping: label ← label of label, until it stops changing.
        new = jax.lax.fori_loop(0, max(1, int(L).bit_length()), lambda _, x: x[x], new)
        return new, jnp.any(new != labels), it + 1

    labels, _, _ = jax.lax.while_loop(
        cond, body, (jnp.arange(L, dtype=jnp.int32), jnp.asarray(True), 0)
    )
    has_bath = jax.ops.segment_max((gammas > 0).astype(jnp.int32), labels, num_segments=L)
    return jnp.all((has_bath[labels] > 0) | (sc_rates <= 0))


def _ness(H, gammas, occupations, sc_rates, method):
    A = stability_matrix(H, gammas, sc_rates)
    B = -jnp.diag(gammas * occupations).astype(A.dtype)
    C, ok, cond = cast(
        tuple[Array, Array, Array],
        solve_lyapunov(A, B, sc_rates, method, with_condition=True),
    )
    if sc_rates is not None:
        ok = ok & _reaches_physical_bath(jax.lax.stop_gradient(H), gammas, sc_rates)
    C = 0.5 * (C + jnp.conj(C.T))
    C = check(
        C,
        ~ok,
        "no unique NESS: some mode or subspace of H is not damped (the stability matrix "
        "i Hᵀ - (gammas + sc_rates)/2 has an eigenvalue with Re >= 0, or a group of sites "
        "with self-consistent reservoirs is not connected to any site with gammas > 0)",
        RESULTS.no_ness,
    )
    res = lyapunov_operator(A, sc_rates, C) - B
    scale = jnp.linalg.norm(B) + 2 * jnp.linalg.norm(A) * jnp.linalg.norm(C)
    residual = jnp.linalg.norm(res) / jnp.where(scale > 0, scale, 1.0)
    return C, jax.lax.stop_gradient(residual), cond


def ness_covariance(
    H: ArrayLike,
    gammas: ArrayLike,
    occupations: ArrayLike,
    sc_rates: ArrayLike | None = None,
    *,
    method: Method = "auto",
) -> Array:
    """NESS covariance ``C_ij = <a_i† a_j>`` of a network with local and self-consistent baths.

    Solves ``i[Hᵀ, C] - ½{G + Γ, C} + Diag(γ n) + Diag(Γ ∘ diag C) = 0`` exactly, in
    O(L³) (see :func:`jaxqep.gaussian.solve_lyapunov`), with implicit derivatives.  The
    squeezing block ``S_ij = <a_i a_j>`` of the NESS is identically zero (the dissipators
    are phase-insensitive and H conserves excitations), so ``C`` is the whole state.

    Args:
        H: Hermitian ``(L, L)`` matrix of ``H = Σ H_kl a_k† a_l``.
        gammas: ``(L,)`` physical bath rates (0 where a site has no bath).
        occupations: ``(L,)`` bath occupations ``n_k``.
        sc_rates: optional ``(L,)`` (or scalar) rates of self-consistent reservoirs.
        method: ``"auto"``, ``"sign"`` (GPU-friendly) or ``"eig"`` (CPU).

    Returns:
        The Hermitian ``(L, L)`` covariance.  An undamped mode or subspace raises at run
        time (``eqx.error_if``) instead of returning garbage.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import chain_hamiltonian, ness_covariance
        >>> C = ness_covariance(chain_hamiltonian(2, 1.0, 0.5), jnp.array([1., 1.]),
        ...                     jnp.array([1., 1.]))
        >>> round(float(C[0, 0].real), 12)
        1.0
    """
    H, gammas, occupations, sc_rates = validate_inputs(H, gammas, occupations, sc_rates)
    return _ness(H, gammas, occupations, sc_rates, method)[0]
