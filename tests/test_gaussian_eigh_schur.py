"""EighSchur (issue 14): GMRES on diag C and the bath rows of the NESS, for networks whose
damping is uniform except on a few sites (a Büttiker probe on every site).

References: the dense vectorised solve of the full equation (test_gaussian_ness), the
closed forms (29a)/(31) of seed 000 for the chain, and central finite differences.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import check_grad_vs_fd, random_hermitian, rng
from test_gaussian_ness import dense_reference, direct_pi

import jaxqep
from jaxqep import gaussian, solvers
from jaxqep.gaussian._lyapunov import relative_residual
from jaxqep.gaussian._ness import stability_matrix
from jaxqep.solvers._gaussian_eigh_schur import EighSchur, damping_split, eigh_schur_solve


def _network(seed, L, n_baths=3, complex_h=True):
    r = rng(seed)
    H = random_hermitian(r, L) if complex_h else np.real(random_hermitian(r, L))
    gam = np.zeros(L)
    sites = r.choice(L, n_baths, replace=False)
    gam[sites] = r.uniform(0.1, 0.8, n_baths)
    occ = np.zeros(L)
    occ[sites] = r.uniform(0.0, 3.0, n_baths)
    return H, gam, occ, np.full(L, r.uniform(0.05, 0.3))


def _dense_lyapunov(A, g, B):
    L = A.shape[0]
    eye = np.eye(L)
    op = np.kron(A, eye) + np.kron(eye, A.conj())
    idx = np.arange(L) * (L + 1)
    op[idx, idx] += g
    return np.linalg.solve(op, B.reshape(-1)).reshape(L, L)


@pytest.mark.parametrize("L, complex_h", [(12, True), (40, False)])
def test_random_networks_vs_dense(L, complex_h):
    H, gam, occ, sc = _network(L, L, complex_h=complex_h)
    net = jaxqep.GaussianNetwork(H, gam, occ, sc)
    assert net.real_h is not complex_h
    ep = jaxqep.entropy_production(net, EighSchur(fallback=False))
    ref = dense_reference(H, gam, occ, sc)
    C = np.asarray(ep.covariance)
    assert np.max(np.abs(C - ref)) <= 1e-10 * np.max(np.abs(ref))
    assert float(ep.residual) < 1e-13 and int(ep.iterations) > 0
    pi = direct_pi(ref, gam, occ)  # eq. (C2) on the dense NESS, physical channels
    np.testing.assert_allclose(float(ep.pi_r), np.sum(pi), rtol=1e-9)


def test_kernel_non_hermitian_rhs_and_real_path():
    # Cotangent solves see a non-Hermitian right-hand side; real U and complex U agree.
    H, gam, occ, sc = _network(3, 20, complex_h=False)
    A = stability_matrix(jnp.asarray(H + 0j), jnp.asarray(gam), jnp.asarray(sc))
    r = rng(4)
    B = jnp.asarray(r.normal(size=(20, 20)) + 1j * r.normal(size=(20, 20)))
    ref = _dense_lyapunov(np.asarray(A), sc, np.asarray(B))
    for real_u in (True, False):
        X, ok, steps = eigh_schur_solve(A, jnp.asarray(sc), B, real_u=real_u)
        assert bool(ok) and int(steps) > 0
        assert np.max(np.abs(np.asarray(X) - ref)) <= 1e-11 * np.max(np.abs(ref))
        assert float(relative_residual(A, jnp.asarray(sc), X, B)) < 1e-14


def test_damping_split():
    d = jnp.array([0.3, 0.1, 0.1, 0.7, 0.1, 0.1])
    A = -0.5 * jnp.diag(d).astype(complex)
    dbar, idx, delta, exact = damping_split(A, 2)
    assert float(dbar) == pytest.approx(0.1) and bool(exact)
    assert sorted(np.asarray(idx).tolist()) == [0, 3]
    np.testing.assert_allclose(sorted(np.asarray(delta)), [0.2, 0.6])
    assert not bool(damping_split(A, 1)[3])  # two sites deviate, one allowed


def test_chain_vs_closed_form():
    L, lam, gam, Gam = 50, 0.4, 0.3, 0.05
    H = gaussian.chain_hamiltonian(L, 1.0, lam)
    g, n = gaussian.chain_baths(L, gam, 1.0, 2.0)
    net = jaxqep.GaussianNetwork(H, g, n, Gam * jnp.ones(L))
    ep = jaxqep.entropy_production(net, EighSchur(fallback=False))
    cf = gaussian.chain_closed_form(L, lam, gam, Gam, 1.0, 2.0)
    np.testing.assert_allclose(np.real(np.diag(np.asarray(ep.covariance))),
                               np.asarray(cf["occupations"]), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(float(ep.total), float(cf["pi_ness"]), rtol=1e-9)


def test_probes_on_a_subset_continue_exactly():
    # Damping not of the required form: the EighKrylov continuation (or its fallback).
    H, gam, occ, sc = _network(7, 30)
    sc[::4] = 0.0
    net = jaxqep.GaussianNetwork(H, gam, occ, sc)
    A = stability_matrix(jnp.asarray(H), jnp.asarray(gam), jnp.asarray(sc))
    assert not bool(damping_split(A, 8)[3])
    ep = jaxqep.entropy_production(net, EighSchur())
    ref = dense_reference(H, gam, occ, sc)
    assert np.max(np.abs(np.asarray(ep.covariance) - ref)) <= 1e-10 * np.max(np.abs(ref))


def test_auto_selects_eigh_schur():
    side = 7
    L = side * side
    g = jnp.zeros(L).at[0].set(0.1).at[-1].set(0.1)
    net = jaxqep.GaussianNetwork(gaussian.lattice_hamiltonian(side, side, 1.0, 0.5), g, g,
                                 0.05 * jnp.ones(L))
    assert isinstance(solvers.Auto().select(net), EighSchur)


def test_vmap_over_probe_rates():
    side = 4
    L = side * side
    H = gaussian.lattice_hamiltonian(side, side, 1.0, 0.5)
    g = jnp.zeros(L).at[0].set(0.1).at[-1].set(0.1)
    n = jnp.zeros(L).at[0].set(1.0).at[-1].set(2.0)

    def total(s):
        net = jaxqep.GaussianNetwork(H, g, n, s * jnp.ones(L))
        return jaxqep.entropy_production(net, EighSchur(fallback=False)).total

    rates = jnp.array([0.02, 0.1])
    batched = jax.vmap(total)(rates)
    for s, b in zip(rates, batched):
        ref = dense_reference(np.asarray(H), np.asarray(g), np.asarray(n), float(s) * np.ones(L))
        pi = direct_pi(ref, np.asarray(g), np.asarray(n))
        np.testing.assert_allclose(float(b), float(np.sum(pi)) + _sc_pi(ref, float(s)),
                                   rtol=1e-9)


def _sc_pi(C, Gam):
    """Π of self-consistent channels of rate Γ on every site, eq. (C2) with n_k -> C_kk."""
    c = np.real(np.diag(C))
    return float(np.sum(direct_pi(C, Gam * np.ones(len(c)), c)))


def test_gradients_vs_finite_differences_complex():
    H0, gam, occ, sc = _network(11, 10)
    dH = random_hermitian(rng(12), 10)

    def f(x):
        net = jaxqep.GaussianNetwork(H0 + x[0] * dH, gam * x[1], occ * x[2], sc * x[3])
        return jaxqep.entropy_production(net, EighSchur(fallback=False)).total

    check_grad_vs_fd(f, jnp.array([0.1, 1.0, 1.0, 1.0]), rng(0), n_dirs=3, rtol=1e-6)


@pytest.mark.parametrize("kron", [False, True])
def test_gradients_at_degenerate_lattice(kron):
    # The square lattice has degenerate eigenvalues of H (x ↔ y): the implicit rule stays
    # finite, in the dense and in the Kronecker basis.
    side = 4
    L = side * side
    g = jnp.zeros(L).at[0].set(0.1).at[-1].set(0.1)
    n = jnp.zeros(L).at[0].set(1.0).at[-1].set(2.0)
    w = np.linalg.eigvalsh(np.asarray(gaussian.lattice_hamiltonian(side, side, 1.0, 0.5)))
    assert np.min(np.diff(w)) < 1e-12  # degenerate

    def f(x):
        H = gaussian.lattice_hamiltonian(side, side, 1.0, x[0])
        net = jaxqep.GaussianNetwork(H, g * x[1], n, x[2] * jnp.ones(L))
        solver = (solvers.KroneckerSchur(shape=(side, side), fallback=False) if kron
                  else EighSchur(fallback=False))
        return jaxqep.entropy_production(net, solver).total

    x0 = jnp.array([0.5, 1.0, 0.05])
    grad = check_grad_vs_fd(f, x0, rng(1), n_dirs=2, rtol=1e-6)
    assert np.all(np.isfinite(np.asarray(grad)))


def test_sites_option_validated():
    with pytest.raises(ValueError, match="sites"):
        EighSchur(sites=0)


def test_damping_sites_hint_and_its_verification():
    # The static count of non-uniformly damped sites sizes the unknowns; where it is wrong
    # (probe rates traced, profile not uniform) the solve is still exact (continuation).
    side = 7
    L = side * side
    H = np.asarray(gaussian.lattice_hamiltonian(side, side, 1.0, 0.5))
    g = np.zeros(L)
    g[[0, 3, L - 1]] = [0.1, 0.2, 0.1]
    n = np.zeros(L)
    n[[0, 3, L - 1]] = [1.0, 0.5, 2.0]
    G = 0.05 * np.ones(L)
    assert jaxqep.GaussianNetwork(H, g, n, G).damping_sites == 3
    assert jaxqep.GaussianNetwork(H, g, n).damping_sites is None
    G2 = G.copy()
    G2[[10, 20]] = 0.3
    assert jaxqep.GaussianNetwork(H, g, n, G2).damping_sites == 5

    def total(s):
        net = jaxqep.GaussianNetwork(H, g, n, s)
        assert net.damping_sites == 3  # traced rates: the sites with gammas > 0
        return jaxqep.entropy_production(net).total

    f = jax.jit(total)
    for s in (G, G2):
        ref = jaxqep.entropy_production(jaxqep.GaussianNetwork(H, g, n, s),
                                        solvers.DirectLyapunov()).total
        np.testing.assert_allclose(float(f(jnp.asarray(s))), float(ref), rtol=1e-9)
