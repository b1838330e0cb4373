"""Transient dynamics (B1): exact propagator vs diffrax, entropy balance, entropies."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import random_hermitian, rng

from jaxqep import gaussian


def setup(seed=0, L=3):
    r = rng(seed)
    H = random_hermitian(r, L)
    g = np.array([0.7, 0.0, 0.4])[:L]
    n = np.array([0.3, 0.0, 2.0])[:L]
    sc = np.array([0.2, 0.3, 0.0])[:L]
    C0 = np.diag(r.uniform(0.0, 1.0, L)).astype(complex)
    S = r.normal(size=(L, L)) + 1j * r.normal(size=(L, L))
    S0 = 0.15 * (S + S.T) / 2
    return H, g, n, sc, C0, S0


def test_balance_along_trajectory_with_squeezing():
    H, g, n, sc, C0, S0 = setup()
    evolve = jax.jit(gaussian.evolve_covariance)
    ts = jnp.array([0.0, 1.5, 12.0])
    tr = evolve(H, g, n, C0, ts, S0, sc)
    # dS/dt = Π - Φ at every time (eq. 1); Π_k >= 0 for every channel
    scale = np.max(np.abs(np.asarray(tr.pi_total)))
    assert np.max(np.asarray(tr.balance_error)) < 1e-10 * scale
    assert np.all(np.asarray(tr.pi) >= -1e-14) and np.all(np.asarray(tr.pi_sc) >= -1e-14)
    # dS/dt independently: central difference of the entropy along the trajectory
    t1 = jnp.array([2.0 - 1e-4, 2.0, 2.0 + 1e-4])
    tr1 = evolve(H, g, n, C0, t1, S0, sc)
    fd = (tr1.entropy[2] - tr1.entropy[0]) / 2e-4
    np.testing.assert_allclose(float(tr1.entropy_rate[1]), float(fd), rtol=1e-6)
    # late times: the NESS, where Π = Φ and the sc fluxes vanish
    late = evolve(H, g, n, C0, jnp.array([200.0, 300.0, 400.0]), S0, sc)
    ness = gaussian.entropy_production(H, g, n, sc)
    np.testing.assert_allclose(
        np.asarray(late.covariance[-1]), np.asarray(ness.covariance), atol=1e-10
    )
    np.testing.assert_allclose(float(late.pi_total[-1]), float(ness.total), rtol=1e-8)
    assert np.max(np.abs(np.asarray(late.squeezing[-1]))) < 1e-10


@pytest.mark.filterwarnings("ignore:Complex dtype support")
def test_propagator_matches_diffrax():
    H, g, n, sc, C0, S0 = setup(seed=2)
    ts = jnp.array([0.0, 0.5, 3.0])
    tr = gaussian.evolve_covariance(H, g, n, C0, ts, S0)
    Hj, gj, nj = jnp.asarray(H), jnp.asarray(g), jnp.asarray(n)

    def rhs(t, y, args):
        dC, dS = gaussian.covariance_rhs(Hj, gj, nj, y[0], y[1])
        return (dC, dS)

    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(rhs),
        diffrax.Dopri8(),
        0.0,
        3.0,
        0.01,
        (jnp.asarray(C0), jnp.asarray(S0)),
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(rtol=1e-12, atol=1e-12),
        max_steps=100000,
    )
    np.testing.assert_allclose(np.asarray(tr.covariance), np.asarray(sol.ys[0]), atol=1e-9)
    np.testing.assert_allclose(np.asarray(tr.squeezing), np.asarray(sol.ys[1]), atol=1e-9)


def _quadrature_entropies(n_c, s, n_ref):
    """Single mode, by brute-force quadrature of W on a grid (independent of (A5))."""
    theta = np.array([[n_c + 0.5, s], [np.conj(s), n_c + 0.5]])
    tinv = np.linalg.inv(theta)
    x = np.linspace(-12, 12, 1601)
    X, Y = np.meshgrid(x, x, indexing="ij")
    a = X + 1j * Y
    v = np.stack([a, np.conj(a)])
    quad = np.real(np.einsum("i...,ij,j...->...", np.conj(v), tinv, v))
    W = np.exp(-0.5 * quad) / (np.pi * np.sqrt(np.linalg.det(theta).real))
    dA = (x[1] - x[0]) ** 2
    Weq = np.exp(-(np.abs(a) ** 2) / (n_ref + 0.5)) / (np.pi * (n_ref + 0.5))
    return (-np.sum(W * np.log(W)) * dA, np.sum(W * np.log(W / Weq)) * dA, np.sum(W) * dA)


def test_wigner_entropies_against_quadrature():
    n_c, s, n_ref = 0.8, 0.3 + 0.2j, 0.4
    S_q, D_q, norm = _quadrature_entropies(n_c, s, n_ref)
    np.testing.assert_allclose(norm, 1.0, rtol=1e-8)
    C = jnp.array([[n_c]], complex)
    S = jnp.array([[s]], complex)
    np.testing.assert_allclose(float(gaussian.wigner_entropy(C, S)), S_q, rtol=1e-7)
    np.testing.assert_allclose(
        float(gaussian.wigner_relative_entropy(C, jnp.array([n_ref]), S)), D_q, rtol=1e-6
    )
    # thermal single mode: ln(π e (n + 1/2))
    np.testing.assert_allclose(
        float(gaussian.wigner_entropy(C)), np.log(np.pi * np.e * (n_c + 0.5)), rtol=1e-13
    )
