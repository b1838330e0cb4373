"""Matrix-free steady states and entropy production of large tripartite reset models.

For an N-qubit chain with resets on its end sites the Liouvillian has ``4^N x 4^N``
entries; nothing here builds it. Every Lindbladian is applied as a function on ``d x d``
matrices and the bordered steady-state system ``L(x) + u tr(x) = u`` (``u = I/d``, as in
``jaxqep._steady``) is solved by restarted, right-preconditioned GMRES (our own, see
:class:`_GMRES`, plugged into ``lineax.linear_solve``), which differentiates implicitly
(one adjoint Krylov solve, never a backpropagation through the iterations).

**Hermitian packing.** ``L`` maps Hermitian matrices to Hermitian matrices, so the unknown
is stored as the *real* matrix ``S = Re X + Im X`` (symmetric plus antisymmetric part,
``X = sym(S) + i asym(S)``). Krylov vectors are then real, and for a real Hamiltonian the
expensive steps (commutator, change to the eigenbasis of ``H``) are real. Packing maps
complex conjugation to transposition, and the tripartite solves use ``conj ∘ L`` (same
solution, same residual norms): its packed commutator is ``[H, S]``, with no transposed
product (see :func:`_lindblad_packed`).

**Preconditioner (two-level).** ``L = -ic[H, ·] + Σ_j γ_j(Π_j - 1)`` with the reset
projectors ``Π_A = τ_A ⊗ tr_A``, ``Π_B = tr_B ⊗ τ_B``. The dissipator annihilates the
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

**Static structure of a concrete H.** When ``H`` is concrete at trace time (closed over,
not a jit argument; the public entry points validate ``H`` and so trace it), three
structures are read from its non-zero pattern, all optional and exact:

* sparse products: with at most ``d/16`` non-zeros per row, ``H X`` and ``X H`` are
  gathers along a static ELL pattern (values still gathered from ``H``), not dense
  products (:func:`_matmuls`);
* sectors: the connected components of the pattern (a conserved quantity) make the
  congruences of both resolvents block diagonal (:class:`_SectorResolvent`);
* Krylov support: the entries that the Krylov space can reach from ``u`` under ``L`` and
  the preconditioner; GMRES then stores and orthogonalises only those
  (:func:`_invariant_support`). For the chain (excitation number conserved, diagonal
  ``τ``) the states are block diagonal: ``C(2N, N)`` entries, ``d² / 5.7`` at N = 10.

Measured on ``models.reset_chain`` (λ = 0.3, restart 60), GMRES iterations for
``ρ, ρ^A, ρ^B``: N = 6: 37/50/45 (g = 0.01) to 73/66/76 (g = 1), 115/97/92 (g = 3) and
111/119/98 (g = 30); N = 8: 96/119/79 (g = 0.1), 111/159/99 (g = 1), 153/204/113 (g = 3);
N = 10: 125/269/100 (g = 0.1), 163/226/119 (g = 1), 184/337/146 (g = 3). Without the
slow-space part, GMRES needs thousands of iterations or stalls for ``g ≲ 1``. On 2 CPU
cores, ``benchmarks/bench_chain.py`` at N = 10 (d = 1024, g = 1) takes 13 s for the three
states and σ with a concrete ``H`` and 53 s with ``H`` traced (dense products, full
Krylov vectors), against 99 s before the structure, the ``conj ∘ L`` form, chunked and
selective Gram-Schmidt and restart 60; an iteration then costs about 20 ms, half of it
in ``L`` and the preconditioner, and logm of the three states about 2 s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import equinox as eqx
import jax
import jax.flatten_util
import jax.numpy as jnp
import lineax as lx
import numpy as np
from jaxtyping import Array, ArrayLike

from .._errors import error_if
from .._solution import RESULTS
from ._results import EntropyProduction
from ._tripartite import tripartite_result, validate_coupling, validate_tripartite

__all__ = [
    "MatrixFreeSteadyState",
    "TripartiteSteadyStates",
    "steady_state_matrix_free",
    "tripartite_steady_states_iterative",
    "tripartite_entropy_production_iterative",
]


# --------------------------------------------------------------------------------------
# Hermitian packing
# --------------------------------------------------------------------------------------


def _pack(x: Array) -> Array:
    """Hermitian ``X`` -> real ``Re X + Im X`` (lossless for Hermitian ``X``)."""
    return jnp.real(x) + jnp.imag(x)


def _unpack(s: Array) -> Array:
    """Inverse of :func:`_pack`: ``sym(S) + i asym(S)``."""
    st = s.T
    return jax.lax.complex(0.5 * (s + st), 0.5 * (s - st))


def _is_real(a: Array) -> bool:
    return not jnp.iscomplexobj(a)


# --------------------------------------------------------------------------------------
# Static structure of a concrete Hamiltonian: sparsity and conserved quantities
# --------------------------------------------------------------------------------------

# Sparse (ELL) products with H when at most this fraction of a row is non-zero.
_SPARSE_MAX_FILL = 1 / 16


def _is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)  # pyright: ignore[reportAttributeAccessIssue]


def _nonzero_pattern(h: Array) -> np.ndarray | None:
    """Symmetrised non-zero pattern of ``H`` if it is concrete at trace time, else ``None``."""
    if not _is_concrete(h):
        return None
    nz = np.asarray(h) != 0
    return nz | nz.T


def _ell_pattern(nz: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Static ELL pattern ``(col, valid)`` of a sparse pattern, ``None`` if dense or unknown.

    Row ``i`` has its non-zeros in columns ``col[i, valid[i]]``; padding repeats ``i``.
    The pattern is symmetric, so it serves ``H^T`` as well.
    """
    if nz is None:
        return None
    d = nz.shape[0]
    counts = nz.sum(axis=1)
    k = max(int(counts.max(initial=0)), 1)
    if k > _SPARSE_MAX_FILL * d:
        return None
    order = np.argsort(~nz, axis=1, kind="stable")[:, :k]  # non-zero columns first
    valid = np.arange(k)[None, :] < counts[:, None]
    col = np.where(valid, order, np.arange(d)[:, None]).astype(np.int32)
    return col, valid


def _matmuls(
    h: Array, ell: tuple[np.ndarray, np.ndarray] | None
) -> tuple[Callable[[Array], Array], Callable[[Array], Array]]:
    """``(X -> H X, X -> X H)``: dense products, or gathers along a static ELL pattern.

    The values are gathered from ``h`` (a traced array is fine), so gradients with
    respect to ``H`` flow through them; only the pattern is frozen.
    """
    if ell is None:
        return (lambda x: h @ x), (lambda x: x @ h)
    col, valid = ell
    rows = np.arange(col.shape[0])[:, None]
    zero = jnp.zeros((), h.dtype)
    vals = jnp.where(valid, h[rows, col], zero)  # H[i, col[i, k]]
    vals_t = jnp.where(valid, h[col, rows], zero)  # H[col[j, k], j]

    def left(x: Array) -> Array:
        # (H X)[i, :] = Σ_k H[i, c_ik] X[c_ik, :]: whole-row gathers, contiguous reads.
        out = vals[:, 0, None] * x[col[:, 0]]
        for k in range(1, col.shape[1]):
            out = out + vals[:, k, None] * x[col[:, k]]
        return out

    def right(x: Array) -> Array:
        # (X H)[:, j] = Σ_k X[:, c_jk] H[c_jk, j]: gathers within each row of X.
        out = x[:, col[:, 0]] * vals_t[None, :, 0]
        for k in range(1, col.shape[1]):
            out = out + x[:, col[:, k]] * vals_t[None, :, k]
        return out

    return left, right


def _components(nz: np.ndarray) -> np.ndarray:
    """Connected-component label (its smallest index) of every index of a symmetric pattern."""
    i, j = np.nonzero(nz)
    lab = np.arange(nz.shape[0])
    while True:
        new = lab.copy()
        np.minimum.at(new, i, lab[j])
        new = new[new]  # pointer jumping: labels only decrease, within a component
        if np.array_equal(new, lab):
            return lab
        lab = new


def _sector_labels(nz: np.ndarray | None, max_groups: int = 16) -> np.ndarray | None:
    """Sector of every basis index for a matrix with pattern ``nz``, or ``None``.

    Sectors are the connected components of the pattern (the eigenspaces of a conserved
    quantity, e.g. the excitation number of a flip-flop chain): the matrix is block diagonal
    on them. Beyond ``max_groups`` components, small ones are packed first-fit into groups
    (still block diagonal) so that the number of small products stays bounded. ``None``
    when the pattern is unknown or connected.
    """
    if nz is None:
        return None
    lab = np.unique(_components(nz), return_inverse=True)[1].reshape(-1)
    sizes = np.bincount(lab)
    if sizes.size == 1:
        return None
    if sizes.size > max_groups:
        cap = max(int(sizes.max()), -(-nz.shape[0] // max_groups))
        group = np.empty(sizes.size, dtype=int)
        loads: list[int] = []
        for c in np.argsort(-sizes, kind="stable"):
            g = next((g for g, load in enumerate(loads) if load + sizes[c] <= cap), len(loads))
            if g == len(loads):
                loads.append(0)
            loads[g] += int(sizes[c])
            group[c] = g
        lab = group[lab]
    return lab


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


# --------------------------------------------------------------------------------------
# Reset structure on H_A ⊗ H_C ⊗ H_B
# --------------------------------------------------------------------------------------


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
        """Pattern of ``H̄ = tr_R((τ_R ⊗ 1) H)`` from the pattern of ``H`` (see above)."""
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
    compensates (:func:`_two_level_preconditioner` transposes its input).
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
    (:func:`_invariant_support`), if known; the congruences then run sector by sector
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


def _pattern_trace(p: np.ndarray, n: int, first: bool) -> np.ndarray:
    """Pattern of a partial trace over a leading (``first``) or trailing factor ``n``."""
    m = p.shape[0] // n
    p4 = p.reshape(n, m, n, m) if first else p.reshape(m, n, m, n)
    return np.any([p4[a, :, a, :] if first else p4[:, a, :, a] for a in range(n)], axis=0)


def _pattern_reduce(p: np.ndarray, resets: _Resets) -> np.ndarray:
    """Pattern of ``E^†(X)`` for ``X`` with pattern ``p``."""
    na, _, nb = resets.dims
    if resets.tau_a is not None:
        p = _pattern_trace(p, na, first=True)
    if resets.tau_b is not None:
        p = _pattern_trace(p, nb, first=False)
    return p


def _invariant_support(nz: np.ndarray | None, resets: _Resets) -> np.ndarray | None:
    """Static pattern of the Krylov space of a reset model: the smallest set of entries
    ``(i, j)`` that contains the diagonal (``u = I/d``) and is mapped into itself by ``L``
    and by the two-level preconditioner. ``None`` if ``H`` is not concrete or the pattern
    covers more than half of the matrix.

    A conserved quantity of ``H`` that the resets respect (the excitation number of a
    flip-flop chain with diagonal reset states) keeps every Krylov vector block diagonal
    in its sectors: ``Σ_k C(N, k)² ≈ d² / 5.7`` entries at ``N = 10``, so Gram-Schmidt,
    bound by reading the basis, moves 5.7 times less memory, and only those entries of
    ``L(S)`` are computed. ``L`` maps the pattern into itself exactly (products with
    zeros), so restricting the unknowns changes no solution.

    Closure, on the sector pairs of ``H`` (``[H, ·]`` and functions of it keep a product
    of two sectors): partial traces and ``τ ⊗ ·`` of the resets (by the non-zeros of the
    ``τ``, all of them if traced), and the slow part ``E f(H̄) E^†``, which keeps products
    of the sectors of ``H̄``.
    """
    if nz is None:
        return None
    d = nz.shape[0]
    na, _, nb = resets.dims
    lab = np.unique(_components(nz), return_inverse=True)[1].reshape(-1)
    slow_nz = resets.reduced_pattern(nz)
    assert slow_nz is not None
    lab_c = np.unique(_components(slow_nz), return_inverse=True)[1].reshape(-1)

    def tau_pattern(tau: Array, n: int) -> np.ndarray:
        return np.asarray(tau) != 0 if _is_concrete(tau) else np.ones((n, n), bool)

    def sector_closure(p: np.ndarray, labels: np.ndarray) -> np.ndarray:
        blocks = np.zeros((labels.max() + 1,) * 2, bool)
        i, j = np.nonzero(p)
        blocks[labels[i], labels[j]] = True
        return blocks[labels[:, None], labels[None, :]]

    p = sector_closure(np.eye(d, dtype=bool), lab)
    while True:
        q = p.copy()
        red = p
        if resets.tau_a is not None:
            q |= np.kron(tau_pattern(resets.tau_a, na), _pattern_trace(p, na, first=True))
            red = _pattern_trace(red, na, first=True)
        if resets.tau_b is not None:
            q |= np.kron(_pattern_trace(p, nb, first=False), tau_pattern(resets.tau_b, nb))
            red = _pattern_trace(red, nb, first=False)
        red = sector_closure(red, lab_c)
        if resets.tau_b is not None:
            red = np.kron(red, tau_pattern(resets.tau_b, nb))
        if resets.tau_a is not None:
            red = np.kron(tau_pattern(resets.tau_a, na), red)
        q = sector_closure(q | red, lab)
        if np.array_equal(q, p):
            break
        p = q
    return p if p.mean() <= 0.5 else None


# --------------------------------------------------------------------------------------
# Right-preconditioned restarted GMRES as a lineax solver
# --------------------------------------------------------------------------------------


class _GMRES(lx.AbstractLinearSolver):
    """Restarted GMRES(m), right-preconditioned, for real vectors.

    Why not ``lx.GMRES``: lineax 0.1.1 orthogonalises by one pass of classical
    Gram-Schmidt and stops on the *preconditioned* residual; on our ill-conditioned
    reset models (weak coupling) that loses orthogonality and stagnates after hundreds
    of iterations where a stable GMRES needs tens. Here: classical Gram-Schmidt with
    selective re-orthogonalisation (CGS2), Givens rotations, and a stopping rule on the *true*
    residual ``‖b - A x‖_2 <= atol + rtol ‖b‖`` (right preconditioning minimises it).
    Being a lineax solver, it inherits lineax's implicit differentiation: JVPs solve
    with ``A`` and VJPs with ``A^T`` (preconditioner transposed alike).

    The Krylov basis is stored in chunks of ``chunk`` vectors and each Gram-Schmidt pass
    only touches the chunks in use (``lax.cond`` per chunk): for long vectors the passes
    are memory bound, and a masked product over the whole basis would read on average
    twice the vectors needed.
    """

    rtol: float
    atol: float
    restart: int = 60
    max_steps: int = 3000
    stagnation_cycles: int = 10
    chunk: int = 8

    def init(self, operator, options):
        del options
        return operator

    def compute(self, state, vector, options):
        operator = state
        precond = options.get("preconditioner")
        b, unravel = jax.flatten_util.ravel_pytree(vector)
        if jnp.iscomplexobj(b):
            raise TypeError("_GMRES works on real vectors (pack Hermitian matrices first)")

        def mv(v):
            return jax.flatten_util.ravel_pytree(operator.mv(unravel(v)))[0]

        def pc(v):
            if precond is None:
                return v
            return jax.flatten_util.ravel_pytree(precond.mv(unravel(v)))[0]

        n = b.size
        m = min(self.restart, n)
        dtype = b.dtype
        bnorm = jnp.linalg.norm(b)

        target = self.atol + self.rtol * bnorm

        def converged(x, rnorm, anorm):
            # ‖r‖ <= target, or else a normwise backward error (Rigal-Gaches) ‖r‖ <=
            # rtol (‖b‖ + ‖A‖ ‖x‖). At rtol ~ 1e-14 the first can sit at the rounding floor
            # eps ‖A‖ ‖x‖ of the residual itself when ‖x‖ >> ‖b‖ / ‖A‖ (adjoint solves), and
            # is then met or missed by chance. Iterations still aim at the first: σ is
            # sensitive enough to ρ that the looser test alone costs digits (3e-9 relative
            # at N = 6).
            backward = self.atol + self.rtol * (bnorm + anorm * jnp.linalg.norm(x))
            return rnorm <= jnp.maximum(target, backward)

        tiny = jnp.finfo(dtype).tiny ** 0.5
        c = max(1, min(self.chunk, m + 1))
        nch = -(-(m + 1) // c)  # chunks holding the m + 1 basis vectors

        def get_row(chunks, row):
            branches = [lambda chs, k=k: chs[k][row % c] for k in range(nch)]
            return jax.lax.switch(row // c, branches, chunks)

        def set_row(chunks, row, v):
            return tuple(
                jax.lax.cond(
                    row // c == k, lambda bk, v: bk.at[row % c].set(v), lambda bk, v: bk, bk, v
                )
                for k, bk in enumerate(chunks)
            )

        def dots(chunks, w, j):
            """``V^T w`` over the vectors ``0..j`` (zeros beyond)."""
            parts = [
                jax.lax.cond(
                    k * c <= j, lambda bk, w: bk @ w, lambda bk, w: jnp.zeros(c, dtype), bk, w
                )
                for k, bk in enumerate(chunks)
            ]
            return jnp.where(jnp.arange(nch * c) <= j, jnp.concatenate(parts), 0.0)

        def subtract(chunks, coeffs, w, j):
            """``w - V coeffs`` over the vectors ``0..j``."""
            for k, bk in enumerate(chunks):
                w = jax.lax.cond(
                    k * c <= j,
                    lambda w, bk, ck: w - ck @ bk,
                    lambda w, bk, ck: w,
                    w,
                    bk,
                    coeffs[k * c : (k + 1) * c],
                )
            return w

        def cycle(x, r, rnorm, steps, anorm):
            chunks = tuple(jnp.zeros((c, n), dtype) for _ in range(nch))
            chunks = set_row(chunks, 0, r / rnorm)
            hess = jnp.zeros((m + 1, m), dtype)
            cs = jnp.zeros(m, dtype)
            sn = jnp.zeros(m, dtype)
            gvec = jnp.zeros(m + 1, dtype).at[0].set(rnorm)

            def inner_cond(carry):
                j, _, _, _, _, gvec, done, _ = carry
                return (j < m) & (jnp.abs(gvec[j]) > target) & (steps + j < self.max_steps) & ~done

            def inner_body(carry):
                j, chunks, hess, cs, sn, gvec, _, anorm = carry
                z = pc(get_row(chunks, j))
                w = mv(z)
                h = dots(chunks, w, j)
                w0n = jnp.linalg.norm(w)
                # ‖A z‖ / ‖z‖ over the Krylov directions: a lower bound of ‖A‖, close after
                # a few steps (for the backward error in `converged`).
                zn = jnp.linalg.norm(z)
                anorm = jnp.maximum(anorm, w0n / jnp.where(zn > 0, zn, 1.0))
                w = subtract(chunks, h, w, j)
                hn = jnp.linalg.norm(w)

                def reorthogonalise(args):
                    w, h = args
                    h2 = dots(chunks, w, j)
                    return subtract(chunks, h2, w, j), h + h2

                # Selective second classical Gram-Schmidt pass ("twice is enough"), when the
                # first cancelled more than 90% of w: the rounding error of the new direction
                # is then ~10 eps at most. Kahan-Parlett's 1/√2 would fire at nearly every
                # step (a good preconditioner makes A M v_j close to v_j) for no change of
                # the iteration counts, measured at N = 6, 8 and g in [0.01, 30].
                w, h = jax.lax.cond(hn < 0.1 * w0n, reorthogonalise, lambda args: args, (w, h))
                h = h[: m + 1]
                hn = jnp.linalg.norm(w)
                breakdown = hn <= tiny * (1.0 + jnp.linalg.norm(h))
                safe = jnp.where(breakdown, 1.0, hn)
                chunks = set_row(chunks, j + 1, jnp.where(breakdown, 0.0, w / safe))

                def rot(i, hh):
                    t = cs[i] * hh[i] + sn[i] * hh[i + 1]
                    u = -sn[i] * hh[i] + cs[i] * hh[i + 1]
                    keep = i < j
                    return (
                        hh.at[i]
                        .set(jnp.where(keep, t, hh[i]))
                        .at[i + 1]
                        .set(jnp.where(keep, u, hh[i + 1]))
                    )

                h = jax.lax.fori_loop(0, m, rot, h.at[j + 1].set(hn))
                a, bb = h[j], h[j + 1]
                rho = jnp.hypot(a, bb)
                c_j = jnp.where(rho > 0, a / jnp.where(rho > 0, rho, 1.0), 1.0)
                s_j = jnp.where(rho > 0, bb / jnp.where(rho > 0, rho, 1.0), 0.0)
                h = h.at[j].set(rho).at[j + 1].set(0.0)
                hess = hess.at[:, j].set(h)
                cs = cs.at[j].set(c_j)
                sn = sn.at[j].set(s_j)
                gj = gvec[j]
                gvec = gvec.at[j].set(c_j * gj).at[j + 1].set(-s_j * gj)
                return j + 1, chunks, hess, cs, sn, gvec, breakdown, anorm

            k, chunks, hess, _, _, gvec, _, anorm = jax.lax.while_loop(
                inner_cond, inner_body, (0, chunks, hess, cs, sn, gvec, False, anorm)
            )
            idx = jnp.arange(m)
            used = idx < k
            rmat = hess[:m, :m]
            diag = jnp.where(used & (jnp.diagonal(rmat) != 0), jnp.diagonal(rmat), 1.0)
            rmat = jnp.where(used[:, None] & used[None, :], rmat, 0.0)
            rmat = rmat.at[idx, idx].set(diag)
            y = jax.scipy.linalg.solve_triangular(rmat, jnp.where(used, gvec[:m], 0.0))
            y = jnp.zeros(nch * c, dtype).at[:m].set(y)
            x = x - pc(subtract(chunks, y, jnp.zeros(n, dtype), k - 1))  # x + M V y
            r = b - mv(x)
            return x, r, jnp.linalg.norm(r), steps + k, anorm

        def outer_cond(carry):
            _, _, rnorm, steps, stall, _ = carry
            return (rnorm > target) & (steps < self.max_steps) & (stall < self.stagnation_cycles)

        def outer_body(carry):
            x, r, rnorm, steps, stall, anorm = carry
            x, r, new_norm, steps, anorm = cycle(x, r, rnorm, steps, anorm)
            stall = jnp.where(new_norm < 0.9 * rnorm, 0, stall + 1)
            return x, r, new_norm, steps, stall, anorm

        x0 = jnp.zeros_like(b)
        zero = jnp.zeros((), dtype)
        x, _, rnorm, steps, stall, anorm = jax.lax.while_loop(
            outer_cond, outer_body, (x0, b, bnorm, jnp.array(0), jnp.array(0), zero)
        )
        result = lx.RESULTS.where(
            converged(x, rnorm, anorm),
            lx.RESULTS.successful,
            lx.RESULTS.where(
                stall >= self.stagnation_cycles,
                lx.RESULTS.stagnation,
                lx.RESULTS.max_steps_reached,
            ),
        )
        return unravel(x), result, {"num_steps": steps, "residual_norm": rnorm}

    def transpose(self, state, options):
        out = {}
        if "preconditioner" in options:
            out["preconditioner"] = options["preconditioner"].transpose()
        return state.transpose(), out

    def conj(self, state, options):
        out = {}
        if "preconditioner" in options:
            out["preconditioner"] = lx.conj(options["preconditioner"])
        return lx.conj(state), out

    def assume_full_rank(self):
        return True


# --------------------------------------------------------------------------------------
# Bordered Krylov solve
# --------------------------------------------------------------------------------------


class MatrixFreeSteadyState(eqx.Module):
    """A steady state from a matrix-free Krylov solve, with its convergence report.

    Attributes:
        rho: the density matrix (Hermitian, unit trace), shape ``(d, d)``.
        residual: ``‖L(ρ)‖_F`` recomputed at the returned state.
        iterations: GMRES iterations spent (preconditioned applications of ``L``,
            not counting one residual evaluation per restart).
        converged: whether GMRES met its tolerance (``‖b - A x‖ <= tol ‖b‖`` for the
            bordered system) and ``residual <= residual_tol``.
    """

    rho: Array
    residual: Array
    iterations: Array
    converged: Array


_DEFAULTS = dict(
    tol=1e-14, residual_tol=1e-10, max_iterations=3000, restart=60, stagnation_cycles=10
)


def _options(solver_options: dict) -> dict:
    unknown = set(solver_options) - set(_DEFAULTS)
    if unknown:
        raise TypeError(f"unexpected solver options {sorted(unknown)}; valid: {sorted(_DEFAULTS)}")
    opts = {**_DEFAULTS, **solver_options}
    if int(opts["restart"]) < 1 or int(opts["max_iterations"]) < 1:
        raise ValueError("solver options: restart and max_iterations must be >= 1")
    return opts


def _solve_packed(
    apply_l: Callable[[Array], Array],
    precondition: Callable[[Array], Array] | None,
    d: int,
    dtype,
    opts: dict,
    name: str,
    throw: bool,
    support: np.ndarray | None = None,
) -> MatrixFreeSteadyState:
    """Solve ``L(x) + u tr(x) = u`` on packed Hermitian matrices by restarted GMRES.

    ``support``: static ``(d, d)`` pattern that contains ``u`` and is mapped into itself
    by ``L`` and the preconditioner (:func:`_invariant_support`); the Krylov vectors then
    hold only its entries.
    """
    u = jnp.eye(d, dtype=dtype) / d
    diag = np.arange(d)
    if support is None:
        flat = pos = None
        structure = jax.ShapeDtypeStruct((d, d), dtype)
    else:
        flat = np.flatnonzero(support)
        pos = np.cumsum(support.ravel()).reshape(d, d) - 1  # index in the compressed vector
        structure = jax.ShapeDtypeStruct((flat.size,), dtype)

    def to_full(v: Array) -> Array:
        if flat is None:
            return v
        # A scatter, not a gather: XLA fuses a gather into its consumers, and the
        # preconditioner's output would be recomputed by each of the ELL gathers of L.
        out = jnp.zeros(d * d, dtype).at[flat].set(v, indices_are_sorted=True, unique_indices=True)
        return out.reshape(d, d)

    def to_vec(s: Array) -> Array:
        return s if flat is None else s.reshape(-1)[flat]

    def trace(v: Array) -> Array:
        return jnp.sum(v[diag, diag] if pos is None else v[pos[diag, diag]])

    u_vec = to_vec(u)
    # The trace is taken on the diagonal entries only: a full-matrix reduction here would
    # pull the whole operator into one (YNNPACK) fusion with materialised gathers, 7 times
    # slower on XLA:CPU. Likewise only the kept entries of L(S) are computed (to_vec fuses).
    operator = lx.FunctionLinearOperator(
        lambda v: to_vec(apply_l(to_full(v))) + trace(v) * u_vec, structure
    )
    tol = float(opts["tol"])
    solver = _GMRES(
        rtol=tol,
        atol=0.0,
        restart=min(int(opts["restart"]), int(np.prod(structure.shape))),
        max_steps=int(opts["max_iterations"]),
        stagnation_cycles=int(opts["stagnation_cycles"]),
    )
    options = {}
    if precondition is not None:
        options["preconditioner"] = lx.FunctionLinearOperator(
            lambda v: to_vec(precondition(to_full(v))), structure
        )
    sol = lx.linear_solve(operator, u_vec, solver, options=options, throw=False)
    s = to_full(sol.value / trace(sol.value))  # tr L = 0: removes rounding drift only
    residual = jnp.linalg.norm(apply_l(s))  # ‖pack(X)‖_F = ‖X‖_F for Hermitian X
    iterations = sol.stats["num_steps"]
    ok = (
        (sol.result == lx.RESULTS.successful)
        & jnp.isfinite(residual)
        & (residual <= opts["residual_tol"])
    )
    if throw:
        s = error_if(
            s,
            ~ok,
            f"{name}: the matrix-free steady-state solve did not converge (residual "
            f"tolerance tol={opts['tol']:g} not met, or ‖L(ρ)‖ above residual_tol="
            f"{opts['residual_tol']:g}, at the iteration cap or on stagnation). Raise "
            "max_iterations or restart, or loosen the tolerances; a Lindbladian without a "
            "unique steady state also ends here.",
            RESULTS.not_converged,
        )
    return MatrixFreeSteadyState(
        rho=_unpack(s), residual=residual, iterations=iterations, converged=ok
    )


def steady_state_matrix_free(
    apply_L: Callable[[Array], Array],
    d: int,
    *,
    preconditioner: Callable[[Array], Array] | None = None,
    dtype=None,
    throw: bool = True,
    **solver_options,
) -> MatrixFreeSteadyState:
    """Unique steady state of a Lindbladian given as a function, by preconditioned GMRES.

    Solves ``L(ρ) = 0, tr ρ = 1`` through the bordered system ``L(x) + tr(x) I/d = I/d``
    (well posed iff ``ker L`` is one-dimensional) over Hermitian matrices. The solve is
    implicitly differentiable (``lineax``): gradients with respect to anything ``apply_L``
    closes over cost one adjoint Krylov solve.

    Args:
        apply_L: ``X -> L(X)`` on complex ``(d, d)`` matrices; must be linear and map
            Hermitian matrices to Hermitian matrices (every Lindbladian does). Never
            materialised.
        d: Hilbert-space dimension (static).
        preconditioner: optional ``X -> M(X)`` approximating ``L^{-1}`` (on Hermitian
            matrices; linear). Without one GMRES is plain and often slow.
        dtype: real dtype of the Krylov vectors (default: float64 when x64 is on).
        throw: raise (``EquinoxRuntimeError``) when the solve does not converge; with
            ``False`` the result's ``converged`` flag reports it instead.
        **solver_options: ``tol`` (GMRES tolerance relative to ``‖I/d‖``, 1e-14),
            ``residual_tol`` (accepted
            ``‖L(ρ)‖_F``, 1e-10), ``max_iterations`` (3000), ``restart`` (60),
            ``stagnation_cycles`` (10).

    Returns:
        :class:`MatrixFreeSteadyState` (``rho``, ``residual``, ``iterations``,
        ``converged``).

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> tau = jnp.diag(jnp.array([0.8, 0.2]))
        >>> H = jnp.array([[0.0, 0.3], [0.3, 1.0]])
        >>> L = lambda X: -1j * (H @ X - X @ H) + (tau * jnp.trace(X) - X)
        >>> ss = jaxqep.qrm.steady_state_matrix_free(L, 2)
        >>> bool(ss.converged), bool(ss.residual < 1e-10)
        (True, True)
    """
    d = int(d)
    opts = _options(solver_options)
    if dtype is None:
        dtype = jnp.result_type(float)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        raise TypeError("dtype: give the real dtype of the packed Krylov vectors")

    def apply_packed(s: Array) -> Array:
        return _pack(apply_L(_unpack(s))).astype(dtype)

    prec: Callable[[Array], Array] | None = (
        None
        if preconditioner is None
        else lambda s: _pack(preconditioner(_unpack(s))).astype(dtype)
    )

    return _solve_packed(apply_packed, prec, d, dtype, opts, "L", throw)


# --------------------------------------------------------------------------------------
# Tripartite reset models (chains with resets on their end sites)
# --------------------------------------------------------------------------------------


class TripartiteSteadyStates(eqx.Module):
    """The three steady states of a tripartite reset model, from matrix-free solves.

    Attributes:
        rho: steady state ``ρ⁺_g`` of ``L_g``, ``(d, d)``.
        partial_states: ``(ρ^A, ρ^B)``, steady states of ``L^A_{λg}``, ``L^B_{(1-λ)g}``.
        residuals: ``‖L_k(ρ_k)‖_F`` for ``(L_g, L^A, L^B)``, shape ``(3,)``.
        iterations: GMRES iterations of the three solves, shape ``(3,)``.
        converged: per-solve convergence flags, shape ``(3,)``.
    """

    rho: Array
    partial_states: Array
    residuals: Array
    iterations: Array
    converged: Array


def _tripartite_parts(h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam):
    """``(H coefficient, resets)`` of ``L_g``, ``L^A_{λg}`` and ``L^B_{(1-λ)g}``."""
    both = _Resets(tau_a, tau_b, gamma_a, gamma_b, dims)
    only_a = _Resets(tau_a, None, gamma_a, gamma_b, dims)
    only_b = _Resets(None, tau_b, gamma_a, gamma_b, dims)
    return ((g, both), (g * lam, only_a), (g * (1.0 - lam), only_b))


def _tripartite_states(
    h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam, opts, throw, nz: np.ndarray | None = None
):
    """The three solves. ``nz``: static non-zero pattern of ``H`` (default: read from ``H``
    if it is concrete at trace time). A given pattern must contain that of ``H`` and its
    connected components must stay invariant (derivatives included) -- e.g. the pattern
    of a concrete ``H0`` for ``H = H0 + p V`` with ``V`` inside it."""
    d = h.shape[0]
    rdtype = jnp.real(jnp.zeros((), jnp.result_type(h.dtype, tau_a.dtype, float))).dtype
    names = ("L_g (total)", "L^A (part A)", "L^B (part B)")
    if nz is None:
        nz = _nonzero_pattern(h)  # static structure of a concrete H, shared by the solves
    ell = _ell_pattern(nz)
    sols = []
    for (coef, resets), name in zip(
        _tripartite_parts(h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam), names
    ):
        apply_l = _lindblad_packed(h, coef, resets, ell)
        support = _invariant_support(nz, resets)
        prec = _two_level_preconditioner(h, coef, resets, nz=nz, support=support)
        sols.append(_solve_packed(apply_l, prec, d, rdtype, opts, name, throw, support))
    return TripartiteSteadyStates(
        rho=sols[0].rho,
        partial_states=jnp.stack([sols[1].rho, sols[2].rho]),
        residuals=jnp.stack([s.residual for s in sols]),
        iterations=jnp.stack([s.iterations for s in sols]),
        converged=jnp.stack([s.converged for s in sols]),
    )


def tripartite_steady_states_iterative(
    H: ArrayLike,
    tau_A: ArrayLike,
    tau_B: ArrayLike,
    gamma_A: ArrayLike,
    gamma_B: ArrayLike,
    dims: Sequence[int],
    g: ArrayLike,
    lam: ArrayLike,
    *,
    throw: bool = True,
    **solver_options,
) -> TripartiteSteadyStates:
    """Steady states ``ρ⁺_g, ρ^A, ρ^B`` of a tripartite reset model, matrix-free.

    Same model and arguments as :func:`jaxqep.qrm.tripartite_entropy_production`; for an
    N-qubit chain with resets on its end sites, ``dims = (2, 2**(N-2), 2)``. Three
    preconditioned GMRES solves (see the module docstring), each costing a few real
    ``d x d`` matrix products per iteration (sparse and block-diagonal ones when ``H`` is
    concrete at trace time); memory ``O(restart · d²)``.

    Args:
        H, tau_A, tau_B, gamma_A, gamma_B, dims, g, lam: as in
            :func:`~jaxqep.qrm.tripartite_entropy_production`.
        throw: raise if a solve does not converge (else see ``converged``).
        **solver_options: see :func:`steady_state_matrix_free`.

    Returns:
        :class:`TripartiteSteadyStates`, including residuals and iteration counts.

    Example:
        >>> import jaxqep
        >>> m = jaxqep.models.reset_chain(6)
        >>> st = jaxqep.qrm.tripartite_steady_states_iterative(*m.tripartite_args(), 1.0, 0.3)
        >>> bool(st.converged.all())
        True
    """
    h, tau_a, tau_b, gamma_a, gamma_b, dims = validate_tripartite(
        H, tau_A, tau_B, gamma_A, gamma_B, dims
    )
    g, lam = validate_coupling(g, lam)
    return _tripartite_states(
        h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam, _options(solver_options), throw
    )


def tripartite_entropy_production_iterative(
    h: Array,
    tau_a: Array,
    tau_b: Array,
    gamma_a: Array,
    gamma_b: Array,
    dims: Sequence[int],
    g: Array,
    lam: Array,
    **solver_options,
) -> EntropyProduction:
    """Matrix-free route of :func:`jaxqep.qrm.tripartite_entropy_production`.

    Takes already validated arrays (the public entry point validates and dispatches here
    for ``method="iterative"``, or ``"auto"`` with ``d > 32``). Raises when any of the
    three steady-state solves does not converge.

    Args:
        h: Hermitian ``(d, d)``; tau_a, tau_b: reset states; gamma_a, gamma_b: rates;
        dims: ``(n_A, n_C, n_B)``; g: coupling; lam: splitting.
        **solver_options: see :func:`steady_state_matrix_free`.

    Returns:
        :class:`EntropyProduction` (parts and fluxes ordered ``(A, B)``; ``residual`` is
        the largest of the three ``‖L_k(ρ_k)‖_F``).

    Example:
        >>> import jaxqep
        >>> m = jaxqep.models.reset_chain(6)
        >>> ep = jaxqep.qrm.tripartite_entropy_production(*m.tripartite_args(), 1.0, 0.3)
        >>> bool(ep.total > 0)
        True
    """
    states = _tripartite_states(
        h, tau_a, tau_b, gamma_a, gamma_b, tuple(dims), g, lam, _options(solver_options), True
    )
    return _entropy_production_from_states(states, h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam)


def _entropy_production_from_states(
    states: TripartiteSteadyStates, h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam
) -> EntropyProduction:
    return tripartite_result(
        h,
        tau_a,
        tau_b,
        gamma_a,
        gamma_b,
        dims,
        g,
        lam,
        states.rho,
        states.partial_states,
        jnp.max(states.residuals),
    )
