"""NESS of Gaussian networks: closed forms of Sec. IV, dense vectorised reference, signs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import random_hermitian, rng

from jaxqep import gaussian

# One jitted entry point shared by the tests, so compiled code is reused across cases.
EP = jax.jit(gaussian.entropy_production, static_argnames=("method",))
NESS = jax.jit(gaussian.ness_covariance, static_argnames=("method",))


def dense_reference(H, gammas, occ, sc=None):
    """Test-only O(L⁶) route: vectorise i[Hᵀ,C] - ½{G+Γ,C} + Diag(γn) + Diag(Γ∘diag C) = 0."""
    H = np.asarray(H)
    L = H.shape[0]
    sc = np.zeros(L) if sc is None else np.asarray(sc)
    A = 1j * H.T - np.diag(np.asarray(gammas) + sc) / 2
    eye = np.eye(L)
    op = np.kron(A, eye) + np.kron(eye, A.conj())  # row-major vec(A X + X A^†)
    idx = np.arange(L) * (L + 1)
    op[idx, idx] += sc
    rhs = -np.diag(np.asarray(gammas) * np.asarray(occ)).reshape(-1)
    return np.linalg.solve(op, rhs).reshape(L, L)


def direct_pi(C, gammas, occ):
    """Eq. (C2) evaluated literally on the 2L×2L Θ (independent of the library's form)."""
    C = np.asarray(C)
    L = C.shape[0]
    theta = np.zeros((2 * L, 2 * L), complex)
    theta[0::2, 0::2] = C.T
    theta[1::2, 1::2] = C
    theta += 0.5 * np.eye(2 * L)
    tinv = np.linalg.inv(theta)
    c = np.real(np.diag(C))
    phi = gammas * (c - occ) / (occ + 0.5)
    return phi - gammas + gammas * (occ + 0.5) * np.real(np.diag(tinv)[1::2])


def random_network(seed, L, sc=True):
    r = rng(seed)
    H = random_hermitian(r, L)
    gammas = r.uniform(0.05, 1.0, L) * (r.uniform(size=L) < 0.7)
    gammas[0] = 0.5  # at least one physical bath
    occ = r.uniform(0.0, 3.0, L)
    scr = r.uniform(0.0, 0.5, L) * (r.uniform(size=L) < 0.6) if sc else None
    return H, gammas, occ, scr


@pytest.mark.parametrize("method", ["eig", "sign"])
@pytest.mark.parametrize("Gamma", [0.0, 0.3e-6])
@pytest.mark.parametrize("L", [3, 12])
def test_chain_closed_forms(L, Gamma, method):
    lam, gamma, n1, nL = 0.7e-6, 1e-6, 1.0, 2.5
    H = gaussian.chain_hamiltonian(L, 1.3, lam)
    g, n = gaussian.chain_baths(L, gamma, n1, nL)
    sc = Gamma * jnp.ones(L)  # Γ = 0 exercises the self-consistent code path at zero rate
    r = EP(H, g, n, sc, method=method)
    cf = gaussian.chain_closed_form(L, lam, gamma, Gamma, n1, nL)
    C = np.asarray(r.covariance)
    np.testing.assert_allclose(np.real(np.diag(C)), cf["occupations"], rtol=1e-10)  # (29a)
    np.testing.assert_allclose(np.diag(C, 1), cf["coherence"], rtol=1e-10)  # (29b)
    j = np.asarray(r.currents)
    np.testing.assert_allclose(np.diag(j, 1), cf["current"], rtol=1e-10)  # (30)
    np.testing.assert_allclose(float(r.pi_ness), cf["pi_ness"], rtol=1e-10)  # (26) vs (31)
    np.testing.assert_allclose(float(r.pi_r + r.pi_sc_total), cf["pi_ness"], rtol=1e-10)
    np.testing.assert_allclose(float(r.flux_total), cf["pi_ness"], rtol=1e-9)
    # only nearest-neighbour coherences (D4)
    off = C - np.diag(np.diag(C)) - np.diag(np.diag(C, 1), 1) - np.diag(np.diag(C, -1), -1)
    assert np.max(np.abs(off)) < 1e-12 * np.max(np.abs(C))
    if Gamma == 0:
        assert float(r.pi_sc_total) == 0.0


@pytest.mark.parametrize(
    "L,seed,method", [(6, 0, "eig"), (30, 3, "eig"), (6, 1, "sign"), (12, 2, "sign")]
)
def test_random_networks_vs_dense(L, seed, method):
    H, g, n, sc = random_network(seed, L)
    ref = dense_reference(H, g, n, sc)
    C = NESS(H, g, n, sc, method=method)
    assert np.max(np.abs(np.asarray(C) - ref)) <= 1e-10 * np.max(np.abs(ref))
    # plain (no self-consistent reservoirs)
    ref0 = dense_reference(H, g + 0.1, n)
    C0 = NESS(H, g + 0.1, n, method=method)
    assert np.max(np.abs(np.asarray(C0) - ref0)) <= 1e-10 * np.max(np.abs(ref0))


@pytest.mark.parametrize("seed", range(4))
def test_pi_nonnegative_and_direct_formula(seed):
    H, g, n, sc = random_network(10 + seed, 6)
    r = EP(H, g, n, sc)
    C = np.asarray(r.covariance)
    pi = np.asarray(r.pi)
    assert np.all(pi >= 0) and np.all(np.asarray(r.pi_sc) >= 0)
    np.testing.assert_allclose(pi, direct_pi(C, g, n), rtol=1e-8, atol=1e-13)
    c = np.real(np.diag(C))
    np.testing.assert_allclose(np.asarray(r.pi_sc), direct_pi(C, sc, c), rtol=1e-8, atol=1e-13)
    np.testing.assert_allclose(np.asarray(r.phi), g * (c - n) / (n + 0.5), rtol=1e-12, atol=1e-15)
    assert np.all(pi[g == 0] == 0) and np.all(np.asarray(r.phi)[g == 0] == 0)
    # NESS: dS/dt = 0 so Π = Φ; Π from currents (26) agrees; currents antisymmetric
    np.testing.assert_allclose(float(r.total), float(r.flux_total), rtol=1e-9)
    np.testing.assert_allclose(float(r.total), float(r.pi_ness), rtol=1e-9)
    j = np.asarray(r.currents)
    np.testing.assert_allclose(j, -j.T, atol=1e-14)
    assert float(r.residual) < 1e-12


def test_equilibrium_zero_production():
    H, g, _, sc = random_network(5, 6)
    n = np.full(6, 1.7)
    r = EP(H, g, n, sc)
    np.testing.assert_allclose(np.asarray(r.covariance), 1.7 * np.eye(6), atol=1e-12)
    assert np.max(np.abs(np.asarray(r.pi))) < 1e-14
    assert np.max(np.abs(np.asarray(r.phi))) < 1e-12
    assert np.max(np.abs(np.asarray(r.pi_sc))) < 1e-14


def test_lattice_and_vmap_jit():
    H = gaussian.lattice_hamiltonian(3, 3, 1.0, 0.2)
    np.testing.assert_allclose(np.asarray(H), np.asarray(H).conj().T)
    g = jnp.zeros(9).at[0].set(0.3).at[8].set(0.3)
    n = jnp.zeros(9).at[0].set(2.0).at[8].set(0.5)
    r = EP(H, g, n, 0.05 * jnp.ones(9))
    np.testing.assert_allclose(float(r.total), float(r.pi_ness), rtol=1e-9)
    lams = jnp.array([1e-6, 3e-6, 1e-5])
    L = 6
    g, n = gaussian.chain_baths(L, 1e-5, 1.0, 2.0)

    def total(lam):
        return gaussian.entropy_production(
            gaussian.chain_hamiltonian(L, 1.0, lam), g, n, 1e-6 * jnp.ones(L)
        ).total

    batched = jax.jit(jax.vmap(total))(lams)
    looped = np.array([float(jax.jit(total)(x)) for x in lams])
    np.testing.assert_allclose(np.asarray(batched), looped, rtol=1e-12)
    cf = [float(gaussian.chain_closed_form(L, x, 1e-5, 1e-6, 1.0, 2.0)["pi_ness"]) for x in lams]
    np.testing.assert_allclose(np.asarray(batched), cf, rtol=1e-10)


def test_bose_einstein_and_model():
    n = gaussian.bose_einstein(jnp.array([1.0, 2.0]), jnp.array([1.0, 0.0]))
    np.testing.assert_allclose(np.asarray(n), [1 / np.expm1(1.0), 0.0])
    H = gaussian.chain_hamiltonian(3, 1.0, 0.1)
    net = gaussian.GaussianNetwork.from_temperatures(
        H, jnp.array([1.0, 0, 1]), jnp.ones(3), jnp.array([1.0, 1, 2])
    )
    Hv, gv, nv, scv = net.validated()
    np.testing.assert_allclose(np.asarray(nv), 1 / np.expm1(1 / np.array([1.0, 1, 2])))
    assert scv is None
