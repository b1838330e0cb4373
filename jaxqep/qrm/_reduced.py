"""Steady states of tripartite reset models by a reduced linear system.

Why one module of ~800 lines: the primal solve, its custom batching rule and its implicit
JVP share private intermediate structures (`_Primal`, the feature tensors) and must change
together; splitting them would only add cross-module private imports.

The Lindbladian ``L = -ig[H, ·] + γ_A(τ_A ⊗ tr_A(·) - ·) + γ_B(tr_B(·) ⊗ τ_B - ·)`` is a
resolvent part plus a part that only sees the partial traces:

    L(ρ) = -(i[gH, ·] + Γ)(ρ) + γ_A τ_A ⊗ u_A + γ_B u_B ⊗ τ_B,
    u_A = tr_A ρ,  u_B = tr_B ρ,  Γ = γ_A + γ_B.

So ``L(ρ) = 0`` iff ``ρ = G(γ_A τ_A ⊗ u_A + γ_B u_B ⊗ τ_B)`` with the resolvent
``G = (i[gH, ·] + Γ)^{-1}`` (eq. 3.8 of seed 004), and the partial traces satisfy the
*reduced* fixed-point equation ``u = M u`` of size ``(n_C n_B)² + (n_A n_C)²`` instead of
``(n_A n_C n_B)²``; the partial Lindbladians ``L^A``, ``L^B`` have only one reset each and
reduce to ``(n_C n_B)²`` and ``(n_A n_C)²`` unknowns.

Normalisation. ``ℓ = γ_A tr(u_A) + γ_B tr(u_B)`` is a left null vector of ``1 - M``
(``tr G(X) = tr(X)/Γ``), so the bordered system ``(1 - M + w ℓ^T/Γ) z = w`` with
``ℓ^T w = Γ`` is invertible exactly when the steady state is unique, and its solution
has ``tr ρ = ℓ^T z / Γ = 1``; the argument is that of ``_steady.solve_bordered``.

Implementation (built for large batches of ``(g, λ)`` under ``jit(vmap(...))``):

* The resolvents are applied in the eigenbasis of ``H`` (one ``eigh``, shared by the
  three systems and, under ``vmap`` over ``(g, λ)`` only, by the whole batch), where
  ``G`` is an elementwise division by ``Γ + i c (e_m - e_n)``; the states and the
  actions ``L^A(ρ⁺_g), L^B(ρ⁺_g)`` stay in that basis (the Spohn traces are unitarily
  invariant), so no ``d x d`` product is formed per point.
* ``u_A``, ``u_B`` are Hermitian and ``M`` maps Hermitian to Hermitian, so the unknowns
  are real coordinates in a Hermitian basis with exact entries (:func:`_herm_basis`):
  the reduced systems are *real*. ``1 - M(c)`` is split as ``(1 - M(0)) + c C₁ + R(c)``:
  the zeroth and first orders in the coupling are formed in the computational basis,
  only the O(c²) remainder ``R`` goes through the eigenbasis (:func:`_features`), and
  the border of the weak partial systems is scaled to their size. This keeps the
  nearly singular systems of weak coupling accurate to rounding relative to their
  size (at ``g λ ~ 0.007`` on the three-qubit chain the partial state ``ρ^A`` is about
  two orders of magnitude more accurate than from the dense LU).
* ``M`` is linear in ``2P + 1`` features of ``(c, Γ)`` (``P = d(d-1)/2`` pairs of
  eigenvalues), so when ``H``, ``τ``, ``γ`` are shared by a batch each system is ONE
  product ``φ @ Q`` of the per-point features with a matrix ``Q`` built once (a
  ``custom_vmap`` rule); otherwise the per-point formula is vmapped.
* The three systems go through ONE batched LU (a jitted function with two independent
  batched LU calls can deadlock XLA's CPU runtime, CONVENTIONS, known traps): the total
  system and the block diagonal of the two partial systems, which have the same size.
  The right-hand side is appended as an extra column, so the LU also performs the
  forward substitution.
* A ``custom_jvp`` gives the derivative by the implicit-function theorem with the same
  factorisation (one more pair of triangular solves per tangent); no derivative of
  ``eigh`` or of the LU is ever taken, so it is finite at degenerate spectra of ``H``.
  Tangents are returned in the *fixed* eigenbasis (``U^† dX U`` with ``U`` held
  constant), which is exact for every unitarily invariant function of the outputs and
  for the states rotated back with the returned ``U``. Tangents of ``H`` and ``τ`` are
  projected on their Hermitian parts (the functions are only defined for Hermitian
  arguments).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_batching import custom_vmap
from jax.custom_derivatives import SymbolicZero
from jaxtyping import Array

from .._condition import lu_condition_packed
from .._hermitian import hermitian_part

__all__ = ["tripartite_steady_states_reduced", "tripartite_reduced_eig"]


@functools.cache
def _herm_basis(n: int) -> np.ndarray:
    """Orthogonal basis ``B_k`` of the ``n x n`` Hermitian matrices with entries 0, ±1, ±i.

    The first ``n`` elements are the diagonal units, then ``E_ij + E_ji`` and
    ``i(E_ij - E_ji)`` (i < j). The coordinates of a Hermitian ``u = Σ_k c_k B_k`` are
    ``c_k = tr(B_k u) / tr(B_k²)``, real, and ``tr(u) = Σ_{k<n} c_k``. The basis is not
    normalised on purpose: its entries and norms (1 or 2) are exact in floating point,
    so the reduced maps at zero coupling are *exactly* the identity (a ``1/√2`` rounded
    to double precision would perturb the nearly singular reduced systems at weak
    coupling by O(eps), amplified to ~1e-10 in the states).
    """
    mats = []
    for i in range(n):
        m = np.zeros((n, n), complex)
        m[i, i] = 1.0
        mats.append(m)
    for i in range(n):
        for j in range(i + 1, n):
            m = np.zeros((n, n), complex)
            m[i, j] = m[j, i] = 1.0
            mats.append(m)
            m = np.zeros((n, n), complex)
            m[i, j], m[j, i] = 1j, -1j
            mats.append(m)
    return np.stack(mats)


@functools.cache
def _herm_norms(n: int) -> np.ndarray:
    """``tr(B_k²)`` for :func:`_herm_basis`."""
    return np.concatenate([np.ones(n), 2.0 * np.ones(n * n - n)])


def _trace_vector(n: int) -> np.ndarray:
    return np.concatenate([np.ones(n), np.zeros(n * n - n)])


class _Frame(NamedTuple):
    """What depends on ``H``, ``τ_A``, ``τ_B`` only (shared by every ``(g, λ)``).

    ``F = d + 2P`` packed real coordinates of a Hermitian ``X`` in the eigenbasis of
    ``H`` (:func:`_pack`: diagonal, then real and imaginary parts of the ``P = d(d-1)/2``
    entries above it).
    """

    w: Array  # (d,) eigenvalues of H
    u: Array  # (d, d) eigenvectors
    e_a: Array  # (K_A, 2, d, d) real/imag of U^†(τ_A ⊗ B_k)U, B_k on C⊗B
    e_b: Array  # (K_B, 2, d, d) real/imag of U^†(B_k ⊗ τ_B)U, B_k on A⊗C
    lft_a: Array  # (K_A, F): coordinates of tr_A(U X U^†) are lft_a @ pack(X)
    lft_b: Array  # (K_B, F)
    rgt_a: Array  # (K_A, F): pack(U^†(τ_A ⊗ B_k)U)
    rgt_b: Array  # (K_B, F)


def _pairs(d: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(d, 1)


def _pack(x: Array) -> Array:
    """Real coordinates ``(diag Re, Re x_mn, Im x_mn)`` (m < n) of a Hermitian ``(..., d, d)``."""
    d = x.shape[-1]
    iu, ju = _pairs(d)
    diag = jnp.real(jnp.diagonal(x, axis1=-2, axis2=-1))
    upper = x[..., iu, ju]
    return jnp.concatenate([diag, jnp.real(upper), jnp.imag(upper)], axis=-1)


def _rotate(u: Array, x: Array) -> Array:
    """``U^† X U`` for a stack of matrices."""
    return jnp.conj(u.T) @ x @ u


def _frame(h: Array, tau_a: Array, tau_b: Array, dims: Sequence[int]) -> _Frame:
    na, nc, nb = dims
    ncb, nac = nc * nb, na * nc
    d = na * nc * nb
    w, u = jnp.linalg.eigh(h)
    basis_cb = jnp.asarray(_herm_basis(ncb), dtype=u.dtype)
    basis_ac = jnp.asarray(_herm_basis(nac), dtype=u.dtype)
    kron_a = jnp.einsum("ij,kab->kiajb", tau_a, basis_cb).reshape(-1, d, d)
    kron_b = jnp.einsum("kab,ij->kaibj", basis_ac, tau_b).reshape(-1, d, d)
    red_a = jnp.einsum("ij,kab->kiajb", jnp.eye(na, dtype=u.dtype), basis_cb).reshape(-1, d, d)
    red_b = jnp.einsum("kab,ij->kaibj", basis_ac, jnp.eye(nb, dtype=u.dtype)).reshape(-1, d, d)
    ea, eb = hermitian_part(_rotate(u, kron_a)), hermitian_part(_rotate(u, kron_b))
    ra, rb = hermitian_part(_rotate(u, red_a)), hermitian_part(_rotate(u, red_b))
    # tr(R X) = Σ_m R_mm X_mm + 2 Re Σ_{m<n} R_nm X_mn for Hermitian R, X.
    weights = jnp.asarray(np.concatenate([np.ones(d), 2.0 * np.ones(d * (d - 1))]), w.dtype)
    norms_cb = jnp.asarray(_herm_norms(ncb), w.dtype)[:, None]
    norms_ac = jnp.asarray(_herm_norms(nac), w.dtype)[:, None]
    return _Frame(
        w=w,
        u=u,
        e_a=jnp.stack([jnp.real(ea), jnp.imag(ea)], axis=1),
        e_b=jnp.stack([jnp.real(eb), jnp.imag(eb)], axis=1),
        lft_a=_pack(ra) * weights / norms_cb,
        lft_b=_pack(rb) * weights / norms_ac,
        rgt_a=_pack(ea),
        rgt_b=_pack(eb),
    )


def _features(w: Array, rate: Array, c: Array) -> Array:
    """Pair features of the second-order remainder of the resolvent, ``(2P,)``.

    With ``x = c (e_m - e_n)`` (m < n), ``D_mn = 1/(Γ + i x) = 1/Γ - i x/Γ² + r(x)``,
    ``r = -x²/(Γ(Γ² + x²)) + i x³/(Γ²(Γ² + x²))``; the features are ``(-Re r, -Im r)``.
    So ``1 - M(c) = (1 - M(0)) + (c/Γ²) C₁ + ψ·Q`` (:func:`_expansion_blocks`): the
    zeroth and first orders in ``c`` are formed in the computational basis, and only the
    O(c²) remainder goes through the eigenbasis of ``H``. At weak coupling ``1 - M`` is
    small and nearly singular (the slow relaxation of C), and this keeps it accurate to
    rounding *relative to its size* instead of to O(1) (the partial systems have
    ``M(0) = 1`` exactly). One elementwise expression over a fixed vector, so that XLA
    does not split the product with it into several dots.
    """
    iu, ju = _pairs(w.shape[0])
    dw = w[iu] - w[ju]
    x = c * jnp.concatenate([dw, dw])
    is_re = jnp.asarray(np.concatenate([np.ones(len(iu)), np.zeros(len(iu))]), w.dtype)
    return x * x / (rate * rate + x * x) * (is_re / rate - (1.0 - is_re) * x / (rate * rate))


def _reduced_matrix_direct(lft: Array, rgt: Array, psi: Array, d: int) -> Array:
    """``(ψ·Q)^T`` of :func:`_features` without forming ``Q`` (one point; the rates of the
    columns are applied by the caller)."""
    p = (rgt.shape[-1] - d) // 2
    b_re, b_im = rgt[:, d : d + p], rgt[:, d + p :]
    s_re, s_im = psi[:p], psi[p:]
    packed = jnp.concatenate([s_re * b_re - s_im * b_im, s_re * b_im + s_im * b_re], axis=-1)
    return packed @ lft[:, d:].T  # transposed


def _feature_tensor(lft: Array, rgt: Array, d: int) -> Array:
    """``Q`` with ``(ψ·Q)^T = (ψ @ Q).reshape(L, K)`` for the features of :func:`_features`."""
    p = (rgt.shape[-1] - d) // 2
    lre, lim = lft[:, d : d + p], lft[:, d + p :]
    bre, bim = rgt[:, d : d + p], rgt[:, d + p :]
    qre = jnp.einsum("kp,lp->plk", lre, bre) + jnp.einsum("kp,lp->plk", lim, bim)
    qim = jnp.einsum("kp,lp->plk", lim, bre) - jnp.einsum("kp,lp->plk", lre, bim)
    return jnp.concatenate([qre, qim]).reshape(2 * p, -1)


class _Expansion(NamedTuple):
    """Zeroth and first order in ``c`` of the reduced maps, computational basis."""

    x_ab: Array  # (K_A, K_B) coords(tr_A(B_l ⊗ τ_B)), B_l on A⊗C
    x_ba: Array  # (K_B, K_A) coords(tr_B(τ_A ⊗ B_l)), B_l on C⊗B
    tr_a: Array  # tr τ_A
    tr_b: Array  # tr τ_B
    c1: Array  # (K, K) coords(reduce(i[H, E_l])) for E_l = τ_A ⊗ B_l, B_l ⊗ τ_B


def _expansion_blocks(h: Array, tau_a: Array, tau_b: Array, dims: Sequence[int]) -> _Expansion:
    """``M(c) = M(0) - (c/Γ²) C₁ + O(c²)`` (before the column rates): ``M(0)/Γ`` has the
    blocks ``[[tr τ_A 1, X_AB], [X_BA, tr τ_B 1]]`` (``G = 1/Γ`` at ``c = 0``) and
    ``C₁`` is the reduced commutator with ``H``. No rotation to the eigenbasis, so no
    rounding amplified by small gaps of ``H``."""
    na, nc, nb = dims
    ncb, nac = nc * nb, na * nc
    d = na * nc * nb
    cdtype = jnp.result_type(h.dtype, tau_a.dtype, jnp.complex64)
    bcb = jnp.asarray(_herm_basis(ncb), cdtype)
    bac = jnp.asarray(_herm_basis(nac), cdtype)

    def coords(basis, x):
        norms = jnp.asarray(_herm_norms(basis.shape[-1]))[:, None]
        return jnp.real(jnp.einsum("kji,lij->kl", basis, x)) / norms

    tr_a_bac = jnp.einsum("lacad->lcd", bac.reshape(-1, na, nc, na, nc))  # tr_A B_l (on C)
    tr_b_bcb = jnp.einsum("lcbdb->lcd", bcb.reshape(-1, nc, nb, nc, nb))  # tr_B B_l (on C)
    x_ab = coords(bcb, jnp.einsum("lcd,ef->lcedf", tr_a_bac, tau_b).reshape(-1, ncb, ncb))
    x_ba = coords(bac, jnp.einsum("ef,lcd->lecfd", tau_a, tr_b_bcb).reshape(-1, nac, nac))
    e_all = jnp.concatenate(
        [
            jnp.einsum("ij,kab->kiajb", tau_a, bcb).reshape(-1, d, d),
            jnp.einsum("kab,ij->kaibj", bac, tau_b).reshape(-1, d, d),
        ]
    )
    comm = 1j * (h @ e_all - e_all @ h)
    red_a = jnp.einsum("laxay->lxy", comm.reshape(-1, na, ncb, na, ncb))
    red_b = jnp.einsum("lxbyb->lxy", comm.reshape(-1, nac, nb, nac, nb))
    c1 = jnp.concatenate([coords(bcb, red_a), coords(bac, red_b)])
    rdtype = x_ab.dtype
    return _Expansion(
        x_ab=x_ab,
        x_ba=x_ba,
        tr_a=jnp.real(jnp.trace(tau_a)).astype(rdtype),
        tr_b=jnp.real(jnp.trace(tau_b)).astype(rdtype),
        c1=c1,
    )


class _SystemParts(NamedTuple):
    """The bordered systems, transposed (rows are columns: LAPACK is column-major), as
    ``constant + Σ (per-point scalar) · (fixed matrix)``:

    ``total^T = t0 + (c/Γ²) t1 + (ψ_T·Q_T)^T ∘ rates``, with the right-hand side as
    row ``n`` of ``t0``, and for a partial system (``x`` = A or B, rate ``γ``)
    ``x^T = x0 + (c_x/γ) x1 + s_x x2 + γ (ψ_x·Q_x)^T`` with the border scale ``s_x``.
    """

    t0: Array  # (n + 1, n)
    t1: Array  # (n + 1, n)
    rates: Array  # (n,) rate of each column of the total system
    a0: Array
    a1: Array
    a2: Array
    b0: Array
    b1: Array
    b2: Array
    w_a: Array  # right-hand side of the partial systems, before the border scales
    w_b: Array


def _system_parts(ex: _Expansion, gamma_a: Array, gamma_b: Array, dims) -> _SystemParts:
    """The parts of the bordered systems that do not depend on ``(g, λ)``.

    ``1 - M(c) = (1 - M(0)) + (c/Γ²) C₁ + ψ·Q`` (:func:`_features`), bordered by
    ``w ℓ^T`` with ``ℓ^T w = 1``. The border of a partial system is scaled by
    ``s = min(1, |c| (e_max - e_min)/γ)``, the size of its ``1 - M`` (any ``s > 0`` gives
    the same solution, as ``ℓ^T z = 1``): at weak coupling ``1 - M = O(c)``, and an O(1)
    border would make the LU's rounding errors O(eps) relative to it.
    """
    na, nc, nb = dims
    ncb, nac = nc * nb, na * nc
    ka, kb = ncb * ncb, nac * nac
    dtype = ex.c1.dtype
    tr_a = jnp.asarray(_trace_vector(ncb), dtype)
    tr_b = jnp.asarray(_trace_vector(nac), dtype)
    rate_t = gamma_a + gamma_b
    w_a, w_b = tr_a / ncb, tr_b / nac
    rhs_t = jnp.concatenate([w_a, w_b])  # ℓ^T rhs = 1 for every system
    ell_t = jnp.concatenate([gamma_a * tr_a, gamma_b * tr_b]) / rate_t
    rates = jnp.concatenate([jnp.full((ka,), gamma_a, dtype), jnp.full((kb,), gamma_b, dtype)])
    m0_t = jnp.concatenate(
        [
            jnp.concatenate([ex.tr_a * jnp.eye(ka, dtype=dtype), ex.x_ab], axis=1),
            jnp.concatenate([ex.x_ba, ex.tr_b * jnp.eye(kb, dtype=dtype)], axis=1),
        ]
    )
    t0 = (
        jnp.eye(ka + kb, dtype=dtype) - (m0_t.T / rate_t) * rates[:, None] + jnp.outer(ell_t, rhs_t)
    )
    t0 = jnp.concatenate([t0, rhs_t[None, :]])
    t1 = jnp.concatenate([(ex.c1.T / rate_t**2) * rates[:, None], jnp.zeros((1, ka + kb), dtype)])
    return _SystemParts(
        t0=t0,
        t1=t1,
        rates=rates,
        a0=(1.0 - ex.tr_a) * jnp.eye(ka, dtype=dtype),
        a1=ex.c1[:ka, :ka].T / gamma_a,
        a2=jnp.outer(tr_a, w_a),
        b0=(1.0 - ex.tr_b) * jnp.eye(kb, dtype=dtype),
        b1=ex.c1[ka:, ka:].T / gamma_b,
        b2=jnp.outer(tr_b, w_b),
        w_a=w_a,
        w_b=w_b,
    )


def _border_scales(w: Array, gamma_a: Array, gamma_b: Array, g: Array, lam: Array):
    spread = w[-1] - w[0]
    s_a = jnp.minimum(1.0, jnp.abs(g * lam) * spread / gamma_a)
    s_b = jnp.minimum(1.0, jnp.abs(g * (1.0 - lam)) * spread / gamma_b)
    return s_a, s_b


def _stack_systems(aug_t: Array, sys_a: Array, sys_b: Array, rhs_p: Array) -> Array:
    """``(2, n, n + 1)``: the total system and the block diagonal of the partial ones
    (from their transposes; the final swap is a layout change for LAPACK).

    (Partial pivoting never mixes the two diagonal blocks: the off-diagonal blocks are
    exact zeros, so this is the LU of each block. The right-hand side is an extra
    column, so the LU also does the forward substitution.)"""
    ka, kb = sys_a.shape[0], sys_b.shape[0]
    zero = jnp.zeros((ka, kb), aug_t.dtype)
    aug_p = jnp.concatenate(
        [
            jnp.concatenate([sys_a, zero], axis=1),
            jnp.concatenate([zero.T, sys_b], axis=1),
            rhs_p[None, :],
        ]
    )
    return jnp.swapaxes(jnp.stack([aug_t, aug_p]), -1, -2)


def _systems_direct(lft, rgt, weak, w, gam, g, lam, dims):
    """The stacked augmented systems for one point (no shared precomputation)."""
    d = w.shape[0]
    lft_a, lft_b = lft
    rgt_a, rgt_b = rgt
    gamma_a, gamma_b = gam
    sp = _system_parts(weak, gamma_a, gamma_b, dims)
    rate_t = gamma_a + gamma_b
    pm_t = _reduced_matrix_direct(
        jnp.concatenate([lft_a, lft_b]), jnp.concatenate([rgt_a, rgt_b]), _features(w, rate_t, g), d
    )
    pm_a = _reduced_matrix_direct(lft_a, rgt_a, _features(w, gamma_a, g * lam), d)
    pm_b = _reduced_matrix_direct(lft_b, rgt_b, _features(w, gamma_b, g * (1.0 - lam)), d)
    zero_row = jnp.zeros((1, pm_t.shape[1]), pm_t.dtype)
    aug_t = sp.t0 + g * sp.t1 + jnp.concatenate([pm_t * sp.rates[:, None], zero_row])
    s_a, s_b = _border_scales(w, gamma_a, gamma_b, g, lam)
    sys_a = sp.a0 + (g * lam) * sp.a1 + s_a * sp.a2 + gamma_a * pm_a
    sys_b = sp.b0 + (g * (1.0 - lam)) * sp.b1 + s_b * sp.b2 + gamma_b * pm_b
    rhs_p = jnp.concatenate([s_a * sp.w_a, s_b * sp.w_b])
    return _stack_systems(aug_t, sys_a, sys_b, rhs_p)


@functools.cache
def _systems_batched(dims: tuple[int, int, int]):
    """:func:`_systems_direct` with a batching rule (one per ``dims``, which is static).

    With ``H``, ``τ_A``, ``τ_B``, ``γ_A``, ``γ_B`` shared by the batch (a sweep over
    ``(g, λ)``), each system is one product ``φ @ Q`` of per-point features
    ``φ = (1, c, [s,] ψ)`` with a matrix ``Q`` built once: one large matrix product
    per system instead of many small ones, whose output is already the (transposed)
    system. Otherwise the per-point formula is vmapped (``Q`` per point would cost
    ``(2 + 2P)·n²`` numbers each).
    """

    @custom_vmap
    def systems(lft, rgt, weak, w, gam, g, lam):
        return _systems_direct(lft, rgt, weak, w, gam, g, lam, dims)

    @systems.def_vmap
    def _rule(axis_size, in_batched, lft, rgt, weak, w, gam, g, lam):
        axes = jax.tree_util.tree_map(lambda b: 0 if b else None, in_batched)
        if any(jax.tree_util.tree_leaves(in_batched[:5])):
            out = jax.vmap(
                functools.partial(_systems_direct, dims=dims),
                in_axes=tuple(axes),
                axis_size=axis_size,
            )(lft, rgt, weak, w, gam, g, lam)
            return out, True
        d = w.shape[0]
        lft_a, lft_b = lft
        rgt_a, rgt_b = rgt
        gamma_a, gamma_b = gam
        ka, kb = lft_a.shape[0], lft_b.shape[0]
        n = ka + kb
        rate_t = gamma_a + gamma_b
        sp = _system_parts(weak, gamma_a, gamma_b, dims)
        q_t = _feature_tensor(jnp.concatenate([lft_a, lft_b]), jnp.concatenate([rgt_a, rgt_b]), d)
        q_t = (q_t.reshape(-1, n, n) * sp.rates[:, None]).reshape(-1, n * n)
        q_t = jnp.concatenate([q_t, jnp.zeros((q_t.shape[0], n), q_t.dtype)], axis=1)
        q_t = jnp.concatenate([sp.t0.reshape(1, -1), sp.t1.reshape(1, -1), q_t])
        q_a = jnp.concatenate(
            [
                sp.a0.reshape(1, -1),
                sp.a1.reshape(1, -1),
                sp.a2.reshape(1, -1),
                gamma_a * _feature_tensor(lft_a, rgt_a, d),
            ]
        )
        q_b = jnp.concatenate(
            [
                sp.b0.reshape(1, -1),
                sp.b1.reshape(1, -1),
                sp.b2.reshape(1, -1),
                gamma_b * _feature_tensor(lft_b, rgt_b, d),
            ]
        )
        one = jnp.ones((1,), q_t.dtype)

        def point(g, lam):
            c_a, c_b = g * lam, g * (1.0 - lam)
            s_a, s_b = _border_scales(w, gamma_a, gamma_b, g, lam)
            phi_t = jnp.concatenate([one, g[None], _features(w, rate_t, g)])
            phi_a = jnp.concatenate([one, c_a[None], s_a[None], _features(w, gamma_a, c_a)])
            phi_b = jnp.concatenate([one, c_b[None], s_b[None], _features(w, gamma_b, c_b)])
            aug_t = (phi_t @ q_t).reshape(n + 1, n)
            sys_a = (phi_a @ q_a).reshape(ka, ka)
            sys_b = (phi_b @ q_b).reshape(kb, kb)
            rhs_p = jnp.concatenate([s_a * sp.w_a, s_b * sp.w_b])
            return _stack_systems(aug_t, sys_a, sys_b, rhs_p)

        out = jax.vmap(point, in_axes=tuple(axes[5:]), axis_size=axis_size)(g, lam)
        return out, True

    return systems


@functools.partial(jax.custom_jvp, nondiff_argnums=(7,))
def _systems(lft, rgt, weak, w, gam, g, lam, dims):
    """The stacked augmented systems ``(2, n, n + 1)`` (see :func:`_stack_systems`).

    Only the values matter to the outer ``custom_jvp`` (its tangents come from the
    implicit-function rule); this wrapper gives the batching rule above a plain
    derivative so that higher-order differentiation also works.
    """
    return _systems_batched(tuple(dims))(lft, rgt, weak, w, gam, g, lam)


@_systems.defjvp
def _systems_jvp(dims, primals, tangents):
    return jax.jvp(functools.partial(_systems_direct, dims=dims), primals, tangents)


def _apply_e(e: Array, z: Array) -> Array:
    """``Σ_l z_l U^†(τ ⊗ B_l)U`` (complex ``(..., d, d)``) from real coordinates ``z``.

    ``e`` is ``(L, 2, d, d)`` (real and imaginary parts); one real matrix product.
    """
    d = e.shape[-1]
    x = (z @ e.reshape(e.shape[0], -1)).reshape(*z.shape[:-1], 2, d, d)
    return jax.lax.complex(x[..., 0, :, :], x[..., 1, :, :])


def _resolvent_diag(w: Array, rate: Array, c: Array) -> Array:
    """``D_mn = 1/(Γ + i c (e_m - e_n))`` (real arithmetic, one division)."""
    x = c * (w[:, None] - w[None, :])
    den = rate * rate + x * x
    return jax.lax.complex(rate / den, -x / den)


def _lu_solve(lu: Array, perm: Array, rhs: Array, forward: bool = True) -> Array:
    """Solve with the packed LU of :func:`jax.lax.linalg.lu` (``rhs``: ``(..., n)``).

    ``forward=False`` only back-substitutes (for a right-hand side already forward
    substituted by the LU of the augmented matrix).
    """
    n = rhs.shape[-1]
    lmat = lu[..., :n, :n]
    if forward:
        rhs = jnp.take_along_axis(rhs, perm, axis=-1)
        rhs = jax.lax.linalg.triangular_solve(
            lmat, rhs[..., None], left_side=True, lower=True, unit_diagonal=True
        )[..., 0]
    x = jax.lax.linalg.triangular_solve(lmat, rhs[..., None], left_side=True, lower=False)
    return x[..., 0]


class _Primal(NamedTuple):
    frame: _Frame
    dfull: Array  # (3, d, d) resolvent factors of the systems T, A, B
    rates: tuple
    couplings: tuple
    aug: Array  # (2, n, n + 1) the two systems with their right-hand sides
    lu: Array
    perm: Array
    z: Array  # (2, K_A + K_B): [z_T, (z_A, z_B)]
    f_a: Array  # U^†(τ_A ⊗ u_A)U, u_A = tr_A ρ_T
    f_b: Array
    states: Array  # (3, d, d) in the eigenbasis
    acts: Array  # (2, d, d) L_A(ρ_T), L_B(ρ_T) in the eigenbasis


def _primal(h, tau_a, tau_b, gamma_a, gamma_b, g, lam, dims) -> _Primal:
    na, nc, nb = dims
    ka = (nc * nb) ** 2
    fr = _frame(h, tau_a, tau_b, dims)
    rates = (gamma_a + gamma_b, gamma_a, gamma_b)
    couplings = (g, g * lam, g * (1.0 - lam))
    aug = _systems(
        (fr.lft_a, fr.lft_b),
        (fr.rgt_a, fr.rgt_b),
        _expansion_blocks(h, tau_a, tau_b, dims),
        fr.w,
        (gamma_a, gamma_b),
        g,
        lam,
        dims,
    )
    n = aug.shape[-2]
    lu, _, perm = jax.lax.linalg.lu(aug)
    z = _lu_solve(lu, perm, lu[..., :, n], forward=False)  # (2, n)
    diff = fr.w[:, None] - fr.w[None, :]
    dfull = jnp.stack([_resolvent_diag(fr.w, r, c) for r, c in zip(rates, couplings)])
    ea = _apply_e(fr.e_a, jnp.stack([z[0, :ka], z[1, :ka]]))  # U^†(τ_A ⊗ u)U for z_T, z_A
    eb = _apply_e(fr.e_b, jnp.stack([z[0, ka:], z[1, ka:]]))
    f_a, f_b = ea[0], eb[0]
    rho_t = dfull[0] * (gamma_a * f_a + gamma_b * f_b)
    rho_a = dfull[1] * (gamma_a * ea[1])
    rho_b = dfull[2] * (gamma_b * eb[1])
    comm = -1j * diff * rho_t  # -i[H, ρ_T] in the eigenbasis
    act_a = couplings[1] * comm + gamma_a * (f_a - rho_t)
    act_b = couplings[2] * comm + gamma_b * (f_b - rho_t)
    return _Primal(
        frame=fr,
        dfull=dfull,
        rates=rates,
        couplings=couplings,
        aug=aug,
        lu=lu,
        perm=perm,
        z=z,
        f_a=f_a,
        f_b=f_b,
        states=jnp.stack([rho_t, rho_a, rho_b]),
        acts=jnp.stack([act_a, act_b]),
    )


def _residuals(p: _Primal, gamma_a: Array, gamma_b: Array) -> Array:
    """Largest ``‖L_k(ρ_k)‖_F`` over the three states, from their actual partial traces."""
    fr = p.frame
    diff = fr.w[:, None] - fr.w[None, :]

    def reset(rho, gamma, lft, e):  # γ (τ ⊗ tr(ρ) - ρ) in the eigenbasis
        return gamma * (_apply_e(e, lft @ _pack(rho)) - rho)

    def comm(rho, c):
        return -1j * c * diff * rho

    rho_t, rho_a, rho_b = p.states[0], p.states[1], p.states[2]
    res = [
        comm(rho_t, p.couplings[0])
        + reset(rho_t, gamma_a, fr.lft_a, fr.e_a)
        + reset(rho_t, gamma_b, fr.lft_b, fr.e_b),
        comm(rho_a, p.couplings[1]) + reset(rho_a, gamma_a, fr.lft_a, fr.e_a),
        comm(rho_b, p.couplings[2]) + reset(rho_b, gamma_b, fr.lft_b, fr.e_b),
    ]
    return jnp.max(jnp.stack([jnp.linalg.norm(r) for r in res]))


class ReducedEig(NamedTuple):
    """Steady states and actions of a tripartite model in the eigenbasis of ``H``."""

    u: Array  # eigenvectors of H: X = U X_eig U^†
    states: Array  # (ρ⁺_g, ρ^A, ρ^B), (3, d, d)
    actions: Array  # (L^A(ρ⁺_g), L^B(ρ⁺_g)), (2, d, d)
    residual: Array  # largest ‖L_k(ρ_k)‖_F (no derivative)
    condition: Array  # largest 1-norm condition estimate of the two LU systems (no derivative)


@functools.partial(jax.custom_jvp, nondiff_argnums=(7,))
def _reduced_eig(h, tau_a, tau_b, gamma_a, gamma_b, g, lam, dims) -> ReducedEig:
    p = _primal(h, tau_a, tau_b, gamma_a, gamma_b, g, lam, dims)
    return ReducedEig(
        p.frame.u,
        p.states,
        p.acts,
        _residuals(p, gamma_a, gamma_b),
        _condition_of(p),
    )


def _condition_of(p: _Primal) -> Array:
    """Hager's estimate from the LU already computed (a few O(n²) triangular solves)."""
    n = p.aug.shape[-2]
    kappas = jax.vmap(lambda a, lu, perm: lu_condition_packed(a, lu, perm, iterations=1))(
        p.aug[..., :n], p.lu, p.perm
    )
    return jnp.max(kappas)


def _add(*terms: Any) -> Any:
    """Sum of the terms that are not ``None`` (symbolic-zero tangents); ``None`` if all are."""
    out = None
    for t in terms:
        if t is not None:
            out = t if out is None else out + t
    return out


def _mul(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a * b


def _reduced_eig_jvp(dims, primals, tangents):
    h, tau_a, tau_b, gamma_a, gamma_b, g, lam = primals
    dh, dta, dtb, dga, dgb, dg, dlam = (
        None if isinstance(t, SymbolicZero) else t for t in tangents
    )
    p = _primal(h, tau_a, tau_b, gamma_a, gamma_b, g, lam, dims)
    fr = p.frame
    na, nc, nb = dims
    ncb, nac = nc * nb, na * nc
    ka = ncb * ncb
    d = na * nc * nb
    diff = fr.w[:, None] - fr.w[None, :]
    rate_t = p.rates[0]
    rho_t, rho_a, rho_b = p.states[0], p.states[1], p.states[2]
    z_ta, z_tb, z_a, z_b = p.z[0, :ka], p.z[0, ka:], p.z[1, :ka], p.z[1, ka:]

    # Tangents of the couplings c_k and rates Γ_k of the systems T, A, B.
    dc_t = dg
    dc_a = _add(_mul(dg, lam), _mul(g, dlam))
    dc_b = _add(_mul(dg, 1.0 - lam), None if dlam is None else -g * dlam)
    drate_t = _add(dga, dgb)
    dh_e = None if dh is None else _rotate(fr.u, hermitian_part(dh).astype(fr.u.dtype))

    def dtau_term(dtau, z, side):
        # U^†(dτ_A ⊗ u_A)U or U^†(u_B ⊗ dτ_B)U with u = Σ z_k B_k
        if dtau is None:
            return None
        dtau = hermitian_part(dtau).astype(fr.u.dtype)
        if side == "A":
            u_mat = jnp.einsum("k,kab->ab", z.astype(fr.u.dtype), jnp.asarray(_herm_basis(ncb)))
            return _rotate(fr.u, jnp.kron(dtau, u_mat))
        u_mat = jnp.einsum("k,kab->ab", z.astype(fr.u.dtype), jnp.asarray(_herm_basis(nac)))
        return _rotate(fr.u, jnp.kron(u_mat, dtau))

    def comm_h(dc, c, rho):
        # -i[d(cH), ρ] in the eigenbasis
        t1 = None if dc is None else -1j * dc * diff * rho
        t2 = None if dh_e is None else -1j * c * (dh_e @ rho - rho @ dh_e)
        return _add(t1, t2)

    ta_t, tb_t = dtau_term(dta, z_ta, "A"), dtau_term(dtb, z_tb, "B")
    r_t = _add(
        _mul(dga, p.f_a),
        _mul(gamma_a, ta_t),
        _mul(dgb, p.f_b),
        _mul(gamma_b, tb_t),
        comm_h(dc_t, g, rho_t),
        None if drate_t is None else -drate_t * rho_t,
    )
    f_a_a = _apply_e(fr.e_a, z_a)
    r_a = _add(
        _mul(dga, f_a_a),
        _mul(gamma_a, dtau_term(dta, z_a, "A")),
        comm_h(dc_a, p.couplings[1], rho_a),
        None if dga is None else -dga * rho_a,
    )
    f_b_b = _apply_e(fr.e_b, z_b)
    r_b = _add(
        _mul(dgb, f_b_b),
        _mul(gamma_b, dtau_term(dtb, z_b, "B")),
        comm_h(dc_b, p.couplings[2], rho_b),
        None if dgb is None else -dgb * rho_b,
    )
    zeros = jnp.zeros((d, d), fr.u.dtype)
    r_t, r_a, r_b = (zeros if r is None else r for r in (r_t, r_a, r_b))

    # Bordered right-hand sides: R G(r) - w (dℓ^T z).
    gr_t, gr_a, gr_b = p.dfull[0] * r_t, p.dfull[1] * r_a, p.dfull[2] * r_b
    b_t = jnp.concatenate([fr.lft_a @ _pack(gr_t), fr.lft_b @ _pack(gr_t)])
    if drate_t is not None:
        tr_a = jnp.sum(z_ta[:ncb])
        tr_b = jnp.sum(z_tb[:nac])
        dl = _add(
            _mul(_add(_mul(dga, 1.0 / rate_t), -gamma_a * drate_t / rate_t**2), tr_a),
            _mul(_add(_mul(dgb, 1.0 / rate_t), -gamma_b * drate_t / rate_t**2), tr_b),
        )
        w_vec = jnp.concatenate(
            [jnp.asarray(_trace_vector(ncb)) / ncb, jnp.asarray(_trace_vector(nac)) / nac]
        ).astype(b_t.dtype)
        b_t = b_t - w_vec * dl
    b_p = jnp.concatenate([fr.lft_a @ _pack(gr_a), fr.lft_b @ _pack(gr_b)])
    dz = _lu_solve(p.lu, p.perm, jnp.stack([b_t, b_p]))
    dz_ta, dz_tb, dz_a, dz_b = dz[0, :ka], dz[0, ka:], dz[1, :ka], dz[1, ka:]

    df_a = _add(_apply_e(fr.e_a, dz_ta), ta_t)
    df_b = _add(_apply_e(fr.e_b, dz_tb), tb_t)
    drho_t = p.dfull[0] * (
        r_t + gamma_a * _apply_e(fr.e_a, dz_ta) + gamma_b * _apply_e(fr.e_b, dz_tb)
    )
    drho_a = p.dfull[1] * (r_a + gamma_a * _apply_e(fr.e_a, dz_a))
    drho_b = p.dfull[2] * (r_b + gamma_b * _apply_e(fr.e_b, dz_b))

    def dact(dc, c, dgam, gam, f, df):
        return _add(
            comm_h(dc, c, rho_t),
            -1j * c * diff * drho_t,
            None if dgam is None else dgam * (f - rho_t),
            gam * (df - drho_t),
        )

    dact_a = dact(dc_a, p.couplings[1], dga, gamma_a, p.f_a, df_a)
    dact_b = dact(dc_b, p.couplings[2], dgb, gamma_b, p.f_b, df_b)
    out = ReducedEig(
        fr.u,
        p.states,
        p.acts,
        _residuals(p, gamma_a, gamma_b),
        _condition_of(p),
    )
    tangent = ReducedEig(
        jnp.zeros_like(fr.u),
        jnp.stack([drho_t, drho_a, drho_b]).astype(p.states.dtype),
        jnp.stack([dact_a, dact_b]).astype(p.acts.dtype),
        jnp.zeros_like(out.residual),
        jnp.zeros_like(out.condition),
    )
    return out, tangent


_reduced_eig.defjvp(_reduced_eig_jvp, symbolic_zeros=True)


def tripartite_reduced_eig(
    h: Array,
    tau_a: Array,
    tau_b: Array,
    gamma_a: Array,
    gamma_b: Array,
    dims: Sequence[int],
    g: Array,
    lam: Array,
) -> ReducedEig:
    """Steady states ``(ρ⁺_g, ρ^A, ρ^B)`` and the actions ``L^A(ρ⁺_g), L^B(ρ⁺_g)`` in the
    eigenbasis of ``H`` (no validation; see the module docstring for the derivative)."""
    dims = tuple(int(x) for x in dims)
    dtype = jnp.result_type(h.dtype, tau_a.dtype, tau_b.dtype, jnp.complex64)
    rdtype = jnp.finfo(dtype).dtype
    return _reduced_eig(
        hermitian_part(h.astype(dtype)),
        hermitian_part(tau_a.astype(dtype)),
        hermitian_part(tau_b.astype(dtype)),
        jnp.asarray(gamma_a, rdtype),
        jnp.asarray(gamma_b, rdtype),
        jnp.asarray(g, rdtype),
        jnp.asarray(lam, rdtype),
        dims,
    )


def tripartite_steady_states_reduced(
    h: Array,
    tau_a: Array,
    tau_b: Array,
    gamma_a: Array,
    gamma_b: Array,
    dims: Sequence[int],
    g: Array,
    lam: Array,
) -> Array:
    """Steady states ``(ρ⁺_g, ρ^A, ρ^B)`` stacked ``(3, d, d)`` via the reduced systems."""
    r = tripartite_reduced_eig(h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam)
    return r.u @ r.states @ jnp.conj(r.u.T)
