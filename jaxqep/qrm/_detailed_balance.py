"""Detailed balance of a reset model (seed 004, Lemma 3.3, eqs. 3.18-3.22)."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import _validate as val
from .._hermitian import relative_entropy
from ._reset import reset_steady_state

__all__ = ["DetailedBalance", "detailed_balance"]

DB_RTOL = 1e-10


class DetailedBalance(eqx.Module):
    """Result of :func:`detailed_balance`.

    Attributes:
        holds: whether (DB) holds, ``defect <= 1e-10`` (Lemma 3.3: iff ``[T, H] = 0``).
        defect: ``max_X ‖Φ(X) − Φ^ρ(X)‖`` over matrix units ``X``, relative to ``Γ``, with
            ``Φ(X) = Γ 1 tr(TX)`` (eq. 3.19) and its ``ρ⁺``-adjoint
            ``Φ^ρ(X) = Γ T tr(Xρ⁺) (ρ⁺)⁻¹`` (eq. 3.22).
        commutator: ``‖[T, H]‖_F``.
        rho: the steady state ``ρ⁺ = (i[H/Γ, ·] + 1)⁻¹(T)`` (eq. 3.8).
        sigma_formula: ``Γ(S(T|ρ⁺) + S(ρ⁺|T))``, eq. (3.21) at ``ρ = ρ⁺`` (0 iff DB).
    """

    holds: Array
    defect: Array
    commutator: Array
    rho: Array
    sigma_formula: Array


def detailed_balance(H: ArrayLike, T: ArrayLike, rate: ArrayLike = 1.0) -> DetailedBalance:
    """Test the detailed-balance condition (DB) of ``L = -i[H, ·] + Γ(T tr(·) − ·)``.

    (DB) holds if ``Φ(X) = Γ 1 tr(TX)`` is self-adjoint for ``(A, B)_ρ = tr(ρ⁺ A^† B)``
    (eq. 3.20). Its ``ρ⁺``-adjoint is ``Γ T tr(Xρ⁺)(ρ⁺)⁻¹`` (eq. 3.22), so (DB) is
    ``ρ⁺ = T``, i.e. ``[T, H] = 0`` (Lemma 3.3). Then the entropy production is
    ``σ_L(ρ) = Γ(S(T|ρ) + S(ρ|T))`` for every ``ρ > 0`` (eq. 3.21).

    Args:
        H: Hermitian Hamiltonian ``(d, d)``.
        T: reset state (positive definite density matrix) ``(d, d)``.
        rate: total rate ``Γ > 0``.

    Returns:
        :class:`DetailedBalance` (``holds``, ``defect``, ``commutator``, ``rho``,
        ``sigma_formula``).

    Raises:
        ValueError / EquinoxRuntimeError: ``H`` not Hermitian; ``T`` not a density matrix
            or not faithful; ``rate`` not positive.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jnp.diag(jnp.array([0.0, 1.0]))
        >>> bool(jaxqep.qrm.detailed_balance(H, jaxqep.models.gibbs_state(H, 2.0)).holds)
        True
        >>> H2 = jaxqep.models.single_qubit_hamiltonian(1.0, 0.7)
        >>> bool(jaxqep.qrm.detailed_balance(H2, jnp.diag(jnp.array([0.9, 0.1]))).holds)
        False
    """
    h = val.hermitian(H, "H")
    d = h.shape[0]
    t = val.faithful(val.density_matrix(T, "T", d), "T")
    rate = val.positive(val.real_scalar(rate, "rate"), "rate")
    dtype = jnp.result_type(h.dtype, t.dtype, jnp.complex64)
    h, t = h.astype(dtype), t.astype(dtype)
    rho = reset_steady_state(h, t, rate)
    rho_inv = jnp.linalg.inv(rho)
    units = jnp.eye(d * d, dtype=dtype).reshape(d * d, d, d)
    eye = jnp.eye(d, dtype=dtype)
    phi = jnp.einsum("ab,kba->k", t, units)[:, None, None] * eye  # Φ(X)/Γ = 1 tr(TX)
    phi_rho = jnp.einsum("kab,ba->k", units, rho)[:, None, None] * (t @ rho_inv)
    defect = jnp.max(jnp.linalg.norm((phi - phi_rho).reshape(d * d, -1), axis=-1))
    comm = jnp.linalg.norm(t @ h - h @ t)
    sig = rate * (relative_entropy(t, rho) + relative_entropy(rho, t))
    return DetailedBalance(
        holds=defect <= DB_RTOL, defect=defect, commutator=comm, rho=rho, sigma_formula=sig
    )
