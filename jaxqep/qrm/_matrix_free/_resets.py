"""Reset structure on ``H_A ⊗ H_C ⊗ H_B`` and the packed Lindbladian of a reset model.

``L = -ic[H, ·] + Σ_j γ_j(Π_j - 1)`` with the reset projectors ``Π_A = τ_A ⊗ tr_A`` and
``Π_B = tr_B ⊗ τ_B``. :class:`_Resets` holds the active resets (either may be switched
off: the partial Lindbladians ``L^A``, ``L^B`` contain one each) and applies the partial
traces, embeddings and the dissipator on packed matrices
(:mod:`jaxqep.qrm._matrix_free._packing`) in real arithmetic; :func:`_lindblad_packed`
is the operator the GMRES of :mod:`jaxqep.qrm._matrix_free._solve` works on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ._packing import _is_real, _pack, _unpack
from ._structure import _is_concrete, _matmuls

__all__ = ["_trace_first", "_trace_last", "_Resets", "_kron_packed", "_lindblad_packed"]


def _trace_first(s: Array, n: int) -> Array:
    """Partial trace over a leading factor of dimension ``n`` (any ``s``, packed or not)."""
    m = s.shape[0] // n
    s4 = s.reshape(n, m, n, m)
    out = s4[0, :, 0, :]
    for a in range(1, n):
        out = out + s4[a, :, a, :]
    return out


def _trace_last(s: Array, n: int) -> Array:
    """Partial trace over a trailing factor of dimension ``n``."""
    m = s.shape[0] // n
    s4 = s.reshape(m, n, m, n)
    out = s4[:, 0, :, 0]
    for a in range(1, n):
        out = out + s4[:, a, :, a]
    return out


class _Resets(eqx.Module):
    """Resets acting on the first and/or last factor of ``H_A ⊗ H_C ⊗ H_B``.

    ``tau_a``/``tau_b`` set to ``None`` switch that reset off; the slow space is
    ``τ_A ⊗ B(rest) ⊗ τ_B`` with only the active resets.
    """

    tau_a: Array | None
    tau_b: Array | None
    gamma_a: Array
    gamma_b: Array
    dims: tuple[int, int, int] = eqx.field(static=True)

    @property
    def rate(self) -> Array:
        out = 0.0
        if self.tau_a is not None:
            out = out + self.gamma_a
        if self.tau_b is not None:
            out = out + self.gamma_b
        return jnp.asarray(out)

    def reduce(self, x: Array) -> Array:
        """``E^†``: partial trace over the reset factors (commutes with packing)."""
        na, _, nb = self.dims
        if self.tau_a is not None:
            x = _trace_first(x, na)
        if self.tau_b is not None:
            x = _trace_last(x, nb)
        return x

    def embed_packed(self, r: Array) -> Array:
        """Packed ``E(r) = τ_A ⊗ r ⊗ τ_B`` (active resets) from packed ``r``."""
        if self.tau_b is not None:
            r = _kron_packed(self.tau_b, r, left=False)
        if self.tau_a is not None:
            r = _kron_packed(self.tau_a, r, left=True)
        return r

    def embed_identity(self, r: Array) -> Array:
        """``r -> 1_A ⊗ r ⊗ 1_B`` with the active resets."""
        na, _, nb = self.dims
        if self.tau_b is not None:
            r = jnp.kron(r, jnp.eye(nb, dtype=r.dtype))
        if self.tau_a is not None:
            r = jnp.kron(jnp.eye(na, dtype=r.dtype), r)
        return r

    def embed_tau_identity(self, d: int, dtype) -> Array:
        """``τ_A ⊗ 1 ⊗ τ_B`` on the full space (active resets only)."""
        na, _, nb = self.dims
        inner = d // (na if self.tau_a is not None else 1) // (nb if self.tau_b is not None else 1)
        out = jnp.eye(inner, dtype=dtype)
        if self.tau_b is not None:
            out = jnp.kron(out, self.tau_b)
        if self.tau_a is not None:
            out = jnp.kron(self.tau_a, out)
        return out

    def reduced_pattern(self, nz: np.ndarray | None) -> np.ndarray | None:
        """Pattern of ``H̄ = tr_R((τ_R ⊗ 1) H)`` from the pattern of ``H`` (see
        :mod:`._preconditioner`)."""
        if nz is None:
            return None
        na, _, nb = self.dims
        for tau, n, first in ((self.tau_a, na, True), (self.tau_b, nb, False)):
            if tau is None:
                continue
            # H̄ sums the blocks H[(a, ·), (a', ·)] weighted by τ[a', a] (all of them if τ
            # is traced).
            w = np.ones((n, n), bool) if not _is_concrete(tau) else (np.asarray(tau) != 0)
            m = nz.shape[0] // n
            nz4 = nz.reshape(n, m, n, m) if first else nz.reshape(m, n, m, n)
            out = np.zeros((m, m), bool)
            for a in range(n):
                for b in range(n):
                    if w[b, a]:
                        out |= nz4[a, :, b, :] if first else nz4[:, a, :, b]
            nz = out | out.T
        return nz

    def dissipator_packed(self, s: Array) -> Array:
        """Packed ``Σ_j γ_j (τ_j ⊗ tr_j X - X)`` for packed ``X`` (real arithmetic).

        ``τ ⊗ Y`` packs to ``Re τ ⊗ pack(Y) + Im τ ⊗ pack(Y)^T`` and partial traces
        commute with packing, so no complex intermediate is needed.
        """
        na, _, nb = self.dims
        out = -self.rate * s
        if self.tau_a is not None:
            out = out + self.gamma_a * _kron_packed(self.tau_a, _trace_first(s, na), left=True)
        if self.tau_b is not None:
            out = out + self.gamma_b * _kron_packed(self.tau_b, _trace_last(s, nb), left=False)
        return out


def _kron_packed(tau: Array, red: Array, left: bool) -> Array:
    """Packed ``τ ⊗ Y`` (``left``) or ``Y ⊗ τ`` from packed ``Y``."""
    terms = [(jnp.real(tau), red)]
    if jnp.iscomplexobj(tau):
        terms.append((jnp.imag(tau), red.T))
    out = 0.0
    for t, y in terms:
        t = t.astype(red.dtype)
        out = out + (jnp.kron(t, y) if left else jnp.kron(y, t))
    return cast(Array, out)


def _lindblad_packed(
    h: Array, coef: Array, resets: _Resets, ell: tuple[np.ndarray, np.ndarray] | None = None
) -> Callable[[Array], Array]:
    """``S -> pack(conj L(X))`` for packed ``S = pack(X)``, ``L = -ic[H, ·] + D``.

    Packing turns complex conjugation into transposition (``pack(X̄) = pack(X)^T``). Solving
    ``conj ∘ L`` instead of ``L`` changes neither the bordered system (``conj`` is orthogonal
    and fixes ``b = I/d``) nor residual norms, but for a real ``H`` it turns the packed
    commutator ``[H, S]^T`` into ``[H, S]``: no transposed product, which for the sparse
    products would become a strided gather (several times slower). The preconditioner
    compensates (:func:`._preconditioner._two_level_preconditioner` transposes its input).
    """
    left, right = _matmuls(h, ell)

    def comm(s: Array) -> Array:
        if _is_real(h):
            return left(s) - right(s)
        x = _unpack(s)
        return _pack(-1j * (left(x) - right(x))).T

    def apply(s: Array) -> Array:
        return coef * comm(s) + resets.dissipator_packed(s).T

    return apply
