"""Two-level preconditioner of the packed reset Lindbladian (``conj ∘ L``).

``L = -ic[H, ·] + Σ_j γ_j(Π_j - 1)`` with the reset projectors ``Π_A = τ_A ⊗ tr_A``,
``Π_B = tr_B ⊗ τ_B``. The dissipator annihilates the
*slow space* ``Π = Π_A Π_B`` (states ``τ_A ⊗ ρ_C ⊗ τ_B``), where ``L`` is small (``O(c)``
coherent, ``O(c²)`` dissipative): there the Krylov method sees eigenvalues on both sides
of the origin, which is what makes unpreconditioned (or dissipator-only preconditioned)
GMRES stall for weak coupling. We invert the two parts separately:

* fast part ``(1 - Π)``: for ``|c| · spread(spec H) <= 3Γ`` the exact inverse of the
  dissipator there, seed 004 eq. (7.10) (``O(d²)``); otherwise the exact inverse of
  ``-ic[H, ·] - Γ`` (``Γ = Σ γ_j``), diagonal in the eigenbasis of ``H`` (one ``eigh``,
  then two congruences per application). The resolvent saves iterations only for strong
  driving (at the ratio 2.1 none, at 3.2 40%) and costs twice the dissipator's inverse;
* slow part: ``E (-ic[H̄, ·] - η)^{-1} E^†`` with ``E^† = tr_{A,B}``,
  ``E(r) = τ_A ⊗ r ⊗ τ_B`` and the mean-field Hamiltonian ``H̄ = tr_AB((τ_A ⊗ 1 ⊗ τ_B) H)``
  (seed 004, eq. 7.7): exact to first order in ``c``; the shift
  ``η = c² s² / (Γ + |c| s)``, ``s² = ‖H - 1 ⊗ H̄ ⊗ 1‖²_F / d``, stands in for the
  second-order (Fermi golden rule) damping of the diagonal of the slow space.

Partial Lindbladians ``L^A`` and ``L^B`` use the same construction with the single reset
they contain (slow space ``τ_A ⊗ B(H_C ⊗ H_B)``, resp. ``B(H_A ⊗ H_C) ⊗ τ_B``).

Both resolvents are :class:`_SectorResolvent`: with the static sectors of a concrete ``H``
(:mod:`jaxqep.qrm._matrix_free._structure`) their congruences are block diagonal. Without
the slow-space part, GMRES needs thousands of iterations or stalls for ``g ≲ 1`` (measured
iteration counts: :mod:`jaxqep.qrm._matrix_free._tripartite`).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ._packing import _is_real, _pack, _unpack
from ._resets import _kron_packed, _Resets, _trace_first, _trace_last
from ._structure import _pattern_reduce, _sector_labels

__all__ = ["_SectorResolvent", "_RESOLVENT_THRESHOLD", "_two_level_preconditioner"]


class _SectorResolvent:
    """``X -> U (F ∘ (U^† X U)) U^†`` on packed matrices, ``A = U diag(w) U^†``, with
    ``F_ij = 1 / (-ic(w_i - w_j) - shift)``: the exact inverse of ``-ic[A, ·] - shift``.

    With static sector ``labels`` (``A`` block diagonal on them) ``U`` is computed and
    applied sector by sector, and only the sector pairs ``(a, b)`` that the static input
    pattern ``support`` touches are transformed: for the excitation-number sectors of a
    flip-flop chain, whose states are block diagonal, this costs ``4 Σ_k C(N, k)³`` instead
    of ``4 d³`` multiply-adds (28 times fewer at ``N = 10``).
    """

    def __init__(self, a: Array, labels: np.ndarray | None, support: np.ndarray | None):
        d = a.shape[0]
        self.real = _is_real(a)
        if labels is None:
            labels = np.zeros(d, dtype=int)
        self.groups = [np.flatnonzero(labels == g) for g in range(labels.max() + 1)]
        self.perm = np.concatenate(self.groups)
        self.inv = np.argsort(self.perm)
        if support is None:
            self.pairs = [(i, j) for i in range(len(self.groups)) for j in range(len(self.groups))]
        else:
            rows, cols = np.nonzero(support)
            self.pairs = sorted(set(zip(labels[rows].tolist(), labels[cols].tolist())))
        # Sub-blocks of the (real symmetric or Hermitian) A are taken exactly, so their
        # eigenvectors are the eigenvectors of A.
        eigs = [jnp.linalg.eigh(a[g[:, None], g[None, :]]) for g in self.groups]
        self.w = [w for w, _ in eigs]
        self.u = [u for _, u in eigs]
        self.uh = [jnp.conj(u.T) for u in self.u]

    def spread(self) -> Array:
        w = jnp.concatenate(self.w)
        return jnp.max(w) - jnp.min(w)

    def __call__(self, s: Array, coef: Array, shift: Array) -> Array:
        x = s if self.real else _unpack(s)
        g = self.groups
        z = {
            (i, j): self.uh[i] @ x[g[i][:, None], g[j][None, :]] @ self.u[j] for i, j in self.pairs
        }
        out = {}
        for i, j in self.pairs:
            cw = coef * (self.w[i][:, None] - self.w[j][None, :])
            den = shift**2 + cw**2
            if self.real:
                # A real orthogonal U maps packed to packed. For X = A + iB packed to S and
                # F = F_re + i F_im with F^T = conj F: pack(X ∘ F) = A(F_re + F_im) +
                # B(F_re - F_im) = S ∘ F_re + S^T ∘ F_im; block (i, j) of S^T is z[j, i]^T.
                zij = z[i, j] * (-shift / den) + z[j, i].T * (cw / den)
            else:
                zij = z[i, j] * ((-shift + 1j * cw) / den)
            out[i, j] = self.u[i] @ zij @ self.uh[j]
        n = [len(gi) for gi in g]
        rows = [
            jnp.concatenate(
                [
                    out[i, j] if (i, j) in out else jnp.zeros((n[i], n[j]), x.dtype)
                    for j in range(len(g))
                ],
                axis=1,
            )
            for i in range(len(g))
        ]
        y = jnp.concatenate(rows, axis=0)
        if len(g) > 1:
            y = y[self.inv[:, None], self.inv[None, :]]
        return y if self.real else _pack(y)


# Below this value of |c| (spread of spec H) / Γ the Hamiltonian is a small perturbation of the
# dissipator on the fast space, and L0^{-1} (O(d²)) preconditions as well as the resolvent of
# -ic[H, ·] - Γ (two congruences, O(d³)); above it the resolvent is needed.
_RESOLVENT_THRESHOLD = 3.0


def _two_level_preconditioner(
    h: Array,
    coef: Array,
    resets: _Resets,
    fast: str = "auto",
    nz: np.ndarray | None = None,
    support: np.ndarray | None = None,
) -> Callable[[Array], Array]:
    """Packed approximate inverse of ``conj ∘ L`` (see the module docstring).

    ``nz``: static non-zero pattern of ``H`` and ``support``: static pattern of the inputs
    (:func:`._structure._invariant_support`), if known; the congruences then run sector by sector
    (:class:`_SectorResolvent`).
    """
    # Static structure first: stop_gradient turns concrete reset states into tracers.
    slow_labels = _sector_labels(resets.reduced_pattern(nz))
    slow_support = None if support is None else _pattern_reduce(support, resets)
    h, coef, resets = jax.lax.stop_gradient((h, coef, resets))
    d = h.shape[0]
    rate = resets.rate
    fast_part = _SectorResolvent(h, _sector_labels(nz), support)

    # Mean-field Hamiltonian of the slow space, H̄ = tr_R((τ_R ⊗ 1) H) (seed 004, eq. 7.7).
    hbar = resets.reduce(resets.embed_tau_identity(d, h.dtype) @ h)
    hbar = 0.5 * (hbar + jnp.conj(hbar.T))
    if _is_real(h) and _is_real(hbar):
        hbar = jnp.real(hbar)
    slow_part = _SectorResolvent(hbar, slow_labels, slow_support)
    fluct = h - resets.embed_identity(hbar)
    s2 = jnp.sum(jnp.abs(fluct) ** 2) / d
    eta = coef**2 * s2 / (rate + jnp.abs(coef) * jnp.sqrt(s2))
    # Floor: a vanishing η means the slow space is exactly invariant (no unique state);
    # the solve then fails its residual check rather than dividing by zero.
    eta = jnp.maximum(eta, 1e-12 * rate)

    use_resolvent = jnp.abs(coef) * fast_part.spread() > _RESOLVENT_THRESHOLD * rate
    both = resets.tau_a is not None and resets.tau_b is not None
    na, _, nb = resets.dims

    def apply(v: Array) -> Array:
        s = v.T  # undo the conjugation of the operator (_lindblad_packed)
        red = resets.reduce(s)
        slow = slow_part(red, coef, eta).astype(s.dtype)

        def with_dissipator(_) -> Array:
            # Exact L0^{-1} on (1 - Π) (seed 004, eq. 7.10) plus the slow part, expanded in
            # partial traces of S: one pass over d x d data instead of building 1 - Π first.
            # Two resets: L0^{-1} q = -(q + (γ_A/γ_B) Π_A q + (γ_B/γ_A) Π_B q) / Γ.
            coef_red = 1.0 / rate
            out = -s / rate
            if both:
                assert resets.tau_a is not None and resets.tau_b is not None
                ratio = resets.gamma_a / resets.gamma_b
                red_a, red_b = _trace_first(s, na), _trace_last(s, nb)
                out = out - (ratio / rate) * _kron_packed(resets.tau_a, red_a, left=True)
                out = out - (1.0 / (ratio * rate)) * _kron_packed(resets.tau_b, red_b, left=False)
                coef_red = (1.0 + ratio + 1.0 / ratio) / rate
            return out + resets.embed_packed(coef_red * red + slow)

        def with_resolvent(_) -> Array:
            q = s - resets.embed_packed(red)
            return fast_part(q, coef, rate) + resets.embed_packed(slow)

        if fast == "resolvent":
            return with_resolvent(None)
        if fast == "dissipator":
            return with_dissipator(None)
        return jax.lax.cond(use_resolvent, with_resolvent, with_dissipator, None)

    return apply
