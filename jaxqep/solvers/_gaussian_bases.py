"""Eigenbases of the Hermitian part of a Gaussian drift matrix, as the few products the
Schur-complement solver (:func:`jaxqep.solvers._gaussian_eigh_schur.eigh_schur_solve`)
needs: ``U^† Diag(q) U``, ``diag(U N U^†)``, ``U^† Y U``, ``U N U^†`` and products of a few
rows with ``U``.

- :class:`DenseBasis`: ``U`` from one ``eigh`` of the ``L × L`` matrix (any network);
  the two products of a Krylov step are ``O(L³)`` (real matmuls for real ``U``).
- :class:`KroneckerBasis`: ``K = K_x ⊗ 1 + 1 ⊗ K_y`` (a rectangular lattice with any
  chain along each direction; a 3D lattice as ``(x) ⊗ (yz)``), ``U = U_x ⊗ U_y`` from two
  small ``eigh``; never formed, every product is a sequence of mode products costing
  ``O(L² (l_x + l_y))`` instead of ``O(L³)`` (32 times fewer flops on a 32 × 32 lattice).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array

from ..gaussian._kronecker import kronecker_factors as kronecker_factors

__all__ = ["DenseBasis", "KroneckerBasis", "kronecker_factors"]


def _left(M: Array, V: Array, real: bool) -> Array:
    """``M @ V``; two real products when ``V`` is real and ``M`` complex."""
    if real and jnp.iscomplexobj(M):
        return (jnp.real(M) @ V) + 1j * (jnp.imag(M) @ V)
    return M @ V


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

    def rows(self, idx: Array) -> Array:
        """``U[idx, :]``."""
        return self.U[idx, :]

    def right(self, R: Array) -> Array:
        """``R @ U`` for a few rows ``R``."""
        return _left(R, self.U, self.real)

    def right_h(self, R: Array) -> Array:
        """``R @ U^†``."""
        return _left(R, self.Uh, self.real)

    def diag_to(self, q: Array) -> Array:
        """``U^† Diag(q) U`` for real ``q`` (one matmul)."""
        return (self.Uh * q[None, :].astype(self.U.dtype)) @ self.U

    def diag_from(self, N: Array) -> Array:
        """``diag(U N U^†)`` for Hermitian ``N`` (one matmul; for real ``U`` the
        antisymmetric imaginary part of ``N`` has no diagonal)."""
        if self.real:
            return jnp.sum((self.U @ jnp.real(N)) * self.U, axis=1)
        return jnp.real(jnp.sum((self.U @ N) * jnp.conj(self.U), axis=1))

    def to(self, Y: Array) -> Array:
        """``U^† Y U``."""
        if self.real:
            return _left(_left(Y.T, self.U, True).T, self.U, True)
        return self.Uh @ Y @ self.U

    def from_(self, N: Array) -> Array:
        """``U N U^†``."""
        if self.real:
            return _left(_left(N.T, self.Uh, True).T, self.Uh, True)
        return self.U @ N @ self.Uh


class KroneckerBasis(NamedTuple):
    """``K = K_x ⊗ 1 + 1 ⊗ K_y``: ``U = U_x ⊗ U_y``, ``w = w_x ⊕ w_y`` (never formed)."""

    Ux: Array
    Uy: Array
    w: Array
    real: bool

    @classmethod
    def of(cls, Kx: Array, Ky: Array, real: bool) -> KroneckerBasis:
        db = DenseBasis.of(Kx, real)
        dy = DenseBasis.of(Ky, real)
        w = (db.w[:, None] + dy.w[None, :]).reshape(-1)
        return cls(db.U, dy.U, w, real)

    @property
    def shape(self) -> tuple[int, int]:
        return self.Ux.shape[0], self.Uy.shape[0]

    def _c(self, U: Array) -> Array:
        return U if self.real else jnp.conj(U)

    def rows(self, idx: Array) -> Array:
        lx, ly = self.shape
        i, j = idx // ly, idx % ly
        return (self.Ux[i, :, None] * self.Uy[j, None, :]).reshape(idx.shape[0], lx * ly)

    def right(self, R: Array) -> Array:
        lx, ly = self.shape
        T = R.reshape(R.shape[0], lx, ly)
        T = jnp.einsum("sij,ia->saj", T, self.Ux)
        return jnp.einsum("saj,jb->sab", T, self.Uy).reshape(R.shape)

    def right_h(self, R: Array) -> Array:
        lx, ly = self.shape
        T = R.reshape(R.shape[0], lx, ly)
        T = jnp.einsum("sab,ia->sib", T, self._c(self.Ux))
        return jnp.einsum("sib,jb->sij", T, self._c(self.Uy)).reshape(R.shape)

    def _pairs(self, U: Array, conj_first: bool) -> Array:
        # [i, (a, c)] = conj?(U[i, a]) conj?(U[i, c]): the Kronecker factor of Diag(e_i).
        l = U.shape[0]
        first, second = (self._c(U), U) if conj_first else (U, self._c(U))
        return (first[:, :, None] * second[:, None, :]).reshape(l, l * l)

    def diag_to(self, q: Array) -> Array:
        """``U^† Diag(q) U``: ``O(L l_y² + l_x L²)``."""
        lx, ly = self.shape
        L = lx * ly
        T = q.reshape(lx, ly).astype(self.Uy.dtype) @ self._pairs(self.Uy, True)
        S = self._pairs(self.Ux, True).T @ T  # [(a, c), (b, d)]
        return S.reshape(lx, lx, ly, ly).transpose(0, 2, 1, 3).reshape(L, L)

    def diag_from(self, N: Array) -> Array:
        """``diag(U N U^†)`` for Hermitian ``N``."""
        lx, ly = self.shape
        M = jnp.real(N) if self.real else N
        M = M.reshape(lx, ly, lx, ly).transpose(0, 2, 1, 3).reshape(lx * lx, ly * ly)
        T = self._pairs(self.Ux, False) @ M  # [i, (b, d)]
        d = T @ self._pairs(self.Uy, False).T  # [i, j]
        return jnp.real(d).reshape(-1)

    def _sandwich(self, Y: Array, left_x, left_y, right_x, right_y) -> Array:
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
        """``U^† Y U``."""
        return self._sandwich_split(Y, self._c(self.Ux), self._c(self.Uy), self.Ux, self.Uy)

    def from_(self, N: Array) -> Array:
        """``U N U^†``."""
        return self._sandwich_split(N, self.Ux.T, self.Uy.T, self._c(self.Ux).T,
                                    self._c(self.Uy).T)
