"""Static structure of a concrete Hamiltonian: sparsity, sectors and Krylov support.

When ``H`` is concrete at trace time (closed over, not a jit argument; the public entry
points validate ``H`` and so trace it), three structures are read from its non-zero
pattern, all optional and exact:

* sparse products: with at most ``d/16`` non-zeros per row, ``H X`` and ``X H`` are
  gathers along a static ELL pattern (values still gathered from ``H``), not dense
  products (:func:`_matmuls`);
* sectors: the connected components of the pattern (a conserved quantity) make the
  congruences of both resolvents block diagonal
  (:class:`jaxqep.qrm._matrix_free._preconditioner._SectorResolvent`, which takes the
  labels of :func:`_sector_labels`);
* Krylov support: the entries that the Krylov space can reach from ``u`` under ``L`` and
  the preconditioner; GMRES then stores and orthogonalises only those
  (:func:`_invariant_support`). For the chain (excitation number conserved, diagonal
  ``τ``) the states are block diagonal: ``C(2N, N)`` entries, ``d² / 5.7`` at N = 10.

Everything here is NumPy on static patterns (trace-time work), except :func:`_matmuls`,
whose products gather their values from a possibly traced ``H``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

if TYPE_CHECKING:
    from ._resets import _Resets

__all__ = [
    "_SPARSE_MAX_FILL",
    "_is_concrete",
    "_nonzero_pattern",
    "_ell_pattern",
    "_matmuls",
    "_components",
    "_sector_labels",
    "_pattern_trace",
    "_pattern_reduce",
    "_invariant_support",
]

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
