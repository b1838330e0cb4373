"""Wigner entropy production, fluxes, currents and entropies of Gaussian states (seed 000).

Conventions (``/work/shared/CONVENTIONS.md``): ``C_ij = <a_i† a_j>``, ``S_ij = <a_i a_j>``,
zero means.  The Wigner covariance of the phase-space vector ``(α_1, α_1*, ..., α_L, α_L*)``
is ``Θ_ij = <α_i α_j*>_W``; in block order ``(α; α*)`` it reads
``[[Cᵀ + ½, S], [S̄, C + ½]]``.  (The paper's (A3a)/(A4) swap ``C`` and ``Cᵀ``; the
diagonal of ``Θ⁻¹`` used in (C2) is the same either way.)
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._solution import RESULTS, AbstractStatsResult, Stats, make_stats

__all__ = [
    "GaussianEntropyProduction",
    "EntropyProduction",
    "GaussianSteadyState",
    "entropy_production_of",
    "entropy_production_rates",
    "entropy_flux",
    "energy_currents",
    "pi_from_currents",
    "wigner_covariance",
    "wigner_entropy",
    "wigner_relative_entropy",
]


def _hermitian_inverse(X: Array) -> Array:
    """Inverse of a Hermitian positive-definite matrix via Cholesky (GPU-friendly)."""
    chol = jnp.linalg.cholesky(X)
    eye = jnp.eye(X.shape[0], dtype=X.dtype)
    return jax.scipy.linalg.cho_solve((chol, True), eye)


def wigner_covariance(C: ArrayLike, S: ArrayLike | None = None) -> Array:
    """The 2L×2L Wigner covariance Θ in the paper's interleaved order ``(α_1, α_1*, ...)``.

    ``Θ = Cᵀ ⊗ e₀₀ + C ⊗ e₁₁ + S ⊗ e₀₁ + S̄ ⊗ e₁₀ + ½`` (cf. (A4) with ``C ↔ Cᵀ``).
    """
    C = jnp.asarray(C)
    L = C.shape[0]
    S = jnp.zeros_like(C) if S is None else jnp.asarray(S).astype(C.dtype)
    blocks = jnp.stack(
        [jnp.stack([C.T, S], axis=-1), jnp.stack([jnp.conj(S), C], axis=-1)], axis=-2
    )  # (L, L, 2, 2) indexed [k, l, a, b]
    theta = jnp.transpose(blocks, (0, 2, 1, 3)).reshape(2 * L, 2 * L)
    return theta + 0.5 * jnp.eye(2 * L, dtype=theta.dtype)


def _logdet_hpd(X: Array) -> Array:
    chol = jnp.linalg.cholesky(X)
    return 2.0 * jnp.sum(jnp.log(jnp.real(jnp.diagonal(chol))))


def wigner_entropy(C: ArrayLike, S: ArrayLike | None = None) -> Array:
    """Wigner entropy (12) of a zero-mean Gaussian state: ``½ ln det Θ + L(1 + ln π)``.

    With ``S = 0`` this is ``ln det(C + ½) + L(1 + ln π)`` (Cholesky, GPU-friendly).

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import wigner_entropy
        >>> float(wigner_entropy(jnp.zeros((1, 1)))) == float(1 + jnp.log(jnp.pi / 2))
        True
    """
    C = jnp.asarray(C)
    C = C.astype(jnp.result_type(C.dtype, complex))
    L = C.shape[0]
    if S is None:
        half_logdet = _logdet_hpd(C + 0.5 * jnp.eye(L, dtype=C.dtype))
    else:
        half_logdet = 0.5 * _logdet_hpd(wigner_covariance(C, S))
    return half_logdet + L * (1.0 + jnp.log(jnp.pi))


def wigner_relative_entropy(
    C: ArrayLike, reference_occupations: ArrayLike, S: ArrayLike | None = None
) -> Array:
    """Wigner relative entropy (21) ``S(W || W_eq)`` to the product of local thermal states.

    ``W_eq = Π_k exp(-|α_k|²/(n_k+½)) / (π(n_k+½))`` (eq. 9), so for a zero-mean Gaussian
    ``W``: ``Σ_k [(C_kk + ½)/(n_k + ½) + ln(n_k + ½)] - ½ ln det Θ - L``.
    """
    C = jnp.asarray(C)
    C = C.astype(jnp.result_type(C.dtype, complex))
    n = jnp.asarray(reference_occupations, dtype=float)
    L = C.shape[0]
    cross = jnp.sum((jnp.real(jnp.diagonal(C)) + 0.5) / (n + 0.5) + jnp.log(n + 0.5))
    return cross - (wigner_entropy(C, S) - L * jnp.log(jnp.pi))


def entropy_flux(C: ArrayLike, gammas: ArrayLike, occupations: ArrayLike) -> Array:
    """Per-channel entropy flux (20): ``Φ_k = γ_k (C_kk - n_k)/(n_k + ½)``."""
    c = jnp.real(jnp.diagonal(jnp.asarray(C)))
    gammas = jnp.asarray(gammas)
    occupations = jnp.asarray(occupations)
    return gammas * (c - occupations) / (occupations + 0.5)


def _inverse_excess(X: Array, hermitian: bool = False) -> tuple[Array, Array]:
    """``(δ, log det X)`` with ``δ_k = [X⁻¹]_kk - 1/X_kk >= 0``, without cancellation.

    With ``Δ = Diag(X)`` and ``X = Δ^½ (1 + E) Δ^½`` (``E`` off-diagonal), ``[(1 + E)⁻¹]_kk
    - 1 = [E (1 + E)⁻¹ E]_kk = ‖M e_k‖²`` with ``M = L'⁻¹ E`` and ``1 + E = L' L'^†``
    (Cholesky): ``δ_k = ‖M e_k‖² / X_kk``, a sum of squares, exact where ``E`` is tiny
    (Fig. 3: ``δ`` ten orders below ``1/X_kk``). One Cholesky and one triangular solve
    (no inverse). ``hermitian=True`` asserts that ``X`` is exactly Hermitian (the NESS
    covariance is): the Cholesky skips its symmetrisation (a transpose), and both
    factorisations run on ``Xnᵀ = X̄n`` (the conjugate factor and ``M̄``, the same ``δ``
    bit for bit), whose column-major layout, which LAPACK needs, is ``Xn`` as stored: no
    layout copies either (0.3 ms of 3 at ``L = 256`` on the 2-core machine).
    """
    L = X.shape[0]
    dx = jnp.real(jnp.diagonal(X))
    s = 1.0 / jnp.sqrt(dx)
    Xn = X * (s[:, None] * s[None, :]).astype(X.dtype)
    if hermitian:
        Xn = Xn.T
    E = Xn * (1.0 - jnp.eye(L, dtype=dx.dtype)).astype(X.dtype)
    chol = jnp.linalg.cholesky(Xn, symmetrize_input=not hermitian)
    M = jax.scipy.linalg.solve_triangular(chol, E, lower=True)
    # |M|² as Re(M M̄) (no complex abs): one fused reduction over M as LAPACK left it
    # (of Re M² + Im M², XLA made two layout copies and a dot: 0.7 ms at L = 256).
    delta = jnp.sum(jnp.real(M * jnp.conj(M)), axis=0) / dx
    logdet = jnp.sum(jnp.log(dx)) + 2.0 * jnp.sum(jnp.log(jnp.real(jnp.diagonal(chol))))
    return delta, logdet


def entropy_production_rates(
    C: ArrayLike, gammas: ArrayLike, occupations: ArrayLike, S: ArrayLike | None = None
) -> Array:
    """Per-channel Wigner entropy production (17)/(C2).

    ``Π_k = Φ_k - γ_k + γ_k (n_k + ½) [Θ⁻¹]_{2k,2k}``.  For ``S = 0``, ``[Θ⁻¹]_{2k,2k} =
    [(C + ½)⁻¹]_kk`` and we evaluate the algebraically identical, cancellation-free form

        Π_k = γ_k (C_kk - n_k)² / ((C_kk + ½)(n_k + ½)) + γ_k (n_k + ½) δ_k,

    ``δ_k = [X⁻¹]_kk - 1/X_kk >= 0`` (``X = C + ½``) computed as a sum of squares
    (``_inverse_excess``): Π_k is a difference of O(γ) numbers that can be ten orders of
    magnitude smaller (Fig. 3), so the direct formula would lose those digits.  With ``S ≠ 0`` the
    direct formula on the 2L×2L Θ is used.
    """
    C = jnp.asarray(C)
    C = C.astype(jnp.result_type(C.dtype, complex))
    g = jnp.asarray(gammas)
    n = jnp.asarray(occupations)
    L = C.shape[0]
    if S is None:
        X = C + 0.5 * jnp.eye(L, dtype=C.dtype)
        c = jnp.real(jnp.diagonal(C))
        delta, _ = _inverse_excess(X)
        return g * (c - n) ** 2 / ((c + 0.5) * (n + 0.5)) + g * (n + 0.5) * delta
    theta_inv = _hermitian_inverse(wigner_covariance(C, S))
    d = jnp.real(jnp.diagonal(theta_inv)[1::2])
    return entropy_flux(C, g, n) - g + g * (n + 0.5) * d


def energy_currents(H: ArrayLike, C: ArrayLike) -> Array:
    """Energy (excitation) currents (25b): ``j_kl = 2 Im(H_kl C_kl)``, antisymmetric.

    ``Σ_l j_kl`` is the unitary part of ``d<a_k† a_k>/dt``; for the chain (27) ``j_{k,k+1}``
    is eq. (30).  (The printed (25b) has loose indices; this is its exact form for
    ``C_kl = <a_k† a_l>``.)
    """
    H = jnp.asarray(H)
    C = jnp.asarray(C)
    return 2.0 * jnp.imag(H * C)


def pi_from_currents(currents: ArrayLike, gammas: ArrayLike, occupations: ArrayLike) -> Array:
    """Π_NESS from the currents, eqs. (24)/(26): ``½ Σ_kl j_kl (f_k - f_l)``.

    The affinity is ``f_k = 1/(n_k + ½)`` on sites with a physical bath.  On sites without
    one the net current vanishes at the NESS (self-consistent reservoirs exchange no
    energy), so their affinity drops out; we set it to 0.  Valid at the NESS only.
    """
    j = jnp.asarray(currents)
    g = jnp.asarray(gammas)
    f = jnp.where(g > 0, 1.0 / (jnp.asarray(occupations) + 0.5), 0.0)
    return 0.5 * jnp.sum(j * (f[:, None] - f[None, :]))


class GaussianSteadyState(AbstractStatsResult):
    """The NESS of a Gaussian network (:func:`jaxqep.steady_state` of a
    :class:`~jaxqep.GaussianNetwork`).

    Attributes:
        covariance: ``(L, L)`` NESS covariance ``C_ij = <a_i† a_j>``.
        result: a :class:`jaxqep.RESULTS` item.
        stats: :class:`jaxqep.Stats`: ``residual`` (normwise backward error of the NESS
            equation), ``condition`` (``‖𝓛‖ ‖C‖/‖B‖``, the same estimate for every
            method), ``iterations`` (Krylov steps, 0 for direct routes).
        conditioning_checked: the arrays already carry the entry points'
            ill-conditioning check (made with the NESS's own checks; static).
    """

    covariance: Array
    result: RESULTS
    stats: Stats
    conditioning_checked: bool = eqx.field(static=True, default=False)


class GaussianEntropyProduction(eqx.Module):
    """NESS of a Gaussian network and its Wigner entropy production, channel by channel.

    Attributes:
        covariance: ``(L, L)`` NESS covariance ``C_ij = <a_i† a_j>``.
        pi: ``(L,)`` entropy production Π_k of each physical bath (0 where γ_k = 0).
        phi: ``(L,)`` entropy flux Φ_k into each physical bath (0 where γ_k = 0).
        pi_sc: ``(L,)`` entropy production of each self-consistent reservoir (zeros if
            there are none).  Their fluxes vanish identically.
        sc_occupations: ``(L,)`` occupations ``ñ_k = C_kk`` the self-consistent
            reservoirs take (meaningful where ``Γ_k > 0``).
        currents: ``(L, L)`` energy currents ``j_kl`` (25b).
        pi_r: ``Σ_k pi`` (eq. 32 / E1).
        pi_sc_total: ``Σ_k pi_sc`` (eq. 33 / E2).
        total: ``pi_r + pi_sc_total``.
        flux_total: ``Σ_k phi``; equals ``total`` at the NESS (dS/dt = 0).
        pi_ness: Π from the currents, eq. (26); equals ``total``.
        wigner_entropy: Wigner entropy (12) of the NESS.
        residual: normwise backward error ``‖𝓛(C) - B‖/(‖B‖ + ‖𝓛‖‖C‖)`` of the NESS
            equation (diagnostic, no gradient); every route guarantees it is at rounding
            level (below 1e-11) or raises.
        condition: ``‖𝓛‖ ‖C‖_F / ‖B‖_F`` (``‖𝓛‖ <= 2‖A‖_F + max Γ``), a lower bound of
            the condition number of the NESS equation, computed from the returned
            covariance and so the same for every method; it grows like 1/(smallest
            damping rate) for nearly undamped modes, and the covariance's relative error
            is about ``condition · eps``.
        iterations: Krylov steps of an iterative route (0 for direct routes).
        result: a :class:`jaxqep.RESULTS` item.
        conditioning_checked: as :class:`GaussianSteadyState` (static).
    """

    covariance: Array
    pi: Array
    phi: Array
    pi_sc: Array
    sc_occupations: Array
    currents: Array
    pi_r: Array
    pi_sc_total: Array
    total: Array
    flux_total: Array
    pi_ness: Array
    wigner_entropy: Array
    residual: Array
    condition: Array
    iterations: Array = eqx.field(default_factory=lambda: jnp.zeros((), jnp.int32))
    result: RESULTS = eqx.field(default_factory=lambda: RESULTS.successful)
    conditioning_checked: bool = eqx.field(static=True, default=False)

    @property
    def stats(self) -> Stats:
        """:class:`jaxqep.Stats` (``residual``, ``condition``, ``iterations``)."""
        return make_stats(self.residual, self.condition, self.iterations)


# The 0.1 name.
EntropyProduction = GaussianEntropyProduction


def entropy_production_of(net, C: Array, residual, condition, iterations,
                          conditioning_checked: bool = False):
    """All observables of a network at its NESS covariance ``C`` (``conditioning_checked``:
    ``C``, ``residual`` and ``condition`` carry the ill-conditioning check already)."""
    H, gammas, occupations, sc_rates = net.validated()
    L = C.shape[0]
    c = jnp.real(jnp.diagonal(C))
    X = C + 0.5 * jnp.eye(L, dtype=C.dtype)
    delta, logdet = _inverse_excess(X, hermitian=True)  # C from solve_ness: exactly Hermitian
    n = occupations
    pi = gammas * (c - n) ** 2 / ((c + 0.5) * (n + 0.5)) + gammas * (n + 0.5) * delta
    phi = entropy_flux(C, gammas, n)
    if sc_rates is None:
        pi_sc = jnp.zeros_like(c)
    else:
        pi_sc = sc_rates * (c + 0.5) * delta
    currents = energy_currents(H, C)
    pi_r = jnp.sum(pi)
    pi_sc_total = jnp.sum(pi_sc)
    return GaussianEntropyProduction(
        covariance=C,
        pi=pi,
        phi=phi,
        pi_sc=pi_sc,
        sc_occupations=c,
        currents=currents,
        pi_r=pi_r,
        pi_sc_total=pi_sc_total,
        total=pi_r + pi_sc_total,
        flux_total=jnp.sum(phi),
        pi_ness=pi_from_currents(currents, gammas, n),
        wigner_entropy=logdet + L * (1.0 + jnp.log(jnp.pi)),
        residual=residual,
        condition=condition,
        iterations=jnp.asarray(iterations, jnp.int32),
        conditioning_checked=conditioning_checked,
    )
