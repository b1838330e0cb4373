"""Steady states of tripartite reset models by a reduced linear system.

The Lindbladian ``L = -ig[H, ·] + γ_A(τ_A ⊗ tr_A(·) - ·) + γ_B(tr_B(·) ⊗ τ_B - ·)`` is a
resolvent part plus a part that only sees the partial traces:

    L(ρ) = -(i[gH, ·] + Γ)(ρ) + γ_A τ_A ⊗ u_A + γ_B u_B ⊗ τ_B,
    u_A = tr_A ρ,  u_B = tr_B ρ,  Γ = γ_A + γ_B.

So ``L(ρ) = 0`` iff ``ρ = G(γ_A τ_A ⊗ u_A + γ_B u_B ⊗ τ_B)`` with the resolvent
``G = (i[gH, ·] + Γ)^{-1}`` (closed form in the eigenbasis of ``H``, eq. 3.8 of seed 004,
with its own JVP rule), and the partial traces satisfy the *reduced* fixed-point equation
``u = M u`` of size ``(n_C n_B)² + (n_A n_C)²`` instead of ``(n_A n_C n_B)²``: for qubit
ends that is half the unknowns, an eighth of the LU cost; the partial Lindbladians
``L^A``, ``L^B`` have only one reset each and reduce to ``(n_C n_B)²`` and ``(n_A n_C)²``.

Normalisation. ``ℓ = γ_A tr(u_A) + γ_B tr(u_B)`` is a left null vector of ``1 - M``
(``tr G(X) = tr(X)/Γ``), so the bordered system ``(1 - M + w ℓ^T/Γ) z = w`` with
``ℓ^T w = Γ`` is invertible exactly when the steady state is unique, and its solution
has ``tr ρ = ℓ^T z / Γ = 1``; the argument is that of ``_steady.solve_bordered``.
All solves go through lineax (implicit differentiation).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array

from .._superop import partial_trace
from ._reset import _resolvent_map

__all__ = ["tripartite_steady_states_reduced"]


def _resolvent(k: Array, rate: Array, xs: Array) -> Array:
    """``(i[K, ·] + rate)^{-1}`` applied to a stack ``xs`` of matrices."""
    kk = (k / rate).astype(xs.dtype)
    return jax.vmap(lambda x: _resolvent_map(kk, x))(xs) / rate


def _basis(n: int, dtype) -> Array:
    return jnp.eye(n * n, dtype=dtype).reshape(n * n, n, n)


def _bordered(mat: Array, w: Array, ell: Array) -> Array:
    return jnp.eye(mat.shape[0], dtype=mat.dtype) - mat + jnp.outer(w, ell)


def _solve_all(systems: list[tuple[Array, Array]]) -> list[Array]:
    """Solve several small bordered systems with ONE batched LU call.

    Separate batched LU factorisations in one jitted function can deadlock XLA's CPU
    runtime (CONVENTIONS, known traps; reproduced here with three of them under `vmap`),
    so the systems are padded with identity blocks to a common size and stacked.
    """
    n = max(m.shape[0] for m, _ in systems)
    mats, rhss = [], []
    for m, b in systems:
        k = m.shape[0]
        pad = jnp.eye(n, dtype=m.dtype).at[:k, :k].set(m)
        mats.append(pad)
        rhss.append(jnp.zeros((n,), b.dtype).at[:k].set(b))

    def solve(m, b):
        return lx.linear_solve(lx.MatrixLinearOperator(m), b, solver=lx.LU(), throw=False).value

    zs = jax.vmap(solve)(jnp.stack(mats), jnp.stack(rhss))
    return [zs[i, : m.shape[0]] for i, (m, _) in enumerate(systems)]


def _two_reset_system(
    k: Array,
    tau_a: Array,
    tau_b: Array,
    gamma_a: Array,
    gamma_b: Array,
    dims: Sequence[int],
) -> tuple[Array, Array, Array]:
    """Bordered reduced matrix, right-hand side and basis images for ``L_g``."""
    na, nc, nb = dims
    dtype = k.dtype
    ncb, nac = nc * nb, na * nc
    rate = gamma_a + gamma_b
    # Images of the basis of u_A (on C⊗B) and u_B (on A⊗C) under ρ = G(γ E u).
    ea = jax.vmap(lambda x: gamma_a * jnp.kron(tau_a, x))(_basis(ncb, dtype))
    eb = jax.vmap(lambda x: gamma_b * jnp.kron(x, tau_b))(_basis(nac, dtype))
    images = _resolvent(k, rate, jnp.concatenate([ea, eb]))  # (m, d, d)

    def reduce(rho):
        ua = partial_trace(rho, (na, ncb), (1,)).reshape(-1)
        ub = partial_trace(rho, (nac, nb), (0,)).reshape(-1)
        return jnp.concatenate([ua, ub])

    mat = jax.vmap(reduce)(images).T  # columns: images of basis vectors
    tr_a = jnp.eye(ncb, dtype=dtype).reshape(-1)
    tr_b = jnp.eye(nac, dtype=dtype).reshape(-1)
    ell = jnp.concatenate([gamma_a * tr_a, gamma_b * tr_b]) / rate
    w = jnp.concatenate([tr_a / ncb, tr_b / nac])  # ℓ^T w = 1 with ℓ already divided by Γ
    return _bordered(mat, w, ell), w, images


def _one_reset_system(
    k: Array, tau: Array, gamma: Array, n_keep: int, side: str
) -> tuple[Array, Array, Array]:
    """Bordered reduced matrix, right-hand side and basis images for ``L^A`` or ``L^B``."""
    dtype = k.dtype
    if side == "A":
        ex = jax.vmap(lambda x: gamma * jnp.kron(tau, x))(_basis(n_keep, dtype))
    else:
        ex = jax.vmap(lambda x: gamma * jnp.kron(x, tau))(_basis(n_keep, dtype))
    images = _resolvent(k, gamma, ex)
    n_tr = tau.shape[0]

    def reduce(rho):
        if side == "A":
            return partial_trace(rho, (n_tr, n_keep), (1,)).reshape(-1)
        return partial_trace(rho, (n_keep, n_tr), (0,)).reshape(-1)

    mat = jax.vmap(reduce)(images).T
    tr = jnp.eye(n_keep, dtype=dtype).reshape(-1)
    return _bordered(mat, tr / n_keep, tr), tr / n_keep, images


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
    na, nc, nb = dims
    dtype = jnp.result_type(h.dtype, tau_a.dtype, tau_b.dtype, jnp.complex64)
    h = h.astype(dtype)
    tau_a = tau_a.astype(dtype)
    tau_b = tau_b.astype(dtype)
    systems = [
        _two_reset_system(g * h, tau_a, tau_b, gamma_a, gamma_b, dims),
        _one_reset_system(g * lam * h, tau_a, gamma_a, nc * nb, "A"),
        _one_reset_system(g * (1.0 - lam) * h, tau_b, gamma_b, na * nc, "B"),
    ]
    zs = _solve_all([(m, w) for m, w, _ in systems])
    return jnp.stack([jnp.einsum("m,mab->ab", z, im) for z, (_, _, im) in zip(zs, systems)])
