r"""Gaussian networks with squeezed thermal baths: the model and its derivation.

Model. ``H = Σ_kl H_kl a_k† a_l`` and on each mode ``k`` a squeezed thermal bath of rate
``γ_k``, occupation ``n_k`` and squeezing ``m_k`` (complex), with the dissipator

    D_k = γ_k [(n_k + 1) 𝒟(a_k, a_k†) + n_k 𝒟(a_k†, a_k)
               - m_k 𝒟(a_k†, a_k†) - m_k* 𝒟(a_k, a_k)],
    𝒟(A, B) ρ = A ρ B - ½ {B A, ρ}

(so ``𝒟(a, a†) = D[a]``).  Its Kossakowski matrix on ``(a_k, a_k†)`` is
``γ_k [[n_k + 1, -m_k*], [-m_k, n_k]]``: ``D_k`` is a GKLS generator iff
``|m_k|² <= n_k (n_k + 1)``, the condition for the bath state ``<b†b> = n_k``,
``<b b> = m_k`` to be a state.  ``m = 0`` is the thermal dissipator (4) of seed 000.
A squeezed bath is phase sensitive: ``D_k`` as written holds in the frame in which the
bath's squeezing is static (for a bath squeezed at carrier ``ω_c``, the frame rotating
at ``ω_c``, where ``H`` holds detunings); ``H`` must be given in that frame.

Moments.  With the adjoint ``𝒟(A, B)†X = B X A - ½{B A, X}`` one finds, for one mode,
``𝒟(a†, a†)†(a a) = -1``, ``𝒟(a, a)†(a a) = 0`` and both squeezing terms annihilate
``a† a``.  So, with ``C_ij = <a_i† a_j>``, ``S_ij = <a_i a_j>``, ``G = Diag(γ)``:

    dC/dt = A C + C A^† + Diag(γ n),    A = i Hᵀ - G/2,
    dS/dt = B S + S Bᵀ + Diag(γ m),      B = -i H - G/2 = conj(A).

``C`` is blind to the squeezing (its NESS is the one of :class:`jaxqep.GaussianNetwork`);
``S`` is driven by it.  In the complex phase-space variables ``ξ = (α; α*)`` the Wigner
covariance ``Θ = <ξ ξ^†>_W = [[Cᵀ + ½, S], [S̄, C + ½]]`` obeys one Lyapunov equation of
size 2L,

    dΘ/dt = 𝔸 Θ + Θ 𝔸^† + 𝔻,   𝔸 = Diag(B, A),
    𝔻 = [[Diag(γ(n+½)), Diag(γ m)], [Diag(γ m̄), Diag(γ(n+½))]],

whose NESS ``𝔸 Θ + Θ 𝔸^† = -𝔻`` splits, since ``𝔸`` is block diagonal, into the L×L
Lyapunov equation of ``C`` and the L×L Sylvester equation ``B S + S Bᵀ = -Diag(γ m)``
(the route of :class:`jaxqep.solvers.SqueezedLyapunov`).  The real quadrature form
(``a = (x + i p)/√2``) is the same equation conjugated by a unitary.

Wigner entropy production.  The Wigner function obeys the Fokker-Planck equation
``∂_t W = -∇·(J_rev + Σ_k J_k)`` (quadratures ``r``, ``dσ/dt = 𝒜σ + σ𝒜ᵀ + Σ_k d_k``)
with the irreversible current of bath ``k``

    J_k = -(γ_k/2) r_k W - ½ d_k ∇_k W = -½ d_k W ∇_k ln(W / W_k),

``d_k`` the 2×2 diffusion of mode ``k`` and ``W_k ∝ exp(-γ_k r_kᵀ d_k⁻¹ r_k / 2)`` the
bath's own (squeezed thermal) state, in which ``J_k`` vanishes.  The unitary current
does not change ``S = -∫ W ln W`` (``tr 𝒜_H = 0``), and integrating by parts,
``dS/dt = Σ_k (Π_k - Φ_k)`` with

    Π_k = 2 ∫ J_kᵀ d_k⁻¹ J_k / W >= 0,     Φ_k = ∫ J_k · ∇_k ln W_k

(for ``m = 0``: eqs. (15)-(18) of seed 000).  For a zero-mean Gaussian ``W`` the
integrals are traces.  In the complex variables, with ``Θ_k`` the 2×2 block of mode
``k``, ``D̂_k = [[n_k + ½, m_k], [m̄_k, n_k + ½]]`` (the bath's Θ) and
``δ_k = (Θ⁻¹)_kk - Θ_k⁻¹ ⪰ 0``:

    Φ_k = (γ_k/2) tr[D̂_k⁻¹ (Θ_k - D̂_k)]
        = γ_k [(n_k + ½)(C_kk - n_k) - Re(m̄_k (S_kk - m_k))] / ((n_k + ½)² - |m_k|²),
    Π_k = (γ_k/2) tr[D̂_k⁻¹ (Θ_k - D̂_k) Θ_k⁻¹ (Θ_k - D̂_k)] + (γ_k/2) tr[D̂_k δ_k]
        = Φ_k - γ_k + (γ_k/2) tr[D̂_k (Θ⁻¹)_kk].

Both terms of Π_k are >= 0 and free of cancellation (``δ_k`` is computed from the
off-diagonal blocks, as in :mod:`jaxqep.gaussian._observables`).  At ``m = 0`` (hence
``S = 0`` at the NESS) they are exactly the CONVENTIONS formulas
``Φ_k = γ_k(C_kk - n_k)/(n_k + ½)``, ``Π_k = Φ_k - γ_k + γ_k(n_k + ½)[(C + ½)⁻¹]_kk``.
``(n + ½)² - |m|² >= ¼`` for physical squeezing, so nothing here is singular.

Self-consistent (Büttiker) probes are not supported with squeezed baths (a probe's
occupation *and* squeezing would have to be fixed by a no-exchange condition, which this
module does not derive); passing ``sc_rates`` raises.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._problem import AbstractProblem
from .._validate import check, deferred_checks
from ._model import validate_inputs

__all__ = ["SqueezedGaussianNetwork", "validate_squeezing"]

# |m|² may exceed n(n+1) by this much relative to (n + ½)² (round-off of m = √(n(n+1))e^{iφ}).
_PHYS_RTOL = 1e-12


def validate_squeezing(squeezing, occupations: Array, L: int) -> Array:
    """``squeezing`` as a complex ``(L,)`` array, finite and physical (named in errors).

    Raises ``TypeError`` for non-numeric input, ``ValueError`` for a wrong shape, NaN/inf
    or ``|m_k|² > n_k(n_k + 1)`` (eagerly; under ``jit``/``vmap`` the same message, see
    :func:`jaxqep._validate.check`).
    """
    if isinstance(squeezing, (str, bytes)) or (
        hasattr(squeezing, "dtype") and not np.issubdtype(np.dtype(squeezing.dtype), np.number)
    ):
        raise TypeError(f"squeezing: expected a numeric array, got {type(squeezing).__name__}")
    m = jnp.asarray(squeezing)
    if not jnp.issubdtype(m.dtype, jnp.number) or jnp.issubdtype(m.dtype, jnp.bool_):
        raise TypeError(f"squeezing: expected a numeric array, got dtype {m.dtype}")
    if m.shape != (L,):
        raise ValueError(
            f"squeezing: expected shape ({L},) to match H of shape ({L}, {L}), got {m.shape}"
        )
    m = m.astype(jnp.result_type(m.dtype, complex))
    m = check(m, ~jnp.all(jnp.isfinite(m)), "squeezing: contains NaN or inf")
    n = occupations
    excess = jnp.abs(m) ** 2 - n * (n + 1.0)
    return check(
        m,
        jnp.any(excess > _PHYS_RTOL * (n + 0.5) ** 2),
        "squeezing: |m_k|² must be <= n_k (n_k + 1) (occupations n_k) for the squeezed "
        "thermal bath to be a physical state",
    )


class SqueezedGaussianNetwork(AbstractProblem):
    """L bosonic modes, ``H = Σ_kl H_kl a_k† a_l``, with local squeezed thermal baths.

    Bath ``k`` has rate ``γ_k``, occupation ``n_k = <b_k† b_k>`` and squeezing
    ``m_k = <b_k b_k>`` (complex); its dissipator and the NESS, Wigner entropy
    production and flux it implies are derived in :mod:`jaxqep.gaussian._squeezed`.
    ``squeezing = 0`` gives the results of :class:`jaxqep.GaussianNetwork`.

    Validated at construction (inputs traced under ``jit``/``vmap`` are checked by the
    entry points, with the same messages): shapes and dtypes raise
    ``ValueError``/``TypeError``; values (Hermiticity, signs, finiteness, physicality
    ``|m_k|² <= n_k(n_k + 1)``) raise ``ValueError``. The array fields are the pytree
    leaves (``vmap`` over them, differentiate with respect to them).

    Args:
        H: Hermitian ``(L, L)`` matrix (any connectivity, complex allowed).
        gammas: ``(L,)`` bath rates ``γ_k >= 0`` (0: no bath on that site).
        occupations: ``(L,)`` bath occupations ``n_k >= 0``.
        squeezing: ``(L,)`` bath squeezing ``m_k`` (complex or real),
            ``|m_k|² <= n_k(n_k + 1)``.
        sc_rates: must be ``None``: self-consistent reservoirs are not supported with
            squeezed baths.

    Attributes:
        hamiltonian: the Hermitian part of ``H`` (complex).
        gammas: ``(L,)`` bath rates.
        occupations: ``(L,)`` bath occupations.
        squeezing: ``(L,)`` complex bath squeezing.

    Raises:
        ValueError: shapes, non-Hermitian ``H``, negative or non-finite rates or
            occupations, non-finite or unphysical squeezing, ``sc_rates`` given.
        TypeError: non-numeric input, complex rates or occupations.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> from jaxqep.gaussian import chain_hamiltonian
        >>> net = jaxqep.SqueezedGaussianNetwork(
        ...     chain_hamiltonian(2, 1.0, 0.2), jnp.array([1.0, 1.0]),
        ...     jnp.array([0.5, 0.5]), jnp.array([0.3j, 0.0]))
        >>> ep = jaxqep.entropy_production(net)
        >>> bool(ep.total > 0), bool(abs(ep.total - ep.flux_total) < 1e-12)
        (True, True)
    """

    hamiltonian: Array
    gammas: Array
    occupations: Array
    squeezing: Array

    def __init__(self, H, gammas, occupations, squeezing, sc_rates=None):
        if sc_rates is not None:
            raise ValueError(
                "sc_rates: self-consistent reservoirs are not supported with squeezed baths "
                "(use jaxqep.GaussianNetwork for unsqueezed networks with probes)"
            )
        with deferred_checks() as checks:
            H, gammas, occupations, _ = validate_inputs(H, gammas, occupations, None)
            m = validate_squeezing(squeezing, occupations, H.shape[0])
        self._store_checks(checks)
        self.hamiltonian = H
        self.gammas = gammas
        self.occupations = occupations
        self.squeezing = m

    @property
    def H(self) -> Array:
        """The Hamiltonian matrix (``hamiltonian``)."""
        return self.hamiltonian

    @property
    def size(self) -> int:
        """Number of modes ``L``."""
        return jnp.shape(self.hamiltonian)[0]

    def validated(self):
        """``(H, gammas, occupations, None)``: the unsqueezed part, in the layout of
        :meth:`jaxqep.GaussianNetwork.validated` (no self-consistent rates)."""
        return self.hamiltonian, self.gammas, self.occupations, None

    def default_solver(self):
        """:class:`jaxqep.solvers.SqueezedLyapunov` (the only solver for this problem)."""
        from ..solvers._gaussian_squeezed import SqueezedLyapunov

        return SqueezedLyapunov()
