"""Hermitian packing: Hermitian ``d x d`` matrices stored as real ``d x d`` matrices.

``L`` maps Hermitian matrices to Hermitian matrices, so the unknown is stored as the
*real* matrix ``S = Re X + Im X`` (symmetric plus antisymmetric part,
``X = sym(S) + i asym(S)``). Krylov vectors are then real, and for a real Hamiltonian the
expensive steps (commutator, change to the eigenbasis of ``H``) are real. Packing maps
complex conjugation to transposition, and the tripartite solves use ``conj ∘ L`` (same
solution, same residual norms): its packed commutator is ``[H, S]``, with no transposed
product (see :func:`jaxqep.qrm._matrix_free._resets._lindblad_packed`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array

__all__ = ["_pack", "_unpack", "_is_real"]


def _pack(x: Array) -> Array:
    """Hermitian ``X`` -> real ``Re X + Im X`` (lossless for Hermitian ``X``)."""
    return jnp.real(x) + jnp.imag(x)


def _unpack(s: Array) -> Array:
    """Inverse of :func:`_pack`: ``sym(S) + i asym(S)``."""
    st = s.T
    return jax.lax.complex(0.5 * (s + st), 0.5 * (s - st))


def _is_real(a: Array) -> bool:
    return not jnp.iscomplexobj(a)
