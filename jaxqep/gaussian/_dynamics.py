"""Transient dynamics of the covariance, eq. (B1), from any zero-mean Gaussian state.

In block form (B1) splits into

    dC/dt = A C + C A^† + F,      A = i Hᵀ - G/2,   F = Diag(γ n)
    dS/dt = B S + S Bᵀ,           B = -i H - G/2

(``C_ij = <a_i† a_j>``, ``S_ij = <a_i a_j>``; the baths are phase-insensitive so ``S``
only decays).  The exact propagator is used: ``C(t) = C∞ + e^{At}(C0 - C∞)e^{A^† t}``,
``S(t) = e^{Bt} S0 e^{Bᵀt}`` (``expm`` lowers on GPUs), so there is no time-step error.

Self-consistent reservoirs are baths whose temperatures were set by the NESS condition:
during a transient they act as ordinary baths of rate ``Γ_k`` and occupation
``ñ_k = C∞_kk`` (so they do exchange energy and entropy until the NESS is reached).
"""

from __future__ import annotations

from typing import cast

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._validate import check
from ._lyapunov import Method
from ._model import validate_inputs
from ._ness import _ness, stability_matrix
from ._observables import entropy_flux, entropy_production_rates, wigner_covariance, wigner_entropy

__all__ = ["Trajectory", "evolve_covariance", "covariance_rhs"]


def covariance_rhs(H, gammas, occupations, C, S=None):
    """Right-hand side of (B1): ``(dC/dt, dS/dt)`` for physical baths only."""
    H = jnp.asarray(H)
    g = jnp.asarray(gammas)
    A = 1j * H.T - 0.5 * jnp.diag(g)
    dC = A @ C + C @ jnp.conj(A.T) + jnp.diag(g * jnp.asarray(occupations))
    if S is None:
        return dC, None
    Bm = -1j * H - 0.5 * jnp.diag(g)
    return dC, Bm @ S + S @ Bm.T


class Trajectory(eqx.Module):
    """Covariance and entropy balance along a transient (leading axis: time).

    Attributes:
        ts: ``(T,)`` times.
        covariance: ``(T, L, L)`` ``C(t)``.
        squeezing: ``(T, L, L)`` ``S(t)``.
        entropy: ``(T,)`` Wigner entropy S(t) (12).
        entropy_rate: ``(T,)`` exact ``dS/dt = ½ tr(Θ⁻¹ dΘ/dt)``.
        pi, phi: ``(T, L)`` Π_k(t), Φ_k(t) of the physical baths.
        pi_sc, phi_sc: ``(T, L)`` the same for the self-consistent reservoirs.
        pi_total, phi_total: ``(T,)`` sums over all channels; ``entropy_rate`` equals
            ``pi_total - phi_total`` (eq. 1).
        balance_error: ``(T,)`` ``|dS/dt - (Π - Φ)|``.
    """

    ts: Array
    covariance: Array
    squeezing: Array
    entropy: Array
    entropy_rate: Array
    pi: Array
    phi: Array
    pi_sc: Array
    phi_sc: Array
    pi_total: Array
    phi_total: Array
    balance_error: Array


def evolve_covariance(
    H: ArrayLike,
    gammas: ArrayLike,
    occupations: ArrayLike,
    C0: ArrayLike,
    ts: ArrayLike,
    S0: ArrayLike | None = None,
    sc_rates: ArrayLike | None = None,
    *,
    method: Method = "auto",
) -> Trajectory:
    """Evolve a zero-mean Gaussian state under (B1) and track Π(t), Φ(t), dS/dt.

    Args:
        H: the ``(L, L)`` Hamiltonian matrix (as in :func:`entropy_production`).
        gammas: ``(L,)`` bath rates.
        occupations: ``(L,)`` bath occupations.
        sc_rates: optional ``(L,)`` self-consistent rates.
        C0: ``(L, L)`` initial ``<a_i† a_j>`` (Hermitian, with ``Θ > 0``).
        ts: ``(T,)`` output times (any order, ``t >= 0``).
        S0: optional ``(L, L)`` symmetric initial ``<a_i a_j>`` (squeezed states).
        method: Lyapunov solver for the stationary point.

    Returns:
        A :class:`Trajectory`.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import chain_hamiltonian, evolve_covariance
        >>> H = chain_hamiltonian(2, 1.0, 0.3)
        >>> tr = evolve_covariance(H, jnp.array([1., 1.]), jnp.array([0., 2.]),
        ...                        jnp.eye(2), jnp.linspace(0., 5., 4))
        >>> bool(jnp.max(tr.balance_error) < 1e-12)
        True
    """
    H, gammas, occupations, sc_rates = validate_inputs(H, gammas, occupations, sc_rates)
    L = H.shape[0]
    C0 = jnp.asarray(C0).astype(H.dtype)
    if C0.shape != (L, L):
        raise ValueError(f"C0: expected shape ({L}, {L}), got {C0.shape}")
    if S0 is not None:
        S0 = jnp.asarray(S0).astype(H.dtype)
        if S0.shape != (L, L):
            raise ValueError(f"S0: expected shape ({L}, {L}), got {S0.shape}")
    ts = jnp.asarray(ts, dtype=float)
    if ts.ndim != 1:
        raise ValueError(f"ts: expected a 1D array of times, got shape {ts.shape}")
    ts = cast(Array, check(ts, jnp.any(ts < 0), "ts: times must be >= 0"))

    C_inf = _ness(H, gammas, occupations, sc_rates, method)[0]
    if sc_rates is None:
        g_sc = jnp.zeros_like(gammas)
        n_sc = jnp.zeros_like(gammas)
    else:
        g_sc = sc_rates
        n_sc = jax.lax.stop_gradient(jnp.real(jnp.diagonal(C_inf)))
    g_all = gammas + g_sc
    A = stability_matrix(H, g_all)  # identity shift removed: it cancels in e^{At}·e^{A†t}
    Bm = -1j * H - 0.5 * jnp.diag(g_all).astype(H.dtype)
    F = jnp.diag(gammas * occupations + g_sc * n_sc).astype(H.dtype)
    Ah = jnp.conj(A.T)

    def at(t):
        U = jax.scipy.linalg.expm(A * t)
        C = C_inf + U @ (C0 - C_inf) @ jnp.conj(U.T)
        C = 0.5 * (C + jnp.conj(C.T))
        dC = A @ C + C @ Ah + F
        if S0 is None:
            S = jnp.zeros_like(C)
            dS_sq = jnp.zeros_like(C)
        else:
            V = jax.scipy.linalg.expm(Bm * t)
            S = V @ S0 @ V.T
            S = 0.5 * (S + S.T)
            dS_sq = Bm @ S + S @ Bm.T
        Sarg = None if S0 is None else S
        ent = wigner_entropy(C, Sarg)
        theta = wigner_covariance(C, Sarg)
        dtheta = wigner_covariance(dC, dS_sq) - 0.5 * jnp.eye(2 * L)
        rate = 0.5 * jnp.real(jnp.trace(jnp.linalg.solve(theta, dtheta)))
        pi = entropy_production_rates(C, gammas, occupations, Sarg)
        phi = entropy_flux(C, gammas, occupations)
        pi_sc = entropy_production_rates(C, g_sc, n_sc, Sarg)
        phi_sc = entropy_flux(C, g_sc, n_sc)
        return C, S, ent, rate, pi, phi, pi_sc, phi_sc

    C, S, ent, rate, pi, phi, pi_sc, phi_sc = jax.vmap(at)(ts)
    pi_total = jnp.sum(pi, axis=1) + jnp.sum(pi_sc, axis=1)
    phi_total = jnp.sum(phi, axis=1) + jnp.sum(phi_sc, axis=1)
    return Trajectory(
        ts=ts,
        covariance=C,
        squeezing=S,
        entropy=ent,
        entropy_rate=rate,
        pi=pi,
        phi=phi,
        pi_sc=pi_sc,
        phi_sc=phi_sc,
        pi_total=pi_total,
        phi_total=phi_total,
        balance_error=jnp.abs(rate - (pi_total - phi_total)),
    )
