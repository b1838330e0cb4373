"""Superoperators in row-major vectorisation and partial traces.

Convention (``../shared/CONVENTIONS.md``): ``vec(X) = X.reshape(-1)`` (row-major), so
``vec(A X B) = (A ⊗ B^T) vec(X)`` and ``-i[H, ·] = -i (H ⊗ I - I ⊗ H^T)``.

All builders return dense ``(d², d²)`` matrices; the matrix-free counterparts (functions
``X -> L(X)``) live beside them for large systems.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

__all__ = [
    "vec",
    "unvec",
    "spre",
    "spost",
    "sprepost",
    "commutator",
    "hamiltonian_superop",
    "lindblad_dissipator",
    "reset_dissipator",
    "partial_trace",
    "tripartite_reset_A",
    "tripartite_reset_B",
    "apply_reset_A",
    "apply_reset_B",
]


def vec(x: ArrayLike) -> Array:
    """Row-major vectorisation ``X.reshape(-1)``."""
    return jnp.asarray(x).reshape(-1)


def unvec(v: ArrayLike, d: int | None = None) -> Array:
    """Inverse of :func:`vec`."""
    v = jnp.asarray(v)
    if d is None:
        d = int(round(v.shape[-1] ** 0.5))
    if d * d != v.shape[-1]:
        raise ValueError(f"vector of length {v.shape[-1]} is not the vec of a square matrix")
    return v.reshape(*v.shape[:-1], d, d)


def _eye_like(a: Array) -> Array:
    return jnp.eye(a.shape[-1], dtype=a.dtype)


def spre(a: ArrayLike) -> Array:
    """Superoperator of ``X -> A X``: ``A ⊗ I``."""
    a = jnp.asarray(a)
    return jnp.kron(a, _eye_like(a))


def spost(b: ArrayLike) -> Array:
    """Superoperator of ``X -> X B``: ``I ⊗ B^T``."""
    b = jnp.asarray(b)
    return jnp.kron(_eye_like(b), b.T)


def sprepost(a: ArrayLike, b: ArrayLike) -> Array:
    """Superoperator of ``X -> A X B``: ``A ⊗ B^T``."""
    return jnp.kron(jnp.asarray(a), jnp.asarray(b).T)


def commutator(h: ArrayLike) -> Array:
    """Superoperator of ``X -> [H, X]``."""
    h = jnp.asarray(h)
    return spre(h) - spost(h)


def hamiltonian_superop(h: ArrayLike) -> Array:
    """Superoperator of ``X -> -i[H, X]``."""
    h = jnp.asarray(h)
    return -1j * commutator(h)


def lindblad_dissipator(jumps: ArrayLike | Sequence[ArrayLike]) -> Array:
    """GKLS dissipator ``Σ_k (L_k X L_k^† - ½{L_k^† L_k, X})`` as a matrix.

    Args:
        jumps: one jump operator ``(d, d)`` or a stack ``(K, d, d)``.
    """
    ls = jnp.asarray(jumps)
    if ls.ndim == 2:
        ls = ls[None]
    if ls.ndim != 3 or ls.shape[-1] != ls.shape[-2]:
        raise ValueError(f"jumps must have shape (d, d) or (K, d, d), got {ls.shape}")
    ls = ls.astype(jnp.result_type(ls.dtype, jnp.complex64))
    d = ls.shape[-1]
    eye = jnp.eye(d, dtype=ls.dtype)
    out = jnp.zeros((d * d, d * d), dtype=ls.dtype)
    for k in range(ls.shape[0]):
        lk = ls[k]
        ldl = jnp.conj(lk.T) @ lk
        out = out + jnp.kron(lk, jnp.conj(lk)) - 0.5 * (jnp.kron(ldl, eye) + jnp.kron(eye, ldl.T))
    return out


def reset_dissipator(tau: ArrayLike, gamma: ArrayLike = 1.0) -> Array:
    """Reset dissipator ``X -> γ (τ tr X - X)`` on a single space."""
    tau = jnp.asarray(tau)
    d = tau.shape[-1]
    eye = jnp.eye(d, dtype=tau.dtype)
    return jnp.asarray(gamma) * (jnp.outer(vec(tau), vec(eye)) - jnp.eye(d * d, dtype=tau.dtype))


def partial_trace(rho: ArrayLike, dims: Sequence[int], keep: Sequence[int]) -> Array:
    """Partial trace of ``rho`` on ``H_0 ⊗ H_1 ⊗ ...`` keeping the factors in ``keep``.

    Args:
        rho: ``(D, D)`` with ``D = prod(dims)``.
        dims: dimensions of the tensor factors.
        keep: indices of the factors to keep, in increasing order.

    Returns:
        The reduced operator on ``⊗_{k in keep} H_k``.
    """
    rho = jnp.asarray(rho)
    dims = tuple(int(x) for x in dims)
    n = len(dims)
    keep = tuple(sorted(int(k) for k in keep))
    total = 1
    for x in dims:
        total *= x
    if rho.shape != (total, total):
        raise ValueError(f"rho has shape {rho.shape}, expected {(total, total)} from dims {dims}")
    t = rho.reshape(dims + dims)
    letters = "abcdefghijklmnopqrstuvwxyz"
    row = [letters[i] for i in range(n)]
    col = [letters[i].upper() if i in keep else letters[i] for i in range(n)]
    out = [letters[i] for i in keep] + [letters[i].upper() for i in keep]
    red = jnp.einsum("".join(row) + "".join(col) + "->" + "".join(out), t)
    dk = 1
    for k in keep:
        dk *= dims[k]
    return red.reshape(dk, dk)


def apply_reset_A(rho: Array, tau_a: Array, dims: Sequence[int]) -> Array:
    """``τ_A ⊗ tr_A(ρ) - ρ`` on ``H_A ⊗ H_C ⊗ H_B`` (without the rate)."""
    na, nc, nb = dims
    red = partial_trace(rho, (na, nc * nb), (1,))
    return jnp.kron(tau_a, red) - rho


def apply_reset_B(rho: Array, tau_b: Array, dims: Sequence[int]) -> Array:
    """``tr_B(ρ) ⊗ τ_B - ρ`` on ``H_A ⊗ H_C ⊗ H_B`` (without the rate)."""
    na, nc, nb = dims
    red = partial_trace(rho, (na * nc, nb), (0,))
    return jnp.kron(red, tau_b) - rho


def _reset_on_factor(tau: Array, left: int, right: int) -> Array:
    # X -> I_left ⊗ τ ⊗ I_right  contracted with the partial trace of that factor, minus X.
    # Tensor index form: out[(l t r),(l' t' r')] = δ_ll' δ_rr' τ_tt' Σ_s X[(l s r),(l' s r')].
    n = tau.shape[0]
    eye_l = jnp.eye(left, dtype=tau.dtype)
    eye_r = jnp.eye(right, dtype=tau.dtype)
    eye_n = jnp.eye(n, dtype=tau.dtype)
    # indices: out rows (l,t,r,l',t',r'), in cols (m,s,q,m',s',q')
    sup = jnp.einsum(
        "lm,tT,rq,LM,sS,RQ->ltrLTRmsqMSQ",
        eye_l,
        tau,
        eye_r,
        eye_l,
        eye_n,
        eye_r,
    )
    d = left * n * right
    sup = sup.reshape(d * d, d * d)
    return sup - jnp.eye(d * d, dtype=tau.dtype)


def tripartite_reset_A(tau_a: ArrayLike, dims: Sequence[int], gamma: ArrayLike = 1.0) -> Array:
    """Matrix of ``D_A(ρ) = γ_A (τ_A ⊗ tr_A ρ - ρ)`` on ``H_A ⊗ H_C ⊗ H_B``."""
    tau_a = jnp.asarray(tau_a)
    na, nc, nb = (int(x) for x in dims)
    return jnp.asarray(gamma) * _reset_on_factor(tau_a, 1, nc * nb)


def tripartite_reset_B(tau_b: ArrayLike, dims: Sequence[int], gamma: ArrayLike = 1.0) -> Array:
    """Matrix of ``D_B(ρ) = γ_B (tr_B ρ ⊗ τ_B - ρ)`` on ``H_A ⊗ H_C ⊗ H_B``."""
    tau_b = jnp.asarray(tau_b)
    na, nc, nb = (int(x) for x in dims)
    return jnp.asarray(gamma) * _reset_on_factor(tau_b, na * nc, 1)
