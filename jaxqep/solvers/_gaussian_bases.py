"""Eigenbases of the Hermitian part of a Gaussian drift matrix, as the few operations the
Schur-complement solver (:func:`jaxqep.solvers._gaussian_eigh_schur.eigh_schur_solve`)
needs on matrices ``N`` in the eigenbasis (``K = U Diag(w) U^†``):

- ``pinv(d̄)``: ``P_ac = 1/(i(w_a - w_c) - d̄)``;
- ``diag_to(q)``: ``U^† Diag(q) U``; ``outer(b, T)``: ``Σ_s ū_s T_sᵀ + T̄_s u_sᵀ`` for the
  rows ``u_s = U[b_s, :]`` (the bath terms of the source);
- ``diag_from(N)``: ``diag(U N U^†)`` for Hermitian ``N``; ``rows(b, N)``: ``U[b, :] N``;
- ``to(Y)``: ``U^† Y U``; ``from_(N)``: ``U N U^†`` (once per solve).

Each basis keeps ``N`` in its own *layout* (``natural``/``layout`` convert), chosen so
that a Krylov step has no transpose and its elementwise work fuses into one pass:

- :class:`DenseBasis`: ``U`` from one ``eigh`` of the ``L × L`` matrix (any network);
  layout ``N[a, c]``; the two products of a step are ``O(L³)`` (real for real ``U``).
- :class:`KroneckerBasis`: ``K = K_x ⊗ 1 + 1 ⊗ K_y`` (a rectangular lattice with any
  chain along each direction; a 3D lattice as ``(x) ⊗ (yz)``), ``U = U_x ⊗ U_y`` from two
  small ``eigh``, never formed; layout ``N[(a_x, c_x), (a_y, c_y)]`` (an ``l_x² × l_y²``
  matrix), in which ``U^† Diag(q) U = P_xᵀ q P_y`` and ``diag(U N U^†) = Q_x N Q_yᵀ`` with
  ``P_x[i, (a, c)] = Ū_x[i, a] U_x[i, c]`` (``Q = P̄``): two thin products,
  ``O(L² (l_x + l_y))`` instead of ``O(L³)`` (32 times fewer flops on a 32 × 32
  lattice), and ``P`` is a sum of an ``x`` and a ``y`` part.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array

from ..gaussian._kronecker import kronecker_factors as kronecker_factors

__all__ = ["DenseBasis", "KroneckerBasis", "kronecker_factors"]


def _left(M: Array, V: Array) -> Array:
    """``M @ V``; two real products where exactly one of them is complex."""
    if jnp.iscomplexobj(M) and not jnp.iscomplexobj(V):
        return (jnp.real(M) @ V) + 1j * (jnp.imag(M) @ V)
    if jnp.iscomplexobj(V) and not jnp.iscomplexobj(M):
        return (M @ jnp.real(V)) + 1j * (M @ jnp.imag(V))
    return M @ V


def _pairs(U: Array, real: bool) -> Array:
    """``[i, (a, c)] = Ū[i, a] U[i, c]`` (``P_x``, ``P_y`` of :class:`KroneckerBasis`)."""
    l = U.shape[0]
    first = U if real else jnp.conj(U)
    return (first[:, :, None] * U[:, None, :]).reshape(l, l * l)


def _pinv(delta: Array, dbar: Array) -> Array:
    """``1/(iΔ - d̄)`` in real arithmetic: ``(-d̄ - iΔ)/(d̄² + Δ²)``."""
    s = 1.0 / (dbar * dbar + delta * delta)
    return (-dbar * s) + 1j * (-delta * s)


class DenseBasis(NamedTuple):
    """``K = U Diag(w) U^†`` with ``U`` dense (``real``: ``U`` is real orthogonal)."""

    U: Array
    w: Array
    real: bool

    @classmethod
    def of(cls, K: Array, real: bool) -> DenseBasis:
        if real:
            w, U = jnp.linalg.eigh(jnp.real(K))
        else:
            w, U = jnp.linalg.eigh(K)
        return cls(U, w, real)

    @property
    def Uh(self) -> Array:
        return self.U.T if self.real else jnp.conj(self.U.T)

    def natural(self, N: Array) -> Array:
        """``N[a, c]`` from the layout (the identity here)."""
        return N

    def layout(self, N: Array) -> Array:
        """The layout from ``N[a, c]``."""
        return N

    def pinv(self, dbar: Array) -> Array:
        return _pinv(self.w[:, None] - self.w[None, :], dbar)

    def bath(self, idx: Array) -> Array:
        """The rows ``U[idx, :]``."""
        return self.U[idx, :]

    def bath_abs2(self, bath: Array) -> Array:
        """The rows ``|U[idx, :]|²``."""
        return jnp.abs(bath) ** 2

    def diag_to(self, q: Array) -> Array:
        """``U^† Diag(q) U`` for real ``q`` (one matmul)."""
        return (self.Uh * q[None, :].astype(self.U.dtype)) @ self.U

    def outer(self, bath: Array, T: Array) -> Array:
        """``Σ_s ū_s T_sᵀ + T̄_s u_sᵀ`` (elementwise, fuses with its consumer)."""
        ub, Tc = jnp.conj(bath), jnp.conj(T)

        def term(k):
            return ub[k, :, None] * T[k, None, :] + Tc[k, :, None] * bath[k, None, :]

        out = term(0)
        for k in range(1, T.shape[0]):  # a sum of 2D broadcasts (fuses), not a reduction
            out = out + term(k)
        return out

    def diag_from(self, N: Array) -> Array:
        """``diag(U N U^†)`` for Hermitian ``N`` (one matmul; for real ``U`` the
        antisymmetric imaginary part of ``N`` has no diagonal)."""
        if self.real:
            return jnp.sum((self.U @ jnp.real(N)) * self.U, axis=1)
        return jnp.real(jnp.sum((self.U @ N) * jnp.conj(self.U), axis=1))

    def rows(self, bath: Array, N: Array) -> Array:
        """``bath @ N``."""
        return _left(bath, N)

    def outputs(self, bath: Array, N: Array) -> tuple[Array, Array]:
        """``(diag_from(N), rows(bath, N))``."""
        return self.diag_from(N), self.rows(bath, N)

    def to(self, Y: Array) -> Array:
        """``U^† Y U``."""
        return _left(_left(self.Uh, Y), self.U)

    def from_(self, N: Array) -> Array:
        """``U N U^†``."""
        return _left(_left(self.U, N), self.Uh)


class KroneckerBasis(NamedTuple):
    """``K = K_x ⊗ 1 + 1 ⊗ K_y``: ``U = U_x ⊗ U_y``, ``w = w_x ⊕ w_y`` (never formed)."""

    Ux: Array
    Uy: Array
    wx: Array
    wy: Array
    real: bool
    PxT: Array  # P_xᵀ = [(a, c), i] and P_x, both contiguous: XLA's CPU product with a
    Px: Array  # transposed operand was the slowest op of a Krylov step (0.17 ms at 16 × 16)
    Py: Array
    PyT: Array

    @classmethod
    def of(cls, Kx: Array, Ky: Array, real: bool) -> KroneckerBasis:
        bx = DenseBasis.of(Kx, real)
        by = DenseBasis.of(Ky, real)
        Px, Py = _pairs(bx.U, real), _pairs(by.U, real)
        return cls(bx.U, by.U, bx.w, by.w, real, Px.T, Px, Py, Py.T)

    @property
    def shape(self) -> tuple[int, int]:
        return self.Ux.shape[0], self.Uy.shape[0]

    @property
    def w(self) -> Array:
        return (self.wx[:, None] + self.wy[None, :]).reshape(-1)

    def _c(self, U: Array) -> Array:
        return U if self.real else jnp.conj(U)

    def natural(self, N: Array) -> Array:
        """``N[(a_x, a_y), (c_x, c_y)]`` (``L × L``) from the layout ``[(a_x, c_x), (a_y,
        c_y)]``."""
        lx, ly = self.shape
        return N.reshape(lx, lx, ly, ly).transpose(0, 2, 1, 3).reshape(lx * ly, lx * ly)

    def layout(self, N: Array) -> Array:
        """The layout (``l_x² × l_y²``) from ``N[a, c]``."""
        lx, ly = self.shape
        return N.reshape(lx, ly, lx, ly).transpose(0, 2, 1, 3).reshape(lx * lx, ly * ly)

    def pinv(self, dbar: Array) -> Array:
        dx = (self.wx[:, None] - self.wx[None, :]).reshape(-1)
        dy = (self.wy[:, None] - self.wy[None, :]).reshape(-1)
        return _pinv(dx[:, None] + dy[None, :], dbar)

    def bath(self, idx: Array) -> tuple[Array, Array]:
        """The rows ``U[idx, :] = U_x[i, :] ⊗ U_y[j, :]`` as the pair of factors."""
        ly = self.shape[1]
        return self.Ux[idx // ly, :], self.Uy[idx % ly, :]

    def bath_abs2(self, bath: tuple[Array, Array]) -> tuple[Array, Array]:
        return jnp.abs(bath[0]) ** 2, jnp.abs(bath[1]) ** 2

    def diag_to(self, q: Array) -> Array:
        """``U^† Diag(q) U`` (layout): ``P_xᵀ q P_y``, ``O(L l_y² + l_x L²)``."""
        lx, ly = self.shape
        T = q.reshape(lx, ly).astype(self.Uy.dtype) @ self.Py
        return self.PxT @ T

    def outer(self, bath: tuple[Array, Array], T: Array) -> Array:
        """``Σ_s ū_s T_sᵀ + T̄_s u_sᵀ`` (layout). One reduction over ``s`` (written as a
        sum of per-bath broadcasts, XLA fused it into each consumer and recomputed it:
        three times slower per step at 16 × 16)."""
        lx, ly = self.shape
        ux, uy = bath
        s = T.shape[0]
        T4 = T.reshape(s, lx, ly)
        if self.real:
            # Real U: w ⊠ T + T̄ ⊠ w with w = u_x ⊗ u_y real, the products in real arithmetic
            # (XLA multiplies a real factor cast to complex as a complex one); the sum over
            # s stays a reduction of a complex array (of real products XLA makes a slow
            # dot; as a sum of terms it fuses into, and is recomputed by, each consumer).
            w = ux[:, :, None] * uy[:, None, :]
            Tr, Ti = jnp.real(T4), jnp.imag(T4)
            wa = w[:, :, None, :, None]  # [s, a_x, ·, a_y, ·]
            wc = w[:, None, :, None, :]  # [s, ·, c_x, ·, c_y]
            re = wa * Tr[:, None, :, None, :] + Tr[:, :, None, :, None] * wc
            im = wa * Ti[:, None, :, None, :] - Ti[:, :, None, :, None] * wc
            return jnp.sum(jax.lax.complex(re, im), axis=0).reshape(lx * lx, ly * ly)
        Tc = jnp.conj(T4)
        cx, cy = jnp.conj(ux), jnp.conj(uy)
        # [s, a_x, c_x, a_y, c_y]
        first = cx[:, :, None, None, None] * cy[:, None, None, :, None] * T4[:, None, :, None, :]
        second = Tc[:, :, None, :, None] * ux[:, None, :, None, None] * uy[:, None, None, None, :]
        return jnp.sum(first + second, axis=0).reshape(lx * lx, ly * ly)

    def diag_from(self, N: Array) -> Array:
        """``diag(U N U^†)`` for Hermitian ``N`` (layout): ``Q_x N Q_yᵀ``."""
        if self.real:
            d = (self.Px @ jnp.real(N)) @ self.PyT
        else:
            d = (jnp.conj(self.Px) @ N) @ jnp.conj(self.PyT)
        return jnp.real(d).reshape(-1)

    def rows(self, bath: tuple[Array, Array], N: Array) -> Array:
        """``U[idx, :] N`` (layout ``N``, natural rows ``(c_x, c_y)``)."""
        lx, ly = self.shape
        ux, uy = bath
        s = ux.shape[0]
        # Σ_{a_x}: one product with N as [a_x, (c_x, a_y, c_y)] (no transpose; for real U
        # two real products: XLA's complex product of two rows with N was the slowest op
        # of a step, 0.29 ms at 16 × 16), then the small Σ_{a_y} per bath.
        T = _left(ux, N.reshape(lx, lx * ly * ly)).reshape(s, lx, ly, ly)
        T = jnp.einsum("scbd,sb->scd", T, uy.astype(T.dtype))
        return T.reshape(s, lx * ly)

    def outputs(self, bath: tuple[Array, Array], N: Array) -> tuple[Array, Array]:
        """``(diag_from(N), rows(bath, N))``, for real ``U`` from one product with ``Re N``.

        Both begin with a sum over ``a_x`` (``U_x`` for the diagonal, the bath rows
        ``u_x`` for the rows): stacked, they are one product, and ``Re N`` has one reader.
        XLA forms an elementwise result afresh for each differently shaped reader, so two
        products with ``Re N`` cost a pass over ``Pinv``, the source and ``N`` more (one of
        three passes of a Krylov step's elementwise work).
        """
        if not self.real:
            return self.diag_from(N), self.rows(bath, N)
        lx, ly = self.shape
        ux, uy = bath
        s = ux.shape[0]
        W = jnp.concatenate([self.Ux, ux])  # [l_x + s, l_x]
        T1 = W @ jnp.real(N).reshape(lx, lx * ly * ly)  # [(i_x | s), (c_x, a_y, c_y)]
        # diag: Σ_{c_x} U_x[i_x, c_x] T1[i_x, c_x, :], then Σ over (a_y, c_y) with P_y.
        Wd = jnp.concatenate([self.Ux, jnp.zeros((s, lx), self.Ux.dtype)])
        T2 = jnp.einsum("ic,icm->im", Wd, T1.reshape(lx + s, lx, ly * ly))[:lx]
        dg = (T2 @ self.PyT).reshape(-1)
        T = T1[lx:] + 1j * (ux @ jnp.imag(N).reshape(lx, lx * ly * ly))
        T = jnp.einsum("scbd,sb->scd", T.reshape(s, lx, ly, ly), uy.astype(T.dtype))
        return dg, T.reshape(s, lx * ly)

    def _sandwich(self, Y: Array, left_x, left_y, right_x, right_y) -> Array:
        # [(i, j), (k, l)] -> [(a, b), (c, d)]: Σ left_x[i, a] left_y[j, b] Y right_x[k, c]
        # right_y[l, d].
        lx, ly = self.shape
        T = Y.reshape(lx, ly, lx, ly)
        T = jnp.einsum("ia,ijkl->ajkl", left_x, T)
        T = jnp.einsum("jb,ajkl->abkl", left_y, T)
        T = jnp.einsum("abkl,kc->abcl", T, right_x)
        T = jnp.einsum("abcl,ld->abcd", T, right_y)
        return T.reshape(Y.shape)

    def _sandwich_split(self, Y: Array, *factors) -> Array:
        # Real factors and complex Y: real and imaginary parts separately (real products).
        if self.real and jnp.iscomplexobj(Y):
            return (self._sandwich(jnp.real(Y), *factors)
                    + 1j * self._sandwich(jnp.imag(Y), *factors))
        return self._sandwich(Y, *factors)

    def to(self, Y: Array) -> Array:
        """``U^† Y U`` (layout)."""
        return self.layout(
            self._sandwich_split(Y, self._c(self.Ux), self._c(self.Uy), self.Ux, self.Uy))

    def from_(self, N: Array) -> Array:
        """``U N U^†`` of a layout ``N`` (natural layout).

        Four mode products on the layout ``[a_x, c_x, a_y, c_y]``, each a product whose
        result is already in the order the next one reads (the inner two batched over
        the leading axes, the small factor broadcast), and one transposition at the end,
        fused with the assembly of the complex result: 0.55 ms instead of 0.9 ms at
        16 × 16 on the 2-core machine (transposing to the natural layout first, as
        :meth:`to` does, costs a transposition per mode product)."""
        lx, ly = self.shape
        Ux, Uy = self.Ux, self.Uy
        Uxc, Uyc = self._c(Ux), self._c(Uy)

        def sandwich(P):
            t = _left(Ux, P.reshape(lx, lx * ly * ly))  # [i_x, c_x, a_y, c_y]
            t = t.reshape(lx * lx * ly, ly) @ Uyc.T  # [i_x, c_x, a_y, k_y]
            t = jnp.matmul(jnp.broadcast_to(Uxc, (lx, lx, lx)),
                           t.reshape(lx, lx, ly * ly))  # [i_x, k_x, a_y, k_y]
            return jnp.matmul(jnp.broadcast_to(Uy, (lx * lx, ly, ly)),
                              t.reshape(lx * lx, ly, ly))  # [i_x, k_x, i_y, k_y]

        if self.real and jnp.iscomplexobj(N):
            X = jax.lax.complex(sandwich(jnp.real(N)), sandwich(jnp.imag(N)))
        else:
            X = sandwich(N)
        return X.reshape(lx, lx, ly, ly).transpose(0, 2, 1, 3).reshape(lx * ly, lx * ly)
