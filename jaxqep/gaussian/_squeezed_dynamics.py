"""Transients of networks with squeezed thermal baths and their entropy balance.

The moments obey (see :mod:`jaxqep.gaussian._squeezed`)
``dC/dt = A C + C A^† + Diag(γ n)`` and ``dS/dt = B S + S Bᵀ + Diag(γ m)`` with
``B = conj(A)``, so the exact propagator is one matrix exponential ``U = e^{At}``:
``C(t) = C∞ + U (C0 - C∞) U^†``, ``S(t) = S∞ + Ū (S0 - S∞) Ū^ᵀ`` (no time-step error).
"""

from __future__ import annotations

from typing import cast

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._validate import check
from ._dynamics import Trajectory
from ._observables import wigner_covariance, wigner_entropy
from ._squeezed import SqueezedGaussianNetwork
from ._squeezed_observables import (
    squeezed_covariance_rhs,
    squeezed_entropy_flux,
    squeezed_entropy_production_rates,
)

__all__ = ["evolve_squeezed_covariance"]


def evolve_squeezed_covariance(
    H: ArrayLike,
    gammas: ArrayLike,
    occupations: ArrayLike,
    squeezing: ArrayLike,
    C0: ArrayLike,
    ts: ArrayLike,
    S0: ArrayLike | None = None,
) -> Trajectory:
    """Evolve a zero-mean Gaussian state coupled to squeezed thermal baths.

    Tracks the Wigner entropy, its exact rate ``dS/dt = ½ tr(Θ⁻¹ dΘ/dt)`` and the
    per-bath ``Π_k(t)``, ``Φ_k(t)``; ``balance_error = |dS/dt - (Π - Φ)|`` is at rounding
    level along any transient.

    Args:
        H: Hermitian ``(L, L)`` matrix of ``H = Σ H_kl a_k† a_l``.
        gammas: ``(L,)`` bath rates.
        occupations: ``(L,)`` bath occupations ``n_k``.
        squeezing: ``(L,)`` bath squeezing ``m_k`` (``|m_k|² <= n_k(n_k + 1)``).
        C0: ``(L, L)`` initial ``<a_i† a_j>`` (Hermitian, with ``Θ > 0``).
        ts: ``(T,)`` output times ``t >= 0``.
        S0: optional ``(L, L)`` symmetric initial ``<a_i a_j>`` (default 0).

    Returns:
        A :class:`jaxqep.gaussian.Trajectory` (``squeezing`` holds ``S(t)``; the
        self-consistent fields ``pi_sc``, ``phi_sc`` are zero).

    Raises:
        ValueError: bad network input (as :class:`jaxqep.SqueezedGaussianNetwork`), shapes
            of ``C0``/``S0``/``ts``, negative times, no NESS.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import chain_hamiltonian, evolve_squeezed_covariance
        >>> tr = evolve_squeezed_covariance(chain_hamiltonian(2, 1.0, 0.3), jnp.ones(2),
        ...     jnp.array([0.0, 2.0]), jnp.array([0.0, 1.5j]), jnp.eye(2),
        ...     jnp.linspace(0.0, 5.0, 4))
        >>> bool(jnp.max(tr.balance_error) < 1e-12)
        True
    """
    from ..solvers._gaussian_squeezed import squeezed_ness

    net = SqueezedGaussianNetwork(H, gammas, occupations, squeezing)
    H, g, n, m = net.hamiltonian, net.gammas, net.occupations, net.squeezing
    L = H.shape[0]
    C0 = jnp.asarray(C0).astype(H.dtype)
    if C0.shape != (L, L):
        raise ValueError(f"C0: expected shape ({L}, {L}), got {C0.shape}")
    S0 = jnp.zeros_like(C0) if S0 is None else jnp.asarray(S0).astype(H.dtype)
    if S0.shape != (L, L):
        raise ValueError(f"S0: expected shape ({L}, {L}), got {S0.shape}")
    ts = jnp.asarray(ts, dtype=float)
    if ts.ndim != 1:
        raise ValueError(f"ts: expected a 1D array of times, got shape {ts.shape}")
    ts = cast(Array, check(ts, jnp.any(ts < 0), "ts: times must be >= 0"))

    C_inf, S_inf, _, _ = squeezed_ness(net)
    A = 1j * H.T - 0.5 * jnp.diag(g).astype(H.dtype)

    def at(t):
        U = jax.scipy.linalg.expm(A * t)
        C = C_inf + U @ (C0 - C_inf) @ jnp.conj(U.T)
        C = 0.5 * (C + jnp.conj(C.T))
        V = jnp.conj(U)  # e^{Bt}, B = conj(A)
        S = S_inf + V @ (S0 - S_inf) @ V.T
        S = 0.5 * (S + S.T)
        dC, dS = squeezed_covariance_rhs(H, g, n, m, C, S)
        theta = wigner_covariance(C, S)
        dtheta = wigner_covariance(dC, dS) - 0.5 * jnp.eye(2 * L)
        rate = 0.5 * jnp.real(jnp.trace(jnp.linalg.solve(theta, dtheta)))
        pi = squeezed_entropy_production_rates(C, S, g, n, m)
        phi = squeezed_entropy_flux(C, S, g, n, m)
        return C, S, wigner_entropy(C, S), rate, pi, phi

    C, S, ent, rate, pi, phi = jax.vmap(at)(ts)
    pi_total, phi_total = jnp.sum(pi, axis=1), jnp.sum(phi, axis=1)
    out = Trajectory(
        ts=ts,
        covariance=C,
        squeezing=S,
        entropy=ent,
        entropy_rate=rate,
        pi=pi,
        phi=phi,
        pi_sc=jnp.zeros_like(pi),
        phi_sc=jnp.zeros_like(phi),
        pi_total=pi_total,
        phi_total=phi_total,
        balance_error=jnp.abs(rate - (pi_total - phi_total)),
    )
    return net.checked(out)
