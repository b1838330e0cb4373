"""Gradients of entropy production vs central finite differences (float64), on random
models and at degenerate points (identical resets; τA = τB in the three-qubit chain,
where every steady state is τ⊗τ⊗τ with a degenerate spectrum)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import random_density, random_hermitian, rng

from jaxqep import models, qrm


def fd(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def hermitian_traceless(r, d):
    v = random_hermitian(r, d)
    return v - np.trace(v) / d * np.eye(d)


@pytest.mark.parametrize("d,nres,seed", [(2, 3, 0), (3, 2, 1), (4, 3, 2)])
def test_single_space_gradients(d, nres, seed):
    r = rng(seed)
    h = random_hermitian(r, d)
    taus = np.stack([random_density(r, d) for _ in range(nres)])
    gammas = r.uniform(0.3, 1.5, size=nres)
    lam = r.normal(size=nres)
    lam = lam - lam.mean() + 1 / nres
    dlam = r.normal(size=nres)
    dlam -= dlam.mean()  # stay on Σλ = 1
    dh = random_hermitian(r, d)
    dtau = np.stack([hermitian_traceless(r, d) for _ in range(nres)]) * 0.02
    dgam = r.normal(size=nres)

    def sigma(s_lam, s_h, s_tau, s_gam, part=None):
        ep = qrm.entropy_production(
            h + s_h * dh, taus + s_tau * dtau, gammas + s_gam * dgam, lam + s_lam * dlam
        )
        return ep.total if part is None else ep.fluxes[part]

    sigma = jax.jit(sigma, static_argnames="part")
    grads = jax.jit(jax.grad(sigma, argnums=(0, 1, 2, 3)))(0.0, 0.0, 0.0, 0.0)
    for k in range(4):

        def f1(s, k=k):
            args = [0.0] * 4
            args[k] = s
            return float(sigma(*args))

        np.testing.assert_allclose(grads[k], fd(f1, 0.0), rtol=1e-6, atol=1e-10)
    # jvp of the fluxes as well
    _, t = jax.jvp(lambda s: sigma(0.0, s, 0.0, 0.0, part=0), (0.0,), (1.0,))
    np.testing.assert_allclose(
        t, fd(lambda s: float(sigma(0.0, s, 0.0, 0.0, part=0)), 0.0), rtol=1e-6, atol=1e-10
    )
    # Full gradient wrt the gamma vector
    g_vec = jax.grad(lambda gm: qrm.entropy_production(h, taus, gm, lam).total)(jnp.asarray(gammas))
    np.testing.assert_allclose(jnp.dot(g_vec, dgam), grads[3], rtol=1e-8)


def test_tripartite_gradients_random():
    r = rng(5)
    dims = (2, 3, 2)
    d = 12
    h = random_hermitian(r, d)
    ta, tb = random_density(r, 2), random_density(r, 2)
    dh = random_hermitian(r, d)
    dta = hermitian_traceless(r, 2) * 0.05

    def sigma(g, lam, ga, s_h, s_ta):
        return qrm.tripartite_entropy_production(
            h + s_h * dh, ta + s_ta * dta, tb, ga, 0.9, dims, g, lam
        ).total

    sigma = jax.jit(sigma)
    x0 = (0.4, 0.3, 0.8, 0.0, 0.0)
    grads = jax.jit(jax.grad(sigma, argnums=(0, 1, 2, 3, 4)))(*x0)
    for k in range(5):

        def f1(s, k=k):
            args = list(x0)
            args[k] = args[k] + s
            return float(sigma(*args))

        np.testing.assert_allclose(grads[k], fd(f1, 0.0), rtol=1e-6, atol=1e-11)


def test_gradients_finite_at_equilibrium_identical_resets():
    h = models.single_qubit_hamiltonian(1.0, 0.7)
    gammas = jnp.array([1.0, 0.5, 1 / 3])
    tau = models.diagonal_reset_state(0.9)

    def sigma(lam_ab, t):
        taus = jnp.stack([models.diagonal_reset_state(t)] * 3)
        return qrm.entropy_production(
            h, taus, gammas, jnp.stack([lam_ab[0], lam_ab[1], 1 - lam_ab[0] - lam_ab[1]])
        ).total

    g_lam, g_t = jax.grad(sigma, argnums=(0, 1))(jnp.array([6 / 11, 3 / 11]), 0.9)
    # σ has its minimum 0 there: the gradient is finite and zero.
    assert np.all(np.isfinite(np.asarray(g_lam))) and np.isfinite(float(g_t))
    np.testing.assert_allclose(g_lam, 0.0, atol=1e-12)
    np.testing.assert_allclose(g_t, 0.0, atol=1e-12)
    del tau


def test_gradients_finite_at_tauA_equal_tauB_three_qubit():
    h = models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)

    def sigma(tb, g, lam):
        return qrm.tripartite_entropy_production(
            h,
            models.diagonal_reset_state(0.95),
            models.diagonal_reset_state(tb),
            0.7,
            0.6,
            (2, 2, 2),
            g,
            lam,
        ).total

    sigma = jax.jit(sigma)

    grad = jax.jit(jax.grad(sigma))
    grads = jax.jit(jax.grad(sigma, argnums=(0, 1, 2)))(0.95, 0.2, 0.4)
    assert all(np.isfinite(float(x)) for x in grads)
    np.testing.assert_allclose(grads, 0.0, atol=1e-12)  # σ = 0 is the minimum
    # Off equilibrium, still in agreement with finite differences.
    gt = grad(0.8, 0.2, 0.4)
    np.testing.assert_allclose(gt, fd(lambda s: float(sigma(s, 0.2, 0.4)), 0.8), rtol=1e-6)
    # second derivative at equilibrium via finite differences of the AD gradient: finite
    curv = fd(lambda s: float(grad(s, 0.2, 0.4)), 0.95, eps=1e-4)
    assert np.isfinite(curv) and curv > 0
