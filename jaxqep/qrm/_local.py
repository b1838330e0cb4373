"""Tripartite reset models with order-one local Hamiltonians (seed 004, eqs. 6.1-6.4).

``L_g = -i[H_A + H_C + H_B + gV, ·] + D_A + D_B`` (eq. 6.4 with the local part of 6.1).
The affine split is the one of the seed (eqs. 4.1, 7.3): the *whole* Hamiltonian
``H_g = H_A ⊗ 1 ⊗ 1 + 1 ⊗ H_C ⊗ 1 + 1 ⊗ 1 ⊗ H_B + gV`` is divided as ``λ H_g`` and
``(1 − λ) H_g`` between ``L^A`` and ``L^B``. Sec. 7 assumes ``H_A = H_C = H_B = 0``
(eq. 7.1), so :func:`local_leading_order` exists only there (it then is
:func:`leading_order` in ``V``); with order-one local terms the kernel of the unperturbed
generator is no longer ``τ_A ⊗ B(H_C) ⊗ τ_B`` and the hierarchy of Sec. 7 does not apply.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import _validate as val
from ._api import tripartite_entropy_production
from ._perturbation import LeadingOrder, leading_order
from ._results import EntropyProduction

__all__ = ["local_hamiltonian", "local_tripartite_entropy_production", "local_leading_order"]


def _locals(H_A, H_C, H_B, V, tau_A, tau_B):
    ta = val.square_matrix(tau_A, "tau_A")
    tb = val.square_matrix(tau_B, "tau_B")
    na, nb = ta.shape[0], tb.shape[0]
    ha = val.hermitian(H_A, "H_A", na)
    hb = val.hermitian(H_B, "H_B", nb)
    hc = val.hermitian(H_C, "H_C")
    nc = hc.shape[0]
    v = val.square_matrix(V, "V")
    if v.shape[0] != na * nc * nb:
        raise ValueError(
            f"V: expected shape ({na * nc * nb}, {na * nc * nb}) = (n_A n_C n_B)² with "
            f"n_A = {na} (tau_A), n_C = {nc} (H_C), n_B = {nb} (tau_B); got {v.shape}"
        )
    v = val.hermitian(v, "V")
    return ha, hc, hb, v, ta, tb, (na, nc, nb)


def local_hamiltonian(
    H_A: ArrayLike, H_C: ArrayLike, H_B: ArrayLike, V: ArrayLike, g: ArrayLike
) -> Array:
    """``H_A ⊗ 1 ⊗ 1 + 1 ⊗ H_C ⊗ 1 + 1 ⊗ 1 ⊗ H_B + g V`` (eqs. 6.1, 6.4).

    Args:
        H_A: Hermitian ``(n_A, n_A)``.
        H_C: Hermitian ``(n_C, n_C)``.
        H_B: Hermitian ``(n_B, n_B)``.
        V: Hermitian coupling ``(d, d)``, ``d = n_A n_C n_B``.
        g: coupling constant (real).

    Returns:
        ``(d, d)``.

    Raises:
        ValueError: a matrix is not Hermitian or has the wrong shape.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.qrm import local_hamiltonian
        >>> z = jnp.diag(jnp.array([0.0, 1.0]))
        >>> local_hamiltonian(z, z, z, jnp.zeros((8, 8)), 0.1).diagonal().real.tolist()
        [0.0, 1.0, 1.0, 2.0, 1.0, 2.0, 2.0, 3.0]
    """
    ha = val.hermitian(H_A, "H_A")
    hb = val.hermitian(H_B, "H_B")
    hc = val.hermitian(H_C, "H_C")
    na, nc, nb = ha.shape[0], hc.shape[0], hb.shape[0]
    d = na * nc * nb
    v = val.hermitian(V, "V")
    if v.shape != (d, d):
        raise ValueError(
            f"V: expected shape ({d}, {d}) = (n_A n_C n_B)² with (n_A, n_C, n_B) = "
            f"{(na, nc, nb)} from H_A, H_C, H_B; got {v.shape}"
        )
    g = val.real_scalar(g, "g")
    dtype = jnp.result_type(ha.dtype, hc.dtype, hb.dtype, v.dtype, g.dtype)
    ia, ic, ib = (jnp.eye(n, dtype=dtype) for n in (na, nc, nb))
    loc = (
        jnp.kron(jnp.kron(ha.astype(dtype), ic), ib)
        + jnp.kron(jnp.kron(ia, hc.astype(dtype)), ib)
        + jnp.kron(jnp.kron(ia, ic), hb.astype(dtype))
    )
    return loc + g.astype(dtype) * v.astype(dtype)


def local_tripartite_entropy_production(
    H_A: ArrayLike,
    H_C: ArrayLike,
    H_B: ArrayLike,
    V: ArrayLike,
    tau_A: ArrayLike,
    tau_B: ArrayLike,
    gamma_A: ArrayLike,
    gamma_B: ArrayLike,
    g: ArrayLike,
    lam: ArrayLike,
    method: str = "dense",
) -> EntropyProduction:
    """Steady state, ``σ_A``, ``σ_B`` and fluxes of the A-C-B model with local Hamiltonians.

    ``L^A = -iλ[H_g, ·] + D_A``, ``L^B = -i(1 − λ)[H_g, ·] + D_B`` with ``H_g`` of
    :func:`local_hamiltonian` (the whole Hamiltonian split affinely, as in eq. 7.3); the
    steady states of ``L``, ``L^A``, ``L^B`` are solved exactly (``method`` as in
    :func:`tripartite_entropy_production`).

    Args:
        H_A: Hermitian ``(n_A, n_A)`` (``n_A`` from ``tau_A``).
        H_C: Hermitian ``(n_C, n_C)``.
        H_B: Hermitian ``(n_B, n_B)`` (``n_B`` from ``tau_B``).
        V: Hermitian coupling ``(d, d)``, ``d = n_A n_C n_B``.
        tau_A: reset state of A.
        tau_B: reset state of B.
        gamma_A: reset rate of A (> 0).
        gamma_B: reset rate of B (> 0).
        g: coupling constant of ``V`` (real; ``0`` is allowed when the local terms make the
            steady states unique).
        lam: the split ``λ ∉ {0, 1}``.
        method: ``"dense"`` (default), ``"auto"``, ``"reduced"`` or ``"iterative"``.

    Returns:
        :class:`EntropyProduction` (parts ``(σ_A, σ_B)``, fluxes ``(φ_A, φ_B)``, ``rho``).

    Raises:
        ValueError / EquinoxRuntimeError: a local Hamiltonian or ``V`` of the wrong shape or
            not Hermitian, and everything :func:`tripartite_entropy_production` rejects.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> z = jnp.diag(jnp.array([0.0, 1.0]))
        >>> V = jaxqep.models.three_qubit_chain(0.0, 0.0, 0.0, 0.0, 0.05, 0.1)
        >>> tA = jaxqep.models.diagonal_reset_state(0.9)
        >>> tB = jaxqep.models.diagonal_reset_state(0.6)
        >>> ep = jaxqep.qrm.local_tripartite_entropy_production(
        ...     z, 0.5 * z, z, V, tA, tB, 0.7, 0.6, 0.3, 0.5)
        >>> bool(ep.total > 0)
        True
    """
    ha, hc, hb, v, ta, tb, dims = _locals(H_A, H_C, H_B, V, tau_A, tau_B)
    g = val.real_scalar(g, "g")
    h = local_hamiltonian(ha, hc, hb, v, g)
    return tripartite_entropy_production(
        h, ta, tb, gamma_A, gamma_B, dims, jnp.ones((), h.real.dtype), lam, method=method
    )


def local_leading_order(
    H_A: ArrayLike,
    H_C: ArrayLike,
    H_B: ArrayLike,
    V: ArrayLike,
    tau_A: ArrayLike,
    tau_B: ArrayLike,
    gamma_A: ArrayLike,
    gamma_B: ArrayLike,
) -> LeadingOrder:
    """Perturbation theory in ``g`` (Sec. 7) for the model of eq. (6.4), where it applies.

    Sec. 7 assumes ``H_A = H_C = H_B = 0`` (eq. 7.1): then this is :func:`leading_order`
    with coupling ``V`` (its hypothesis errors included). Nonzero local Hamiltonians are
    rejected: the hierarchy of Sec. 7 is built on ``ker(D_A + D_B) = τ_A ⊗ B(H_C) ⊗ τ_B``.

    Args:
        H_A: ``(n_A, n_A)``, must vanish.
        H_C: ``(n_C, n_C)``, must vanish.
        H_B: ``(n_B, n_B)``, must vanish.
        V: Hermitian coupling ``(d, d)``.
        tau_A: reset state of A.
        tau_B: reset state of B.
        gamma_A: reset rate of A (> 0).
        gamma_B: reset rate of B (> 0).

    Returns:
        :class:`LeadingOrder`.

    Raises:
        ValueError: wrong shapes; a nonzero local Hamiltonian (eq. 7.1); the hypotheses of
            :func:`leading_order`.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> V = jaxqep.models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
        >>> z = jnp.zeros((2, 2))
        >>> tA = jaxqep.models.diagonal_reset_state(0.95)
        >>> tB = jaxqep.models.diagonal_reset_state(0.6)
        >>> lo = jaxqep.qrm.local_leading_order(z, z, z, V, tA, tB, 0.7, 0.6)
        >>> round(float(lo.c.sum()), 7)
        0.0052273
    """
    ha, hc, hb, v, ta, tb, dims = _locals(H_A, H_C, H_B, V, tau_A, tau_B)
    for name, x in (("H_A", ha), ("H_C", hc), ("H_B", hb)):
        v = val.check(
            v,
            jnp.any(jnp.abs(x) > 0),
            f"{name}: the perturbation theory of seed 004 Sec. 7 assumes H_A = H_C = H_B = 0 "
            "(eq. 7.1); use local_tripartite_entropy_production for order-one local terms",
        )
    return leading_order(v, ta, tb, gamma_A, gamma_B, dims)
