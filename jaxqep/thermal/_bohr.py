"""Bohr-frequency components of a coupling operator, with a derivative that stays finite
at degenerate spectra.

For ``H = Σ_a e_a |a⟩⟨a|`` the levels are grouped into *clusters* (single linkage on the
sorted eigenvalues: consecutive eigenvalues closer than ``tol`` share a cluster), each with
its spectral projector ``P_I`` and mean energy ``ē_I = tr(P_I H)/|I|``; the Bohr
frequencies ``ω_IJ = ē_J − ē_I`` are grouped again by single linkage with the same
``tol``. The component of a group ``G`` is ``A_G = Σ_{(I,J) ∈ G} P_I A P_J``. These
depend on the projectors only, which are smooth in ``H`` wherever the grouping does not
change -- also inside a degenerate cluster, where the eigenvectors are not.

JAX differentiates ``eigh`` through its eigenvectors (``1/(e_a − e_b)`` for every pair,
NaN or inf at a degeneracy). The rule here is the derivative of the projector form: with
``K̂ = V^† dH V``, ``Ω_ab = K̂_ab/(e_a − e_b)`` for ``a, b`` in *different* clusters (zero
inside a cluster, where ``|e_a − e_b| ≤ tol`` never divides) and ``Φ`` the 0/1 mask of
the group in the eigenbasis (constant on cluster blocks),

    dÂ_G = Φ ∘ (V^† dA V + [Ω, Â]) − [Ω, Φ ∘ Â],     dē_I = tr(P_I dH)/|I|,

which is ``d(Σ P_I A P_J)`` with ``dP_I = Σ_{a∈I, b∉I} (|a⟩⟨a|dH|b⟩⟨b| + h.c.)/(e_a − e_b)``
written in the eigenbasis. First derivatives (forward and reverse mode) are finite
everywhere; a second derivative differentiates the rule through ``eigh``: exact where
every level is its own cluster, NaN (never a wrong number) where two levels lie within
``tol``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

__all__ = ["bohr_components", "pair_indices", "single_linkage"]


def pair_indices(d: int, include_diagonal: bool) -> tuple[np.ndarray, np.ndarray]:
    """Static eigen-pairs ``(m, n)``: all ``d²`` or the ``d² − d`` with ``m ≠ n``."""
    mask = np.ones((d, d), bool) if include_diagonal else ~np.eye(d, dtype=bool)
    m, n = np.nonzero(mask)
    return m, n


def single_linkage(x: Array, tol: float) -> Array:
    """Cluster labels of the entries of ``x`` (1-D, real): sorted, consecutive entries
    closer than ``tol`` share a label (an equivalence relation, unlike ``|x_i − x_j| ≤ tol``).
    """
    order = jnp.argsort(x)
    xs = x[order]
    labels = jnp.concatenate(
        [jnp.zeros((1,), jnp.int32), jnp.cumsum(jnp.diff(xs) > tol).astype(jnp.int32)]
    )
    return jnp.zeros(x.shape, jnp.int32).at[order].set(labels)


def _structure(e: Array, tol: float, m_idx, n_idx):
    """Level clusters, cluster-mean energies, Bohr frequencies and group masks."""
    level = single_linkage(e, tol)
    same_level = level[:, None] == level[None, :]  # (d, d)
    count = jnp.sum(same_level, axis=1)
    ebar = jnp.sum(jnp.where(same_level, e[None, :], 0.0), axis=1) / count
    omega = ebar[n_idx] - ebar[m_idx]  # the jump |n> -> |m> releases ω = ē_n − ē_m
    group = single_linkage(omega, tol)
    same = group[:, None] == group[None, :]  # (P, P)
    d = e.shape[0]
    mask = jnp.zeros((omega.shape[0], d, d), bool).at[:, m_idx, n_idx].set(same)
    return same_level, count, omega, mask


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _eigh_first_order(h: Array, tol: float):
    """``eigh`` whose derivative (JAX's formula) is NaN, not inf or a wrong finite number,
    for pairs of levels inside one cluster: only a second derivative of the jumps
    differentiates ``eigh``, and at a degeneracy that one is not supported."""
    e, v = jnp.linalg.eigh(h)
    return e, v


@_eigh_first_order.defjvp
def _eigh_first_order_jvp(tol, primals, tangents):
    (h,), (dh,) = primals, tangents
    e, v = _eigh_first_order(h, tol)
    level = single_linkage(e, tol)
    same = level[:, None] == level[None, :]
    eye = jnp.eye(e.shape[0], dtype=bool)
    gap = e[None, :] - e[:, None]
    f = jnp.where(same, jnp.where(eye, 0.0, jnp.nan), 1.0 / jnp.where(same, 1.0, gap))
    k = jnp.conj(v.T) @ (0.5 * (dh + jnp.conj(dh.T))).astype(v.dtype) @ v
    return (e, v), (jnp.real(jnp.diagonal(k)).astype(e.dtype), v @ (f * k))


def _primal(h: Array, a: Array, tol: float, include_diagonal: bool):
    d = h.shape[0]
    m_idx, n_idx = pair_indices(d, include_diagonal)
    e, v = _eigh_first_order(h, tol)
    same_level, count, omega, mask = _structure(e, tol, m_idx, n_idx)
    vh = jnp.conj(v.T)
    a_hat = vh @ a @ v
    c_hat = jnp.where(mask, a_hat[None], 0.0)
    return e, v, vh, a_hat, c_hat, same_level, count, omega, mask


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def _components(h: Array, a: Array, tol: float, include_diagonal: bool):
    _, v, vh, _, c_hat, _, _, omega, _ = _primal(h, a, tol, include_diagonal)
    return v[None] @ c_hat @ vh[None], omega


@_components.defjvp
def _components_jvp(tol, include_diagonal, primals, tangents):
    h, a = primals
    dh, da = tangents
    e, v, vh, a_hat, c_hat, same_level, count, omega, mask = _primal(h, a, tol, include_diagonal)
    comps = v[None] @ c_hat @ vh[None]
    d = h.shape[0]
    m_idx, n_idx = pair_indices(d, include_diagonal)
    k_hat = vh @ (0.5 * (dh + jnp.conj(dh.T))).astype(v.dtype) @ v
    gap = e[:, None] - e[None, :]
    cross = ~same_level  # |e_a − e_b| > tol here: no small divisor
    om = jnp.where(cross, k_hat / jnp.where(cross, gap, 1.0), 0.0)
    da_hat = vh @ da.astype(v.dtype) @ v
    inner = da_hat + om @ a_hat - a_hat @ om
    dc_hat = jnp.where(mask, inner[None], 0.0) - (om[None] @ c_hat - c_hat @ om[None])
    dcomps = v[None] @ dc_hat @ vh[None]
    de = jnp.real(jnp.diagonal(k_hat))
    debar = jnp.sum(jnp.where(same_level, de[None, :], 0.0), axis=1) / count
    domega = (debar[n_idx] - debar[m_idx]).astype(omega.dtype)
    return (comps, omega), (dcomps, domega)


def bohr_components(
    h: Array, a: Array, tol: float, include_diagonal: bool = False
) -> tuple[Array, Array]:
    """Bohr components of ``a`` for every eigen-pair of ``h``.

    Args:
        h: Hermitian ``(d, d)`` (complex dtype).
        a: ``(d, d)`` coupling operator (same dtype).
        tol: absolute tolerance: levels, and Bohr frequencies, closer than ``tol`` (single
            linkage) are treated as equal.
        include_diagonal: include the pairs ``m = n`` (``P = d²``; else ``P = d² − d``).

    Returns:
        ``(components, omegas)``: ``(P, d, d)``, entry ``p = (m, n)`` the component
        ``A_G`` of the group ``G`` of that pair (equal for every pair of the group), and
        ``(P,)`` the Bohr frequency ``ω_p = ē_n − ē_m`` (the energy the jump ``n → m``
        releases). First derivatives are finite at degenerate spectra.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.thermal._bohr import bohr_components
        >>> c, w = bohr_components(jnp.diag(jnp.array([0.0, 1.0, 1.0])) + 0j,
        ...                        jnp.ones((3, 3)) + 0j, 1e-9)
        >>> [float(x) for x in w[:2]]
        [1.0, 1.0]
    """
    return _components(h, a, float(tol), bool(include_diagonal))
