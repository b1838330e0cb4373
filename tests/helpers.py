"""Shared test utilities: random physical inputs, tree comparison, finite differences."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def random_hermitian(r: np.random.Generator, d: int, scale: float = 1.0) -> np.ndarray:
    a = r.normal(size=(d, d)) + 1j * r.normal(size=(d, d))
    return scale * (a + a.conj().T) / 2


def random_density(r: np.random.Generator, d: int, rank: int | None = None) -> np.ndarray:
    """Random full-rank (by default) density matrix, eigenvalues bounded away from 0."""
    k = d if rank is None else rank
    g = r.normal(size=(d, k)) + 1j * r.normal(size=(d, k))
    rho = g @ g.conj().T + (0.05 * np.eye(d) if rank is None else 0)
    return rho / np.trace(rho).real


def tree_allclose(a, b, rtol=1e-9, atol=1e-12) -> bool:
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    if ta != tb:
        return False
    return all(
        np.allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol) for x, y in zip(la, lb)
    )


def assert_tree_allclose(a, b, rtol=1e-9, atol=1e-12):
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    assert ta == tb, f"tree structures differ: {ta} vs {tb}"
    for x, y in zip(la, lb):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


def finite_difference_jvp(f, x, v, eps: float = 1e-6):
    """Central finite-difference directional derivative of ``f`` at ``x`` along ``v``.

    ``x`` and ``v`` are pytrees of arrays with the same structure.
    """
    xp = jax.tree_util.tree_map(lambda a, b: a + eps * b, x, v)
    xm = jax.tree_util.tree_map(lambda a, b: a - eps * b, x, v)
    fp, fm = f(xp), f(xm)
    return jax.tree_util.tree_map(lambda p, m: (p - m) / (2 * eps), fp, fm)


def check_jvp_vs_fd(f, x, v, rtol=1e-6, atol=1e-10, eps=1e-6):
    """Compare ``jax.jvp`` with central differences; returns (ad, fd)."""
    _, ad = jax.jvp(f, (x,), (v,))
    fd = finite_difference_jvp(f, x, v, eps=eps)
    assert_tree_allclose(ad, fd, rtol=rtol, atol=atol)
    return ad, fd


def check_grad_vs_fd(f, x, r: np.random.Generator, n_dirs=2, rtol=1e-6, atol=1e-10, eps=1e-6):
    """Compare ``<grad f(x), v>`` with a central difference along random real directions v."""
    g = jax.grad(f)(x)
    for _ in range(n_dirs):
        v = jax.tree_util.tree_map(lambda a: jnp.asarray(r.normal(size=np.shape(a))), x)
        ad = sum(
            float(jnp.sum(jnp.real(gi) * vi))
            for gi, vi in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(v))
        )
        fd = float(finite_difference_jvp(f, x, v, eps=eps))
        np.testing.assert_allclose(ad, fd, rtol=rtol, atol=atol)
    return g
