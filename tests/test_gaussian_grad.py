"""Implicit derivatives of the NESS observables against central finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import finite_difference_jvp, random_hermitian, rng

from jaxqep import gaussian

L = 5


def chain_obs(p, which):
    lam, gamma, Gamma, n1, nL = p[0], p[1], p[2], p[3], p[4]
    H = gaussian.chain_hamiltonian(L, 1.0, lam)
    g, n = gaussian.chain_baths(L, gamma, n1, nL)
    r = gaussian.entropy_production(H, g, n, Gamma * jnp.ones(L))
    return {"total": r.total, "pi_sc": r.pi_sc_total, "current": r.currents[1, 2]}[which]


@pytest.mark.parametrize("which", ["total", "pi_sc", "current"])
@pytest.mark.parametrize("eq", [False, True])
def test_chain_gradients(which, eq):
    p = jnp.array([0.8, 1.0, 0.3, 1.0, 1.0 if eq else 2.0])
    f = jax.jit(lambda q: chain_obs(q, which))
    grad = np.asarray(jax.grad(f)(p))
    assert np.all(np.isfinite(grad))
    for i in range(5):  # λ, γ, Γ, n1, nL one at a time
        v = jnp.zeros(5).at[i].set(1.0)
        fd = float(finite_difference_jvp(f, p, v, eps=1e-5))
        np.testing.assert_allclose(grad[i], fd, rtol=1e-6, atol=1e-10 * (1 + abs(fd)))
    if not eq:
        # independent check: d/dλ of the closed form (31)/(30)
        cf = jax.grad(
            lambda lam: gaussian.chain_closed_form(L, lam, 1.0, 0.3, 1.0, 2.0)["pi_ness"]
        )(0.8)
        if which == "total":
            np.testing.assert_allclose(grad[0], float(cf), rtol=1e-9)


def test_random_network_gradients_wrt_H_and_baths():
    r = rng(7)
    H0 = random_hermitian(r, 4)
    g0 = np.array([0.6, 0.0, 0.3, 0.8])
    n0 = np.array([0.2, 0.0, 2.0, 1.0])
    sc0 = np.array([0.2, 0.4, 0.0, 0.1])
    dH = random_hermitian(r, 4)

    def f(x):
        H = jnp.asarray(H0) + x[0] * jnp.asarray(dH)
        out = gaussian.entropy_production(
            H, jnp.asarray(g0) + x[1:5], jnp.asarray(n0) + x[5:9], jnp.asarray(sc0) + x[9:13]
        )
        return jnp.stack([out.total, out.pi_sc_total, out.currents[0, 2]])

    x0 = jnp.zeros(13)
    jac = np.asarray(jax.jit(jax.jacrev(f))(x0))
    jac_fwd = np.asarray(jax.jit(jax.jacfwd(f))(x0))
    np.testing.assert_allclose(jac, jac_fwd, rtol=1e-9, atol=1e-13)
    f = jax.jit(f)
    for i in [0, 1, 3, 5, 7, 10, 12]:
        v = jnp.zeros(13).at[i].set(1.0)
        fd = np.asarray(finite_difference_jvp(f, x0, v, eps=1e-6))
        np.testing.assert_allclose(jac[:, i], fd, rtol=1e-6, atol=1e-9)


def test_gradient_wrt_complex_H_entry():
    r = rng(3)
    H0 = jnp.asarray(random_hermitian(r, 3))
    g = jnp.array([0.5, 0.2, 0.7])
    n = jnp.array([0.0, 1.0, 3.0])

    def f(H):
        Hh = 0.5 * (H + jnp.conj(H.T))  # a Hermitian parametrisation of H
        return gaussian.entropy_production(Hh, g, n).total

    f = jax.jit(f)
    gH = jax.grad(f)(H0)
    E = jnp.zeros((3, 3), complex).at[0, 1].set(1.0 + 0.5j)
    ad = float(jnp.real(jnp.sum(gH * E)))  # JAX: grad = ∂f/∂x - i ∂f/∂y
    fd = float(finite_difference_jvp(f, H0, E, eps=1e-6))
    np.testing.assert_allclose(ad, fd, rtol=1e-6)


def test_gradient_finite_at_equilibrium_random():
    r = rng(11)
    H = jnp.asarray(random_hermitian(r, 4))
    g = jnp.array([0.3, 0.5, 0.0, 0.2])
    sc = jnp.array([0.1, 0.0, 0.2, 0.3])
    f = lambda n: gaussian.entropy_production(H, g, n, sc).total  # noqa: E731
    gr = jax.jit(jax.grad(f))(jnp.full(4, 0.9))
    assert np.all(np.isfinite(np.asarray(gr)))
    np.testing.assert_allclose(np.asarray(gr), 0.0, atol=1e-12)  # Π is quadratic around equilibrium
