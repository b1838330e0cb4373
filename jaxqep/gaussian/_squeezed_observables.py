"""Moments, Wigner entropy production and flux of networks with squeezed thermal baths.

The formulas are derived in :mod:`jaxqep.gaussian._squeezed`; the conventions are those
of :mod:`jaxqep.gaussian._observables` (``C_ij = <a_i† a_j>``, ``S_ij = <a_i a_j>``,
Wigner covariance ``Θ`` in the interleaved order ``(α_1, α_1*, ..., α_L, α_L*)``).
Every function here holds along any transient, not only at the NESS.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._solution import RESULTS, AbstractStatsResult, Stats, make_stats
from ._observables import energy_currents, wigner_covariance

__all__ = [
    "SqueezedGaussianSteadyState",
    "SqueezedGaussianEntropyProduction",
    "squeezed_covariance_rhs",
    "squeezed_entropy_flux",
    "squeezed_entropy_production_rates",
    "squeezed_entropy_production_of",
]


def _complex(x: ArrayLike) -> Array:
    x = jnp.asarray(x)
    return x.astype(jnp.result_type(x.dtype, complex))


def squeezed_covariance_rhs(
    H: ArrayLike,
    gammas: ArrayLike,
    occupations: ArrayLike,
    squeezing: ArrayLike,
    C: ArrayLike,
    S: ArrayLike,
) -> tuple[Array, Array]:
    """Equations of motion of the moments with squeezed thermal baths: ``(dC/dt, dS/dt)``.

    ``dC/dt = A C + C A^† + Diag(γ n)``, ``A = i Hᵀ - G/2``;
    ``dS/dt = B S + S Bᵀ + Diag(γ m)``, ``B = -i H - G/2``.

    Args:
        H: ``(L, L)`` Hermitian matrix of ``H = Σ H_kl a_k† a_l``.
        gammas: ``(L,)`` bath rates.
        occupations: ``(L,)`` bath occupations ``n_k``.
        squeezing: ``(L,)`` bath squeezing ``m_k``.
        C: ``(L, L)`` ``<a_i† a_j>``.
        S: ``(L, L)`` ``<a_i a_j>``.

    Returns:
        ``(dC/dt, dS/dt)``, each ``(L, L)``.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import squeezed_covariance_rhs
        >>> dC, dS = squeezed_covariance_rhs(jnp.zeros((1, 1)), jnp.array([1.0]),
        ...     jnp.array([1.0]), jnp.array([0.5]), jnp.zeros((1, 1)), jnp.zeros((1, 1)))
        >>> float(dC[0, 0].real), float(dS[0, 0].real)
        (1.0, 0.5)
    """
    H = _complex(H)
    g = jnp.asarray(gammas)
    G = jnp.diag(g).astype(H.dtype)
    C = _complex(C)
    S = _complex(S)
    A = 1j * H.T - 0.5 * G
    Bm = -1j * H - 0.5 * G
    dC = A @ C + C @ jnp.conj(A.T) + jnp.diag(g * jnp.asarray(occupations))
    dS = Bm @ S + S @ Bm.T + jnp.diag(g * _complex(squeezing))
    return dC, dS


def squeezed_entropy_flux(
    C: ArrayLike,
    S: ArrayLike,
    gammas: ArrayLike,
    occupations: ArrayLike,
    squeezing: ArrayLike,
) -> Array:
    """Entropy flux ``Φ_k`` into each squeezed thermal bath.

    ``Φ_k = γ_k [(n_k + ½)(C_kk - n_k) - Re(m̄_k (S_kk - m_k))] / ((n_k + ½)² - |m_k|²)``;
    ``m = 0`` gives eq. (20) of seed 000, ``γ_k(C_kk - n_k)/(n_k + ½)``.

    Args:
        C: ``(L, L)`` ``<a_i† a_j>``.
        S: ``(L, L)`` ``<a_i a_j>``.
        gammas: ``(L,)`` bath rates.
        occupations: ``(L,)`` bath occupations ``n_k``.
        squeezing: ``(L,)`` bath squeezing ``m_k`` (physical: ``|m_k|² <= n_k(n_k+1)``).

    Returns:
        ``(L,)`` real fluxes (positive: entropy flows out of the system).

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import squeezed_entropy_flux
        >>> m = jnp.array([0.3 + 0.1j])      # the bath's own state: no flux
        >>> phi = squeezed_entropy_flux(jnp.eye(1), m[:, None], jnp.ones(1), jnp.ones(1), m)
        >>> float(phi[0])
        0.0
    """
    c = jnp.real(jnp.diagonal(_complex(C)))
    s = jnp.diagonal(_complex(S))
    g = jnp.asarray(gammas)
    n = jnp.asarray(occupations)
    m = _complex(squeezing)
    nu = n + 0.5
    det = nu**2 - jnp.abs(m) ** 2
    return g * (nu * (c - n) - jnp.real(jnp.conj(m) * (s - m))) / det


def _inv2(M: Array) -> Array:
    """Inverses of a stack ``(..., 2, 2)`` by the adjugate."""
    a, b, c, d = M[..., 0, 0], M[..., 0, 1], M[..., 1, 0], M[..., 1, 1]
    det = a * d - b * c
    adj = jnp.stack([jnp.stack([d, -b], -1), jnp.stack([-c, a], -1)], -2)
    return adj / det[..., None, None]


def _bath_blocks(n: Array, m: Array) -> Array:
    """``D̂_k = [[n_k + ½, m_k], [m̄_k, n_k + ½]]``, the bath state's Θ, shape (L, 2, 2)."""
    nu = (n + 0.5).astype(m.dtype)
    return jnp.stack([jnp.stack([nu, m], -1), jnp.stack([jnp.conj(m), nu], -1)], -2)


def _rates(C: Array, S: Array, g: Array, n: Array, m: Array):
    """``(Π, chol(Θ))``: the cancellation-free form of the module docstring."""
    L = C.shape[0]
    theta = wigner_covariance(C, S)
    chol = jnp.linalg.cholesky(theta)
    eye = jnp.eye(2 * L, dtype=theta.dtype)
    theta_inv = jax.scipy.linalg.cho_solve((chol, True), eye)
    T4 = theta.reshape(L, 2, L, 2)
    I4 = theta_inv.reshape(L, 2, L, 2)
    k = jnp.arange(L)
    blocks = T4[k, :, k, :]  # (L, 2, 2) Θ_k
    off = (1.0 - jnp.eye(L, dtype=g.dtype))[:, None, :, None]
    # Σ_{j≠k} Θ_kj (Θ⁻¹)_jk = 1 - Θ_k (Θ⁻¹)_kk  =>  δ_k = -Θ_k⁻¹ Σ_{j≠k} Θ_kj (Θ⁻¹)_jk.
    P = jnp.einsum("kajb,jbkc->kac", T4 * off, I4)
    blocks_inv = _inv2(blocks)
    delta = -blocks_inv @ P
    D = _bath_blocks(n, m)
    E = blocks - D
    t1 = jnp.real(jnp.trace(_inv2(D) @ E @ blocks_inv @ E, axis1=-2, axis2=-1))
    t2 = jnp.real(jnp.trace(D @ delta, axis1=-2, axis2=-1))
    return 0.5 * g * (t1 + t2), chol


def squeezed_entropy_production_rates(
    C: ArrayLike,
    S: ArrayLike,
    gammas: ArrayLike,
    occupations: ArrayLike,
    squeezing: ArrayLike,
) -> Array:
    """Wigner entropy production ``Π_k >= 0`` of each squeezed thermal bath.

    ``Π_k = (γ_k/2) tr[D̂_k⁻¹ (Θ_k - D̂_k) Θ_k⁻¹ (Θ_k - D̂_k)] + (γ_k/2) tr[D̂_k δ_k]``
    (``Θ_k``: the 2×2 block of mode ``k``, ``D̂_k`` the bath's, ``δ_k = (Θ⁻¹)_kk - Θ_k⁻¹``
    from off-diagonal blocks), algebraically ``Φ_k - γ_k + (γ_k/2) tr[D̂_k (Θ⁻¹)_kk]``;
    at ``m = 0`` and ``S = 0`` it is the seed's (17)/(C2).

    Args:
        C: ``(L, L)`` ``<a_i† a_j>``.
        S: ``(L, L)`` ``<a_i a_j>``.
        gammas: ``(L,)`` bath rates.
        occupations: ``(L,)`` bath occupations ``n_k``.
        squeezing: ``(L,)`` bath squeezing ``m_k`` (physical: ``|m_k|² <= n_k(n_k+1)``).

    Returns:
        ``(L,)`` non-negative rates.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import squeezed_entropy_production_rates
        >>> m = jnp.array([0.3 + 0.1j])
        >>> pi = squeezed_entropy_production_rates(jnp.zeros((1, 1)), jnp.zeros((1, 1)),
        ...                                        jnp.ones(1), jnp.ones(1), m)
        >>> bool(pi[0] > 0)
        True
    """
    C = _complex(C)
    pi, _ = _rates(
        C,
        _complex(S).astype(C.dtype),
        jnp.asarray(gammas),
        jnp.asarray(occupations),
        _complex(squeezing),
    )
    return pi


class SqueezedGaussianSteadyState(AbstractStatsResult):
    """The NESS of a :class:`~jaxqep.SqueezedGaussianNetwork` (:func:`jaxqep.steady_state`).

    Attributes:
        covariance: ``(L, L)`` ``C_ij = <a_i† a_j>``.
        squeezing: ``(L, L)`` symmetric ``S_ij = <a_i a_j>``.
        result: a :class:`jaxqep.RESULTS` item.
        stats: :class:`jaxqep.Stats` (largest normwise backward error of the ``C`` and
            ``S`` equations; largest of their condition estimates; 0 iterations).
    """

    covariance: Array
    squeezing: Array
    result: RESULTS
    stats: Stats

    @property
    def wigner_covariance(self) -> Array:
        """The 2L×2L Wigner covariance Θ (interleaved order)."""
        return wigner_covariance(self.covariance, self.squeezing)


class SqueezedGaussianEntropyProduction(eqx.Module):
    """NESS of a network with squeezed thermal baths and its Wigner entropy production.

    Attributes:
        covariance: ``(L, L)`` NESS ``C_ij = <a_i† a_j>`` (independent of the squeezing).
        squeezing: ``(L, L)`` NESS ``S_ij = <a_i a_j>``.
        pi: ``(L,)`` entropy production ``Π_k >= 0`` of each bath (0 where γ_k = 0).
        phi: ``(L,)`` entropy flux ``Φ_k`` into each bath (0 where γ_k = 0).
        currents: ``(L, L)`` energy currents ``j_kl = 2 Im(H_kl C_kl)`` (25b).
        bath_currents: ``(L,)`` excitation current ``γ_k (n_k - C_kk)`` from bath ``k``
            into the network (sums to 0 at the NESS).
        total: ``Σ_k pi``.
        flux_total: ``Σ_k phi``; equals ``total`` at the NESS (dS/dt = 0).
        wigner_entropy: Wigner entropy (12) ``½ ln det Θ + L(1 + ln π)`` of the NESS.
        residual: largest normwise backward error of the ``C`` and ``S`` equations
            (diagnostic, no gradient), guaranteed below 1e-11 or the solve raises.
        condition: largest of ``‖𝓛‖ ‖X‖_F / ‖B‖_F`` over the two equations.
        iterations: 0 (direct solves).
        result: a :class:`jaxqep.RESULTS` item.
    """

    covariance: Array
    squeezing: Array
    pi: Array
    phi: Array
    currents: Array
    bath_currents: Array
    total: Array
    flux_total: Array
    wigner_entropy: Array
    residual: Array
    condition: Array
    iterations: Array = eqx.field(default_factory=lambda: jnp.zeros((), jnp.int32))
    result: RESULTS = eqx.field(default_factory=lambda: RESULTS.successful)

    @property
    def stats(self) -> Stats:
        """:class:`jaxqep.Stats` (``residual``, ``condition``, ``iterations``)."""
        return make_stats(self.residual, self.condition, self.iterations)


def squeezed_entropy_production_of(net, C: Array, S: Array, residual, condition, iterations=0):
    """All observables of a :class:`~jaxqep.SqueezedGaussianNetwork` at ``(C, S)``."""
    H, g, n = net.hamiltonian, net.gammas, net.occupations
    m = net.squeezing
    L = C.shape[0]
    pi, chol = _rates(C, S, g, n, m)
    phi = squeezed_entropy_flux(C, S, g, n, m)
    logdet = 2.0 * jnp.sum(jnp.log(jnp.real(jnp.diagonal(chol))))
    return SqueezedGaussianEntropyProduction(
        covariance=C,
        squeezing=S,
        pi=pi,
        phi=phi,
        currents=energy_currents(H, C),
        bath_currents=g * (n - jnp.real(jnp.diagonal(C))),
        total=jnp.sum(pi),
        flux_total=jnp.sum(phi),
        wigner_entropy=0.5 * logdet + L * (1.0 + jnp.log(jnp.pi)),
        residual=residual,
        condition=condition,
        iterations=jnp.asarray(iterations, jnp.int32),
    )
