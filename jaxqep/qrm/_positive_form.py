"""The manifestly positive form (7.46)/(7.52) of ``c_A + c_B`` (seed 004, Prop. 7.4).

``c_A + c_B = −i tr([H, ρ0] Q1)`` (eq. 7.38) ``= tr([ln ρ0, L0⁻¹([H, ρ0])] H)`` and, with
eq. (7.10) and Lemma 7.10,

    c_A + c_B = 1/(γ_A + γ_B) · ( W(H, ρ0)
                 + (γ_A/γ_B) W(H̄^{τ_A}, tr_A ρ0) + (γ_B/γ_A) W(H̄^{τ_B}, tr_B ρ0) ),

where ``W(X, K) = tr([[X, K], ln K] X) = Σ_{jk} |⟨φ_j|X φ_k⟩|² (κ_j − κ_k)(ln κ_j − ln κ_k)
≥ 0`` for ``K = Σ κ_j |φ_j⟩⟨φ_j| > 0`` (Lemma 7.11, Remark 7.12), with equality iff
``[X, K] = 0``. This route needs only ``ρ0`` (not ``ρ1``, ``Q1``, nor Prop. 7.7).
"""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._hermitian import logm_h
from .._superop import partial_trace
from ._perturbation import leading_order

__all__ = ["PositiveForm", "sigma2_positive_form", "commutator_form"]


class PositiveForm(eqx.Module):
    """Result of :func:`sigma2_positive_form`.

    Attributes:
        total: ``c_A + c_B`` from (7.46), ``= σ^(2)`` when ``σ^(2)`` does not depend on λ.
        terms: ``(W(H, ρ0), W(H̄^{τ_A}, tr_A ρ0), W(H̄^{τ_B}, tr_B ρ0))``, each ``≥ 0``.
        weights: ``(1, γ_A/γ_B, γ_B/γ_A) / (γ_A + γ_B)``.
    """

    total: Array
    terms: Array
    weights: Array


def commutator_form(X: ArrayLike, K: ArrayLike) -> Array:
    """``W(X, K) = tr([[X, K], ln K] X)`` (Lemma 7.11 with ``f = ln``), ``≥ 0`` for ``K > 0``.

    Args:
        X: Hermitian ``(n, n)``.
        K: positive-definite ``(n, n)``.

    Returns:
        The real scalar ``W``; zero iff ``[X, K] = 0`` (Remark 7.12).

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.qrm import commutator_form
        >>> K = jnp.diag(jnp.array([0.75, 0.25]))
        >>> X = jnp.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(commutator_form(X, K)), 12)   # 2 · |1|² (0.5)(ln 3)
        1.098612288668
    """
    x = jnp.asarray(X)
    k = jnp.asarray(K)
    dtype = jnp.result_type(x.dtype, k.dtype, jnp.complex64)
    x, k = x.astype(dtype), k.astype(dtype)
    c = x @ k - k @ x
    lk = logm_h(k)
    return jnp.real(jnp.trace((c @ lk - lk @ c) @ x))


def sigma2_positive_form(
    H: ArrayLike,
    tau_A: ArrayLike,
    tau_B: ArrayLike,
    gamma_A: ArrayLike,
    gamma_B: ArrayLike,
    dims: Sequence[int],
) -> PositiveForm:
    """``c_A + c_B`` of Prop. 7.7 as the sum of three non-negative terms (eqs. 7.46-7.52).

    A second route to ``c_A + c_B`` (the λ-independent part of ``σ^(2)``), independent of
    the coefficients of :func:`leading_order`: it uses only ``ρ0`` (eq. 7.12).

    Args:
        H: Hermitian coupling Hamiltonian, ``(d, d)``.
        tau_A: reset state of A, ``(n_A, n_A)``.
        tau_B: reset state of B, ``(n_B, n_B)``.
        gamma_A: reset rate of A (> 0).
        gamma_B: reset rate of B (> 0).
        dims: ``(n_A, n_C, n_B)`` as Python ints.

    Returns:
        :class:`PositiveForm` (``total``, ``terms``, ``weights``).

    Raises:
        ValueError / EquinoxRuntimeError: as :func:`leading_order` (invalid input, failing
            hypotheses Spec, Coup, Pos).

    Example:
        >>> import jaxqep
        >>> H = jaxqep.models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
        >>> tA = jaxqep.models.diagonal_reset_state(0.95)
        >>> tB = jaxqep.models.diagonal_reset_state(0.6)
        >>> pf = jaxqep.qrm.sigma2_positive_form(H, tA, tB, 0.7, 0.6, (2, 2, 2))
        >>> round(float(pf.total), 7)
        0.0052273
    """
    lo = leading_order(H, tau_A, tau_B, gamma_A, gamma_B, dims)
    na, nc, nb = (int(x) for x in dims)
    rho0 = lo.rho0
    dtype = rho0.dtype
    h = jnp.asarray(H).astype(dtype)
    ta = jnp.asarray(tau_A).astype(dtype)
    tb = jnp.asarray(tau_B).astype(dtype)
    ga = jnp.asarray(gamma_A, dtype=float)
    gb = jnp.asarray(gamma_B, dtype=float)
    # H̄^{τ_A} = tr_A((τ_A ⊗ 1) H) (7.15), H̄^{τ_B} = tr_B((1 ⊗ τ_B) H) (7.16).
    hbar_a = partial_trace(jnp.kron(ta, jnp.eye(nc * nb, dtype=dtype)) @ h, (na, nc * nb), (1,))
    hbar_b = partial_trace(jnp.kron(jnp.eye(na * nc, dtype=dtype), tb) @ h, (na * nc, nb), (0,))
    rho_cb = partial_trace(rho0, (na, nc * nb), (1,))
    rho_ac = partial_trace(rho0, (na * nc, nb), (0,))
    terms = jnp.stack(
        [
            commutator_form(h, rho0),
            commutator_form(hbar_a, rho_cb),
            commutator_form(hbar_b, rho_ac),
        ]
    )
    weights = jnp.stack([jnp.ones_like(ga), ga / gb, gb / ga]) / (ga + gb)
    return PositiveForm(total=jnp.sum(weights * terms), terms=terms, weights=weights)
