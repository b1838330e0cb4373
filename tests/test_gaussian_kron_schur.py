"""KroneckerSchur (issue 14): EighSchur in the eigenbasis U_x ⊗ U_y of a lattice Hamiltonian
H = H_x ⊗ 1 + 1 ⊗ H_y, the default for rectangular lattices with self-consistent reservoirs.

References: explicit Kronecker products (np.kron) for the basis operations, the dense
vectorised solve of the full NESS equation, the dense-basis EighSchur and DirectLyapunov
routes, and central finite differences.
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
from jaxqep.gaussian._model import detect_kronecker
from jaxqep.gaussian._ness import stability_matrix
from jaxqep.solvers._gaussian_bases import DenseBasis, KroneckerBasis, kronecker_factors
from jaxqep.solvers._gaussian_eigh_schur import eigh_schur_solve


def _kron_sum(Hx, Hy):
    return np.kron(Hx, np.eye(len(Hy))) + np.kron(np.eye(len(Hx)), Hy)


def _random_lattice(seed, lx, ly, complex_h=True, n_baths=3):
    """A random Kronecker-sum network: dense random factors, baths on random sites, a
    uniform probe rate on every site."""
    r = rng(seed)
    Hx = random_hermitian(r, lx)
    Hy = random_hermitian(r, ly)
    if not complex_h:
        Hx, Hy = np.real(Hx), np.real(Hy)
    H = _kron_sum(Hx, Hy)
    L = lx * ly
    gam = np.zeros(L)
    occ = np.zeros(L)
    sites = r.choice(L, n_baths, replace=False)
    gam[sites] = r.uniform(0.1, 0.8, n_baths)
    occ[sites] = r.uniform(0.0, 3.0, n_baths)
    return H, gam, occ, np.full(L, r.uniform(0.05, 0.3))


@pytest.mark.parametrize("real", [True, False])
def test_basis_operations_vs_explicit_kronecker(real):
    r = rng(1)
    lx, ly = 3, 4
    Hx, Hy = random_hermitian(r, lx), random_hermitian(r, ly)
    if real:
        Hx, Hy = np.real(Hx), np.real(Hy)
    kb = KroneckerBasis.of(jnp.asarray(Hx), jnp.asarray(Hy), real)
    U = np.kron(np.asarray(kb.Ux), np.asarray(kb.Uy))
    K = _kron_sum(Hx, Hy)
    np.testing.assert_allclose(U.conj().T @ K @ U, np.diag(np.asarray(kb.w)), atol=1e-12)
    L = lx * ly
    q = r.normal(size=L)
    Y = r.normal(size=(L, L)) + 1j * r.normal(size=(L, L))
    Nh = Y + Y.conj().T
    T = r.normal(size=(2, L)) + 1j * r.normal(size=(2, L))
    idx = np.array([5, 0])
    w = np.asarray(kb.w)
    Ub = U[idx, :]
    # The dense basis of the same K is the fallback: both against the explicit formulas.
    db = DenseBasis.of(jnp.asarray(K), real)
    for b in (kb, db):
        Ux = U if b is kb else np.asarray(db.U)
        Uxh = Ux.conj().T
        wb = np.asarray(b.w)
        ub = Ux[idx, :]
        nat, lay = b.natural, b.layout
        np.testing.assert_allclose(nat(b.pinv(0.3)), 1 / (1j * (wb[:, None] - wb[None, :]) - 0.3),
                                   atol=1e-12)
        np.testing.assert_allclose(nat(b.diag_to(jnp.asarray(q))), Uxh @ np.diag(q) @ Ux,
                                   atol=1e-12)
        np.testing.assert_allclose(nat(b.outer(b.bath(jnp.asarray(idx)), jnp.asarray(T))),
                                   ub.conj().T @ T + T.conj().T @ ub, atol=1e-12)
        Nl = lay(jnp.asarray(Nh))
        np.testing.assert_allclose(b.diag_from(Nl), np.real(np.diag(Ux @ Nh @ Uxh)), atol=1e-12)
        np.testing.assert_allclose(b.rows(b.bath(jnp.asarray(idx)), lay(jnp.asarray(Y))),
                                   ub @ Y, atol=1e-12)
        # A Krylov step's two outputs at once (one product with Re N for real U).
        dg, rows = b.outputs(b.bath(jnp.asarray(idx)), Nl)
        np.testing.assert_allclose(dg, np.real(np.diag(Ux @ Nh @ Uxh)), atol=1e-12)
        np.testing.assert_allclose(rows, ub @ Nh, atol=1e-12)
        np.testing.assert_allclose(b.rows(b.bath_abs2(b.bath(jnp.asarray(idx))),
                                          lay(jnp.asarray(Y))), np.abs(ub) ** 2 @ Y, atol=1e-12)
        np.testing.assert_allclose(nat(b.to(jnp.asarray(Y))), Uxh @ Y @ Ux, atol=1e-12)
        np.testing.assert_allclose(b.from_(lay(jnp.asarray(Y))), Ux @ Y @ Uxh, atol=1e-12)
        np.testing.assert_allclose(nat(lay(jnp.asarray(Y))), Y, atol=0)
    np.testing.assert_allclose(np.asarray(db.w), np.sort(w), atol=1e-12)
    assert Ub.shape == (2, L)


def test_kronecker_factors_and_detection():
    H = np.asarray(gaussian.lattice_hamiltonian(4, 6, 1.0, 0.5))
    assert detect_kronecker(H) == (4, 6)
    Kx, Ky, exact = kronecker_factors(jnp.asarray(H), 4, 6)
    assert bool(exact)
    np.testing.assert_allclose(_kron_sum(np.asarray(Kx), np.asarray(Ky)), H, atol=1e-15)
    assert not bool(kronecker_factors(jnp.asarray(H), 6, 4)[2])  # wrong orientation
    # 3D lattice: (x) ⊗ (yz) or (xy) ⊗ (z), the most balanced split.
    chain = np.asarray(gaussian.chain_hamiltonian(3, 0.0, 0.7)).real
    H3 = _kron_sum(chain, np.asarray(gaussian.lattice_hamiltonian(3, 4, 1.0, 0.4)))
    shape = detect_kronecker(H3)
    assert shape is not None and shape[0] * shape[1] == 36 and min(shape) >= 3
    assert bool(kronecker_factors(jnp.asarray(H3), *shape)[2])
    # Not Kronecker sums: disorder, a random network, a chain.
    Hd = H + np.diag(rng(2).uniform(0, 0.1, 24))
    assert detect_kronecker(Hd) is None
    assert not bool(kronecker_factors(jnp.asarray(Hd), 4, 6)[2])
    assert detect_kronecker(random_hermitian(rng(3), 24)) is None
    assert detect_kronecker(np.asarray(gaussian.chain_hamiltonian(24, 1.0, 0.3))) is None


@pytest.mark.parametrize("lx, ly, complex_h", [(4, 5, True), (6, 7, False)])
def test_random_lattices_vs_dense(lx, ly, complex_h):
    H, gam, occ, sc = _random_lattice(lx * ly, lx, ly, complex_h)
    net = jaxqep.GaussianNetwork(H, gam, occ, sc)
    assert net.kron_shape == (lx, ly)
    ep = jaxqep.entropy_production(net, solvers.KroneckerSchur(fallback=False))
    ref = dense_reference(H, gam, occ, sc)
    C = np.asarray(ep.covariance)
    assert np.max(np.abs(C - ref)) <= 1e-10 * np.max(np.abs(ref))
    assert float(ep.residual) < 1e-13
    np.testing.assert_allclose(float(ep.pi_r), np.sum(direct_pi(ref, gam, occ)), rtol=1e-9)
    # The Kronecker path itself succeeded (no dense fallback): same answer from the kernel.
    A = stability_matrix(jnp.asarray(H), jnp.asarray(gam), jnp.asarray(sc))
    B = -jnp.diag(jnp.asarray(gam * occ)).astype(A.dtype)
    X, ok, steps = eigh_schur_solve(A, jnp.asarray(sc), B, real_u=not complex_h,
                                    kron=(lx, ly))
    assert bool(ok) and int(steps) > 0
    assert np.max(np.abs(np.asarray(X) - ref)) <= 1e-10 * np.max(np.abs(ref))


def test_kernel_non_hermitian_rhs():
    # Cotangent solves see a non-Hermitian right-hand side (and A^T).
    H, gam, occ, sc = _random_lattice(5, 3, 5, complex_h=True)
    A = stability_matrix(jnp.asarray(H), jnp.asarray(gam), jnp.asarray(sc)).T
    r = rng(6)
    B = jnp.asarray(r.normal(size=(15, 15)) + 1j * r.normal(size=(15, 15)))
    X, ok, _ = eigh_schur_solve(A, jnp.asarray(sc), B, kron=(3, 5))
    assert bool(ok)
    assert float(relative_residual(A, jnp.asarray(sc), X, B)) < 1e-14


def test_fallback_where_not_a_kronecker_sum():
    # Disorder breaks the structure: the explicit solver still returns the exact NESS (by
    # its dense-basis continuation); the kernel reports that the Kronecker path failed.
    H, gam, occ, sc = _random_lattice(7, 4, 4, complex_h=False)
    H = H + np.diag(rng(8).uniform(0, 0.2, 16))
    net = jaxqep.GaussianNetwork(H, gam, occ, sc)
    assert net.kron_shape is None
    ep = jaxqep.entropy_production(net, solvers.KroneckerSchur(shape=(4, 4)))
    ref = dense_reference(H, gam, occ, sc)
    assert np.max(np.abs(np.asarray(ep.covariance) - ref)) <= 1e-10 * np.max(np.abs(ref))
    A = stability_matrix(jnp.asarray(H), jnp.asarray(gam), jnp.asarray(sc))
    B = -jnp.diag(jnp.asarray(gam * occ)).astype(A.dtype)
    assert not bool(eigh_schur_solve(A, jnp.asarray(sc), B, real_u=True, kron=(4, 4))[1])


def test_auto_selects_kronecker_schur_and_vmap():
    side = 7
    L = side * side
    H = gaussian.lattice_hamiltonian(side, side, 1.0, 0.5)
    g = jnp.zeros(L).at[0].set(0.1).at[-1].set(0.1)
    n = jnp.zeros(L).at[0].set(1.0).at[-1].set(2.0)
    net = jaxqep.GaussianNetwork(H, g, n, 0.05 * jnp.ones(L))
    assert isinstance(solvers.Auto().select(net), solvers.KroneckerSchur)
    assert type(jaxqep.GaussianNetwork(H, g, n).default_solver()).__name__ == "DirectLyapunov"

    def total(s):
        return jaxqep.entropy_production(jaxqep.GaussianNetwork(H, g, n, s * jnp.ones(L))).total

    rates = jnp.array([0.02, 0.05, 0.2])
    batched = jax.jit(jax.vmap(total))(rates)
    for s, b in zip(rates, batched):
        d = jaxqep.entropy_production(jaxqep.GaussianNetwork(H, g, n, s * jnp.ones(L)),
                                      solvers.DirectLyapunov()).total
        np.testing.assert_allclose(float(b), float(d), rtol=1e-9)


def test_fig3_rates_lattice():
    # Baths ten times stronger than the probes (the bath-row preconditioner's regime).
    side = 8
    L = side * side
    H = gaussian.lattice_hamiltonian(side, side, 1.0, 3e-7)
    g = jnp.zeros(L).at[0].set(1e-6).at[-1].set(1e-6)
    n = jnp.zeros(L).at[0].set(1.0).at[-1].set(2.0)
    net = jaxqep.GaussianNetwork(H, g, n, 1e-7 * jnp.ones(L))
    ref = dense_reference(np.asarray(H), np.asarray(g), np.asarray(n), 1e-7 * np.ones(L))
    for solver in (solvers.KroneckerSchur(fallback=False), solvers.EighSchur(fallback=False)):
        ep = jaxqep.entropy_production(net, solver)
        C = np.asarray(ep.covariance)
        assert np.max(np.abs(C - ref)) <= 1e-9 * np.max(np.abs(ref)), type(solver).__name__
        assert float(ep.residual) < 1e-13


def test_gradients_vs_finite_differences():
    # Derivatives with respect to the x-factor, the rates, the occupations and the probes;
    # the complex lattice keeps its Kronecker structure along the whole path.
    r = rng(21)
    lx, ly = 3, 4
    Hx, Hy, dHx = random_hermitian(r, lx), random_hermitian(r, ly), random_hermitian(r, lx)
    _, gam, occ, sc = _random_lattice(22, lx, ly)

    def f(x):
        H = jnp.kron(Hx + x[0] * dHx, jnp.eye(ly)) + jnp.kron(jnp.eye(lx), Hy)
        net = jaxqep.GaussianNetwork(H, gam * x[1], occ * x[2], sc * x[3])
        return jaxqep.entropy_production(
            net, solvers.KroneckerSchur(shape=(lx, ly), fallback=False)).total

    check_grad_vs_fd(f, jnp.array([0.1, 1.0, 1.0, 1.0]), rng(0), n_dirs=3, rtol=1e-6)


def test_bad_shape():
    with pytest.raises(ValueError, match="shape"):
        solvers.KroneckerSchur(shape=(4,))
    with pytest.raises(ValueError, match="shape"):
        solvers.KroneckerSchur(shape=(0, 4))
    H = gaussian.lattice_hamiltonian(3, 4, 1.0, 0.5)
    g = jnp.zeros(12).at[0].set(0.1)
    net = jaxqep.GaussianNetwork(H, g, g, 0.05 * jnp.ones(12))
    with pytest.raises(ValueError, match=r"shape \(4, 4\) has 16 sites but the network has L = 12"):
        jaxqep.entropy_production(net, solvers.KroneckerSchur(shape=(4, 4)))


@pytest.mark.parametrize("complex_h", [False, True])
def test_structured_residuals_vs_dense(complex_h):
    # The residual of solve_ness with the Kronecker product (and the route's probe) against
    # the dense formulas, at the NESS, off it, and where the structure does not hold.
    from jaxqep.gaussian._lyapunov import _probe_residual, coherent_part
    from jaxqep.solvers._gaussian_eigh_schur import _kron_products

    H, gam, occ, sc = _random_lattice(11, 4, 5, complex_h)
    ref = dense_reference(H, gam, occ, sc)
    A = stability_matrix(jnp.asarray(H), jnp.asarray(gam), jnp.asarray(sc))
    B = -jnp.diag(jnp.asarray(gam * occ)).astype(A.dtype)
    g = jnp.asarray(sc)
    r = rng(12)
    E = r.normal(size=(20, 20)) + 1j * r.normal(size=(20, 20))
    for X in (jnp.asarray(ref), jnp.asarray(ref + 1e-7 * (E + E.conj().T))):
        dense = float(relative_residual(A, g, X, B, hermitian=True))
        for real_h in ([True, False] if not complex_h else [False]):
            kr = float(relative_residual(A, g, X, B, hermitian=True, real_h=real_h,
                                         kron=(4, 5)))
            assert abs(kr - dense) <= 1e-15 + 1e-9 * dense
        Kx, Ky, exact = kronecker_factors(coherent_part(A, not complex_h), 4, 5)
        assert bool(exact)
        p1 = float(_probe_residual(A, g, X, B))
        p2 = float(_probe_residual(A, g, X, B, _kron_products(A, Kx, Ky)))
        assert abs(p1 - p2) <= 1e-15 + 1e-9 * p1
    # A stale shape (disorder added after detection): the dense product is used instead.
    Ad = A + 1j * jnp.diag(jnp.asarray(rng(13).uniform(0, 0.2, 20)))
    X = jnp.asarray(ref)
    np.testing.assert_allclose(
        float(relative_residual(Ad, g, X, B, hermitian=True, kron=(4, 5))),
        float(relative_residual(Ad, g, X, B, hermitian=True)), rtol=1e-9)


def test_hermitian_shortcuts_are_exact():
    # stability_matrix(hermitian=True) (H̄ for Hᵀ) and the NESS observables' Cholesky on
    # Xnᵀ (no symmetrisation, no layout copy) give the same numbers bit for bit.
    from jaxqep.gaussian._model import validate_inputs
    from jaxqep.gaussian._observables import _inverse_excess

    H, gam, occ, sc = _random_lattice(14, 3, 4, complex_h=True)
    Hv = validate_inputs(jnp.asarray(H), jnp.asarray(gam), jnp.asarray(occ), jnp.asarray(sc))[0]
    a = stability_matrix(Hv, jnp.asarray(gam), jnp.asarray(sc))
    b = stability_matrix(Hv, jnp.asarray(gam), jnp.asarray(sc), hermitian=True)
    assert bool(jnp.all(a == b))
    ref = dense_reference(H, gam, occ, sc)
    X = jnp.asarray(0.5 * (ref + ref.conj().T)) + 0.5 * jnp.eye(12)
    d1, l1 = _inverse_excess(X)
    d2, l2 = _inverse_excess(X, hermitian=True)
    np.testing.assert_allclose(np.asarray(d2), np.asarray(d1), rtol=1e-13, atol=0)
    assert abs(float(l1) - float(l2)) <= 1e-13
    # Against the definition [X⁻¹]_kk - 1/X_kk.
    Xi = np.linalg.inv(np.asarray(X))
    np.testing.assert_allclose(np.asarray(d2), np.real(np.diag(Xi)) - 1 / np.real(np.diag(X)),
                               rtol=1e-8)
