"""Phase-space quasiprobability currents and the entropy balances of seed 000, Sec. II-III.

For a zero-mean Gaussian state with ``C_ij = <a_i† a_j>`` and no squeezing (``S = 0``) the
Wigner function is ``W(α) = exp(-α† M α)/(π^L det X)`` with ``X = C + ½`` and
``M = (Xᵀ)⁻¹ = conj(X⁻¹)`` (so that ``∫ W α_i* α_j = X_ij``, eq. 19, and one mode in a
thermal state gives eq. 9).  Then every current of the Fokker-Planck equation (6) is ``W``
times a linear form in ``α``:

* irreversible current of a bath ``(γ_k, n_k)`` on site k, eq. (8):
  ``J_k = (γ_k/2)[α_k W + (n_k + ½) ∂_k* W] = W Σ_l K_kl α_l`` with
  ``K_kl = (γ_k/2)[δ_kl - (n_k + ½) M_kl]`` (``∂_k* W = -W (Mα)_k``).  Eq. (16) is the same
  current written as ``(γ_k/2)(n_k + ½) W ∂_k* ln(W/W_eq)``: it vanishes iff mode k is
  thermal at ``n_k`` and uncorrelated with the other modes (row k of ``M`` is
  ``e_k/(n_k + ½)``);
* reversible current, eq. (11): ``A_k = i Σ_l H_kl α_l W`` (matrix ``iH``); ``U(W) =
  Σ_k ∂_k A_k + ∂_k* A_k*`` is the Liouville flow of ``dα/dt = -iHα``.

The Gaussian integrals ``∫ W α α† = Xᵀ`` turn eqs. (17) and (18) into

    Π_k = 4/(γ_k m_k) ∫ |J_k|²/W = 4/(γ_k m_k) (K Xᵀ K^†)_kk,
    Φ_k = -∫ (J_k ∂_k + J_k* ∂_k*) ln W_eq = (2/m_k) Re (K Xᵀ)_kk,     m_k = n_k + ½,

which reduce to (C2) ``Π_k = Φ_k - γ_k + γ_k m_k [X⁻¹]_kk`` and (20) ``Φ_k = γ_k (C_kk -
n_k)/m_k``.  This module evaluates the integrals as written (an independent route to
:func:`entropy_production_rates`, which uses a cancellation-free form: prefer it when Π is
many orders of magnitude below γ, as in Fig. 3).

Relative-entropy balance (21)-(23).  For a fixed product reference
``W_R = Π_k exp(-|α_k|²/m^R_k)/(π m^R_k)`` (the seed's ``W_eq`` when every channel on site k
has occupation ``m^R_k - ½``), differentiating (21) along (6) gives

    d/dt S(W‖W_R) = -∫ U(W) ln W_R - Π + Σ_c [Φ_c - γ_c (C_kk - n_c)/m^R_k],

where ``-∫ U(W) ln W_R = Σ_k u_k/m^R_k`` with ``u_k = Σ_l 2 Im(H_kl C_kl)`` the unitary
inflow into site k (eq. 24), and the last sum (the *reference mismatch*, ``c`` running over
all channels, k the site of channel c) vanishes in the seed's setting: then it is eq. (22),
and at the NESS eq. (23) ``Π_NESS = -∫ U(W_NESS) ln W_eq``.  Self-consistent reservoirs
are channels ``(Γ_k, ñ_k)``; at the NESS ``ñ_k = C_kk`` and they add nothing to the
mismatch.
"""

from __future__ import annotations

from typing import cast

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._validate import check
from ._model import validate_inputs
from ._observables import wigner_relative_entropy

__all__ = [
    "PhaseSpaceCurrents",
    "RelativeEntropyBalance",
    "current_fields",
    "phase_space_currents",
    "relative_entropy_balance",
    "wigner_function",
]

# Relative tolerance of the Hermiticity check on C.
_HERM_RTOL = 1e-10


def _validated_covariance(C: ArrayLike, L: int | None = None) -> Array:
    C = jnp.asarray(C)
    if not jnp.issubdtype(C.dtype, jnp.number) or jnp.issubdtype(C.dtype, jnp.bool_):
        raise TypeError(f"C: expected a numeric matrix, got dtype {C.dtype}")
    if C.ndim != 2 or C.shape[0] != C.shape[1] or C.shape[0] == 0:
        raise ValueError(f"C: expected a square (L, L) covariance, got shape {C.shape}")
    if L is not None and C.shape[0] != L:
        raise ValueError(f"C: expected shape ({L}, {L}) to match H, got {C.shape}")
    C = C.astype(jnp.result_type(C.dtype, complex))
    asym = jnp.max(jnp.abs(C - jnp.conj(C.T)))
    C = cast(
        Array,
        check(
            C,
            ~(asym <= _HERM_RTOL * (1.0 + jnp.max(jnp.abs(C)))),
            "C: must be Hermitian (C_ij = <a_i† a_j>), got max|C - C^†| above tolerance",
        ),
    )
    C = 0.5 * (C + jnp.conj(C.T))
    X = C + 0.5 * jnp.eye(C.shape[0], dtype=C.dtype)
    # C + ½ > 0 (a physical Gaussian state); Cholesky of a non-PD matrix gives NaN.
    chol = jnp.linalg.cholesky(X)
    return cast(
        Array,
        check(
            C,
            ~jnp.all(jnp.isfinite(chol)),
            "C: C + 1/2 must be positive definite (a physical Gaussian state)",
        ),
    )


def _inverse_x(C: Array) -> Array:
    X = C + 0.5 * jnp.eye(C.shape[0], dtype=C.dtype)
    chol = jnp.linalg.cholesky(X)
    return jax.scipy.linalg.cho_solve((chol, True), jnp.eye(C.shape[0], dtype=C.dtype))


def _channel_matrix(rates: Array, occ: Array, M: Array) -> Array:
    """``K_kl = (γ_k/2)[δ_kl - (n_k + ½) M_kl]`` (rows with γ_k = 0 are zero)."""
    L = M.shape[0]
    eye = jnp.eye(L, dtype=M.dtype)
    return 0.5 * rates[:, None] * (eye - (occ + 0.5)[:, None] * M)


def _integrals(K: Array, Xt: Array, rates: Array, occ: Array) -> tuple[Array, Array]:
    """Π_c (17) and Φ_c (18) of the channels whose current matrix is ``K``."""
    m = occ + 0.5
    quad = jnp.real(jnp.sum((K @ Xt) * jnp.conj(K), axis=1))  # (K Xᵀ K^†)_kk
    lin = jnp.real(jnp.diagonal(K @ Xt))  # (K Xᵀ)_kk = ∫ J_k α_k*
    safe = jnp.where(rates > 0, rates, 1.0)
    pi = jnp.where(rates > 0, 4.0 * quad / (safe * m), 0.0)
    return pi, 2.0 * lin / m


class PhaseSpaceCurrents(eqx.Module):
    """The quasiprobability currents of a Gaussian state, channel by channel (seed 000).

    Each current is ``W(α)`` times a linear form in ``α = (α_1, ..., α_L)``: the value at a
    phase-space point is ``W(α) · (matrix @ α)_k`` (see :func:`current_fields`).

    Attributes:
        irreversible: ``(L, L)`` ``K`` of the physical baths: ``J_k(α) = W(α) (Kα)_k``
            (eqs. 8, 16); row k is zero where ``γ_k = 0``.
        irreversible_sc: ``(L, L)`` the same for the self-consistent reservoirs
            ``(Γ_k, ñ_k)`` (zeros if there are none).
        reversible: ``(L, L)`` ``iH``: ``A_k(α) = W(α) (iHα)_k`` (eq. 11).
        pi: ``(L,)`` Π_k of the physical baths from the Gaussian integral (17).
        phi: ``(L,)`` Φ_k of the physical baths from the Gaussian integral (18).
        pi_sc: ``(L,)`` Π of the self-consistent channels (17).
        phi_sc: ``(L,)`` Φ of the self-consistent channels (18); zero where ``ñ_k = C_kk``.
        covariance: ``(L, L)`` the ``C`` they were computed from.
    """

    irreversible: Array
    irreversible_sc: Array
    reversible: Array
    pi: Array
    phi: Array
    pi_sc: Array
    phi_sc: Array
    covariance: Array


def _sc_inputs(sc_rates, sc_occupations, C: Array, L: int) -> tuple[Array, Array]:
    if sc_rates is None:
        if sc_occupations is not None:
            raise ValueError("sc_occupations: given without sc_rates")
        z = jnp.zeros(L)
        return z, z
    c = jnp.real(jnp.diagonal(C))
    if sc_occupations is None:
        return sc_rates, c
    nt = jnp.asarray(sc_occupations)
    if jnp.issubdtype(nt.dtype, jnp.complexfloating):
        raise TypeError(f"sc_occupations: expected real values, got dtype {nt.dtype}")
    nt = jnp.broadcast_to(nt.astype(float), (L,)) if nt.ndim == 0 else nt.astype(float)
    if nt.shape != (L,):
        raise ValueError(f"sc_occupations: expected shape ({L},), got {nt.shape}")
    nt = cast(Array, check(nt, ~jnp.all(nt >= 0), "sc_occupations: must be >= 0 (and finite)"))
    return sc_rates, nt


def phase_space_currents(
    H: ArrayLike,
    gammas: ArrayLike,
    occupations: ArrayLike,
    C: ArrayLike,
    sc_rates: ArrayLike | None = None,
    sc_occupations: ArrayLike | None = None,
) -> PhaseSpaceCurrents:
    """Irreversible (8)/(16) and reversible (11) phase-space currents of a Gaussian state,
    with Π_k (17) and Φ_k (18) of every channel computed from them.

    Works for any state ``C`` (a transient or the NESS), under ``jit``, ``vmap`` and
    ``grad`` (Cholesky only, no eigen-decomposition).  Zero means and no squeezing.

    Args:
        H: Hermitian ``(L, L)`` matrix of ``H = Σ H_kl a_k† a_l``.
        gammas: ``(L,)`` physical bath rates ``>= 0``.
        occupations: ``(L,)`` physical bath occupations ``>= 0``.
        C: ``(L, L)`` Hermitian covariance ``<a_i† a_j>`` with ``C + ½ > 0``.
        sc_rates: optional ``(L,)`` or scalar self-consistent reservoir rates ``>= 0``.
        sc_occupations: optional ``(L,)`` occupations ``ñ_k`` of those reservoirs; default
            ``C_kk`` (their self-consistent value at the NESS).  Along a transient pass
            the NESS values (as :func:`evolve_covariance` does).

    Returns:
        A :class:`PhaseSpaceCurrents`.

    Raises:
        ValueError: bad shapes or values (non-Hermitian ``H`` or ``C``, ``C + ½`` not
            positive definite, negative rates or occupations), eagerly or under ``jit``.
        TypeError: non-numeric or complex rates/occupations.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import entropy_production_rates, phase_space_currents
        >>> H = jnp.array([[1.0, 0.3j], [-0.3j, 1.2]])
        >>> g, n, C = jnp.array([0.5, 0.2]), jnp.array([1.0, 0.0]), 0.4 * jnp.eye(2)
        >>> cur = phase_space_currents(H, g, n, C)
        >>> bool(jnp.allclose(cur.pi, entropy_production_rates(C, g, n), atol=1e-14))
        True
    """
    H, g, n, sc = validate_inputs(H, gammas, occupations, sc_rates)
    L = H.shape[0]
    C = _validated_covariance(C, L)
    g_sc, n_sc = _sc_inputs(sc, sc_occupations, C, L)
    Xinv = _inverse_x(C)
    M = jnp.conj(Xinv)  # (Xᵀ)⁻¹
    Xt = (C + 0.5 * jnp.eye(L, dtype=C.dtype)).T
    K = _channel_matrix(g, n, M)
    K_sc = _channel_matrix(g_sc, n_sc, M)
    pi, phi = _integrals(K, Xt, g, n)
    pi_sc, phi_sc = _integrals(K_sc, Xt, g_sc, n_sc)
    return PhaseSpaceCurrents(
        irreversible=K,
        irreversible_sc=K_sc,
        reversible=1j * H,
        pi=pi,
        phi=phi,
        pi_sc=pi_sc,
        phi_sc=phi_sc,
        covariance=C,
    )


def wigner_function(C: ArrayLike, alpha: ArrayLike) -> Array:
    """The Gaussian Wigner function (A5) of ``C`` (zero means, ``S = 0``) at points ``α``.

    ``W(α) = exp(-α† (C + ½)ᵀ⁻¹ α)/(π^L det(C + ½))``, normalised to
    ``∫ d²α_1 ... d²α_L W = 1`` with ``d²α = d Re α d Im α``.

    Args:
        C: ``(L, L)`` Hermitian covariance ``<a_i† a_j>`` with ``C + ½ > 0``.
        alpha: ``(..., L)`` complex phase-space points.

    Returns:
        ``(...)`` real values ``W(α)``.

    Raises:
        ValueError: bad shapes, non-Hermitian ``C`` or ``C + ½`` not positive definite.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import wigner_function
        >>> bool(jnp.isclose(wigner_function(jnp.zeros((1, 1)), jnp.zeros(1)), 2 / jnp.pi))
        True
    """
    C = _validated_covariance(C)
    L = C.shape[0]
    alpha = jnp.asarray(alpha).astype(complex)
    if alpha.ndim < 1 or alpha.shape[-1] != L:
        raise ValueError(f"alpha: expected shape (..., {L}), got {alpha.shape}")
    X = C + 0.5 * jnp.eye(L, dtype=C.dtype)
    chol = jnp.linalg.cholesky(X)
    logdet = 2.0 * jnp.sum(jnp.log(jnp.real(jnp.diagonal(chol))))
    M = jnp.conj(_inverse_x(C))
    q = jnp.real(jnp.einsum("...i,ij,...j->...", jnp.conj(alpha), M, alpha))
    return jnp.exp(-q - logdet - L * jnp.log(jnp.pi))


def current_fields(currents: PhaseSpaceCurrents, alpha: ArrayLike) -> dict[str, Array]:
    """The currents of :func:`phase_space_currents` evaluated at phase-space points.

    Args:
        currents: a :class:`PhaseSpaceCurrents`.
        alpha: ``(..., L)`` complex phase-space points.

    Returns:
        A dict of arrays: ``W`` ``(...)``, and ``J``, ``J_sc``, ``A`` of shape ``(..., L)``
        (component k: the current of channel/site k at each point).

    Raises:
        ValueError: ``alpha`` of the wrong shape.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import current_fields, phase_space_currents
        >>> cur = phase_space_currents(jnp.eye(1), jnp.ones(1), jnp.array([0.5]), jnp.eye(1))
        >>> f = current_fields(cur, jnp.array([[0.3 + 0.1j]]))
        >>> f["J"].shape, f["A"].shape
        ((1, 1), (1, 1))
    """
    W = wigner_function(currents.covariance, alpha)
    alpha = jnp.asarray(alpha).astype(complex)
    Wc = W[..., None]
    return {
        "W": W,
        "J": Wc * (alpha @ currents.irreversible.T),
        "J_sc": Wc * (alpha @ currents.irreversible_sc.T),
        "A": Wc * (alpha @ currents.reversible.T),
    }


class RelativeEntropyBalance(eqx.Module):
    """The balance of the Wigner relative entropy (21)-(23) at one state.

    ``rate = unitary_term - pi + reference_mismatch`` (see the module docstring); in the
    seed's setting (one occupation per site, the reference ``W_eq`` of eq. 9) the mismatch
    is zero and this is eq. (22); at the NESS ``rate = 0``, i.e. eq. (23).

    Attributes:
        relative_entropy: ``S(W‖W_R)`` (21).
        rate: its exact time derivative ``Σ_k Ċ_kk/m^R_k - tr((C + ½)⁻¹ Ċ)`` along (B1),
            all channels included.
        unitary_term: ``-∫ U(W) ln W_R = Σ_k u_k/m^R_k`` (eqs. 22-24).
        pi: total Π over all channels (physical and self-consistent), eq. (17).
        reference_mismatch: ``Σ_c [Φ_c - γ_c (C_kk - n_c)/m^R_k]``.
        residual: ``rate - (unitary_term - pi + reference_mismatch)`` (rounding level).
        reference_occupations: ``(L,)`` the ``m^R_k - ½`` used.
    """

    relative_entropy: Array
    rate: Array
    unitary_term: Array
    pi: Array
    reference_mismatch: Array
    residual: Array
    reference_occupations: Array


def relative_entropy_balance(
    H: ArrayLike,
    gammas: ArrayLike,
    occupations: ArrayLike,
    C: ArrayLike,
    sc_rates: ArrayLike | None = None,
    sc_occupations: ArrayLike | None = None,
    reference_occupations: ArrayLike | None = None,
) -> RelativeEntropyBalance:
    """The Wigner relative-entropy balance (21)-(23) of a Gaussian state ``C``.

    Args:
        H: Hermitian ``(L, L)`` matrix of ``H = Σ H_kl a_k† a_l``.
        gammas: ``(L,)`` physical bath rates ``>= 0``.
        occupations: ``(L,)`` physical bath occupations ``>= 0``.
        C: ``(L, L)`` Hermitian covariance with ``C + ½ > 0``.
        sc_rates: optional ``(L,)`` or scalar self-consistent reservoir rates.
        sc_occupations: optional ``(L,)`` their occupations ``ñ_k`` (default ``C_kk``).
        reference_occupations: optional ``(L,)`` occupations of the product reference
            ``W_R``; default: ``n_k`` where ``γ_k > 0``, else ``ñ_k`` where ``Γ_k > 0``,
            else 0 (on a site without any channel the balance holds for every reference).

    Returns:
        A :class:`RelativeEntropyBalance`.

    Raises:
        ValueError: as :func:`phase_space_currents`, or negative reference occupations.
        TypeError: as :func:`phase_space_currents`.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import relative_entropy_balance
        >>> H = jnp.array([[1.0, 0.3j], [-0.3j, 1.2]])
        >>> b = relative_entropy_balance(H, jnp.array([0.5, 0.2]), jnp.array([1.0, 0.0]),
        ...                              0.4 * jnp.eye(2))
        >>> bool(abs(b.residual) < 1e-14 and abs(b.reference_mismatch) < 1e-14)
        True
    """
    H, g, n, sc = validate_inputs(H, gammas, occupations, sc_rates)
    L = H.shape[0]
    cur = phase_space_currents(H, g, n, C, sc, sc_occupations)
    C = cur.covariance
    g_sc, n_sc = _sc_inputs(sc, sc_occupations, C, L)
    if reference_occupations is None:
        n_ref = jnp.where(g > 0, n, jnp.where(g_sc > 0, n_sc, 0.0))
    else:
        n_ref = jnp.asarray(reference_occupations)
        if jnp.issubdtype(n_ref.dtype, jnp.complexfloating):
            raise TypeError(f"reference_occupations: expected real values, got {n_ref.dtype}")
        n_ref = n_ref.astype(float)
        if n_ref.shape != (L,):
            raise ValueError(f"reference_occupations: expected shape ({L},), got {n_ref.shape}")
        n_ref = cast(
            Array,
            check(n_ref, ~jnp.all(n_ref >= 0), "reference_occupations: must be >= 0"),
        )
    mR = n_ref + 0.5
    c = jnp.real(jnp.diagonal(C))
    # Exact dC/dt of (B1) with every channel.
    A = 1j * H.T - 0.5 * jnp.diag(g + g_sc).astype(H.dtype)
    dC = A @ C + C @ jnp.conj(A.T) + jnp.diag(g * n + g_sc * n_sc).astype(H.dtype)
    Xinv = _inverse_x(C)
    rate = jnp.sum(jnp.real(jnp.diagonal(dC)) / mR) - jnp.real(jnp.sum(Xinv * dC.T))
    inflow = jnp.sum(2.0 * jnp.imag(H * C), axis=1)  # u_k, Σ_l j_kl of eq. (25)
    unitary = jnp.sum(inflow / mR)
    pi = jnp.sum(cur.pi) + jnp.sum(cur.pi_sc)
    mismatch = jnp.sum(cur.phi - g * (c - n) / mR) + jnp.sum(cur.phi_sc - g_sc * (c - n_sc) / mR)
    return RelativeEntropyBalance(
        relative_entropy=wigner_relative_entropy(C, n_ref),
        rate=rate,
        unitary_term=unitary,
        pi=pi,
        reference_mismatch=mismatch,
        residual=rate - (unitary - pi + mismatch),
        reference_occupations=n_ref,
    )
