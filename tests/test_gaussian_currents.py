"""Phase-space currents J_k (8)/(16), A_k (11) and the balances (1), (17)-(18), (21)-(23).

Independent routes: the currents are rebuilt at phase-space points from their definitions by
differentiating an independently written Wigner function (A5) on the interleaved 2L-vector
(Wirtinger derivatives by autodiff); Π_k, Φ_k are integrated over phase space numerically
(2D grid for one mode, Gauss-Hermite for two); the Fokker-Planck equation (6) is checked
pointwise against ∂_t W from (B1); time derivatives along transients are central differences.
"""

import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import random_hermitian, rng

from jaxqep import gaussian
from jaxqep.gaussian import (
    current_fields,
    entropy_flux,
    entropy_production_rates,
    phase_space_currents,
    relative_entropy_balance,
    wigner_function,
)


def random_state(r, L, scale=0.6):
    """A correlated, complex covariance C = <a_i† a_j> with C >= 0."""
    G = r.normal(size=(L, L)) + 1j * r.normal(size=(L, L))
    C = scale * G @ G.conj().T / L + 0.05 * np.eye(L)
    return C


def wigner_a5(C, alpha=None):
    """(A5) written on the interleaved vector (α_1, α_1*, ...) with Θ of wigner_covariance
    (inverse and determinant by NumPy); ``wigner_a5(C)`` returns the function of α."""
    theta = np.asarray(gaussian.wigner_covariance(C))
    L = C.shape[0]
    ti = jnp.asarray(np.linalg.inv(theta))
    norm = np.pi**L * np.sqrt(float(np.real(np.linalg.det(theta))))

    def W(a):
        v = jnp.stack([a, jnp.conj(a)], axis=-1).reshape(-1)
        return jnp.exp(-0.5 * jnp.real(jnp.conj(v) @ ti @ v)) / norm

    return W if alpha is None else W(alpha)


def wirtinger_conj(f, alpha):
    """∂f/∂α_k* = ½(∂_x + i∂_y) f for real f, by autodiff; shape (L,)."""
    L = alpha.shape[0]

    def fr(xy):
        return f(xy[:L] + 1j * xy[L:])

    gr = jax.grad(fr)(jnp.concatenate([jnp.real(alpha), jnp.imag(alpha)]))
    return 0.5 * (gr[:L] + 1j * gr[L:])


def test_currents_match_their_definitions_pointwise():
    r = rng(0)
    L = 2
    H = random_hermitian(r, L)
    C = random_state(r, L)
    g = np.array([0.7, 0.4])
    n = np.array([0.3, 1.7])
    cur = phase_space_currents(H, g, n, C)
    pts = jnp.asarray(r.normal(size=(5, L)) + 1j * r.normal(size=(5, L))) * 0.8
    fields = current_fields(cur, pts)
    for p, alpha in enumerate(pts):
        W = float(wigner_a5(C, alpha))
        np.testing.assert_allclose(float(fields["W"][p]), W, rtol=1e-12)
        dW = wirtinger_conj(lambda a: wigner_a5(C, a), alpha)
        J8 = 0.5 * g * (alpha * W + (n + 0.5) * dW)  # eq. (8)
        np.testing.assert_allclose(np.asarray(fields["J"][p]), np.asarray(J8), rtol=1e-10)
        # eq. (16): J_k = (γ_k/2)(n_k + ½) W ∂_k* ln(W/W_eq), W_eq of eq. (9)
        def log_ratio(a):
            lw_eq = -jnp.sum(jnp.abs(a) ** 2 / (n + 0.5) + jnp.log(np.pi * (n + 0.5)))
            return jnp.log(wigner_a5(C, a)) - lw_eq

        J16 = 0.5 * g * (n + 0.5) * W * wirtinger_conj(log_ratio, alpha)
        np.testing.assert_allclose(np.asarray(J16), np.asarray(J8), rtol=1e-10)
        A11 = 1j * (H @ np.asarray(alpha)) * W  # eq. (11)
        np.testing.assert_allclose(np.asarray(fields["A"][p]), A11, rtol=1e-10)


def test_fokker_planck_equation_pointwise():
    """∂_t W (from dC/dt of (B1)) = Σ_k ∂_k(A_k + J_k) + c.c. (eqs. 6, 7, 10), with a
    self-consistent channel included."""
    r = rng(1)
    L = 2
    H = random_hermitian(r, L)
    C = random_state(r, L)
    g, n = np.array([0.7, 0.0]), np.array([0.3, 0.0])
    sc, nt = np.array([0.2, 0.5]), np.array([0.9, 0.4])
    cur = phase_space_currents(H, g, n, C, sc, nt)
    A = 1j * H.T - 0.5 * np.diag(g + sc)
    dC = A @ C + C @ A.conj().T + np.diag(g * n + sc * nt)
    for alpha in jnp.asarray(r.normal(size=(4, L)) + 1j * r.normal(size=(4, L))) * 0.7:
        dWdt = jax.jvp(lambda c, a=alpha: wigner_function(c, a), (jnp.asarray(C),),
                       (jnp.asarray(dC),))[1]

        def total_current(xy):
            f = current_fields(cur, xy[:L] + 1j * xy[L:])
            return f["A"] + f["J"] + f["J_sc"]

        xy = jnp.concatenate([jnp.real(alpha), jnp.imag(alpha)])
        jr = jax.jacfwd(lambda v: jnp.real(total_current(v)))(xy)
        ji = jax.jacfwd(lambda v: jnp.imag(total_current(v)))(xy)
        # ∂_k F_k = ½(∂_x - i∂_y) F_k, and ∂_k F_k + c.c. = 2 Re ∂_k F_k
        div = sum(jr[k, k] + ji[k, L + k] for k in range(L))  # 2 Re ∂_k F_k summed
        np.testing.assert_allclose(float(div), float(dWdt), rtol=1e-10, atol=1e-14)


def test_one_mode_phase_space_integrals():
    """(17), (18) for one mode on a 2D grid, vs the currents' closed form and (C2)/(20)."""
    c, gam, nb = 1.3, 0.6, 0.4
    C = np.array([[c]], dtype=complex)
    cur = phase_space_currents(np.eye(1), [gam], [nb], C)
    x = np.linspace(-9.0, 9.0, 241)
    h = x[1] - x[0]
    X, Y = np.meshgrid(x, x, indexing="ij")
    alpha = jnp.asarray((X + 1j * Y).reshape(-1, 1))
    W = wigner_a5(C, jnp.zeros(1))  # W(0), normalisation of the same Gaussian
    # J from (8) with ∂*W = -W α*/(...) done by autodiff on the grid
    Wf = wigner_a5(C)
    dW = jax.jit(jax.vmap(lambda a: wirtinger_conj(Wf, a)))(alpha)[:, 0]
    Wg = jax.vmap(Wf)(alpha)
    J = 0.5 * gam * (alpha[:, 0] * Wg + (nb + 0.5) * dW)
    pi_grid = 4 / (gam * (nb + 0.5)) * float(jnp.sum(jnp.abs(J) ** 2 / Wg)) * h * h
    phi_grid = 2 / (nb + 0.5) * float(jnp.sum(jnp.real(J * jnp.conj(alpha[:, 0])))) * h * h
    pi_exact = gam * (c - nb) ** 2 / ((c + 0.5) * (nb + 0.5))
    phi_exact = gam * (c - nb) / (nb + 0.5)
    assert float(W) > 0
    np.testing.assert_allclose(pi_grid, pi_exact, rtol=1e-10)
    np.testing.assert_allclose(phi_grid, phi_exact, rtol=1e-10)
    np.testing.assert_allclose(float(cur.pi[0]), pi_exact, rtol=1e-13)
    np.testing.assert_allclose(float(cur.phi[0]), phi_exact, rtol=1e-13)
    np.testing.assert_allclose(float(entropy_production_rates(C, [gam], [nb])[0]), pi_exact,
                               rtol=1e-13)


def test_two_mode_gauss_hermite_integrals():
    r = rng(3)
    L = 2
    H = random_hermitian(r, L)
    C = random_state(r, L)
    g, n = np.array([0.5, 0.9]), np.array([0.2, 1.1])
    cur = phase_space_currents(H, g, n, C)
    # Gauss-Hermite in whitened coordinates: α = T ξ with ⟨α α†⟩ = Xᵀ = T T†.
    X = C + 0.5 * np.eye(L)
    T = np.linalg.cholesky(X.T)
    z, w = np.polynomial.hermite.hermgauss(8)  # ∫ e^{-u²} f(u) du, exact to degree 15
    idx = np.array(list(itertools.product(range(8), repeat=2 * L)))
    u, wt = z[idx], np.prod(w[idx], axis=1) / np.pi**L
    xi = u[:, :L] + 1j * u[:, L:]  # ⟨ξ ξ†⟩ = 1 under the weight e^{-|ξ|²}/π^L
    alpha = jnp.asarray(xi @ T.T)
    Wf = wigner_a5(C)
    Wa = jax.vmap(Wf)(alpha)[:, None]
    dW = jax.jit(jax.vmap(lambda a: wirtinger_conj(Wf, a)))(alpha)
    v = np.asarray(0.5 * g * (alpha * Wa + (n + 0.5) * dW) / Wa)  # J_k/W at the nodes
    pi_q = wt @ np.abs(v) ** 2
    phi_q = wt @ np.real(v * np.conj(np.asarray(alpha)))
    pi_q *= 4 / (g * (n + 0.5))
    phi_q *= 2 / (n + 0.5)
    np.testing.assert_allclose(np.asarray(cur.pi), pi_q, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(cur.phi), phi_q, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(cur.pi), np.asarray(entropy_production_rates(C, g, n)),
                               rtol=1e-11)
    np.testing.assert_allclose(np.asarray(cur.phi), np.asarray(entropy_flux(C, g, n)),
                               rtol=1e-11)


# One compiled propagator for both transient tests (same shapes; sc_rates = 0 is no probe).
EVOLVE = jax.jit(gaussian.evolve_covariance)


def transient_setup(seed=4):
    r = rng(seed)
    L = 3
    H = random_hermitian(r, L)
    g = np.array([0.6, 0.0, 0.4])  # one bath per site, site 2 without: the seed's setting
    n = np.array([0.2, 0.0, 1.8])
    C0 = random_state(r, L, 1.5)
    return H, g, n, C0


def test_transient_entropy_and_relative_entropy_balance():
    H, g, n, C0 = transient_setup()
    ts = jnp.array([0.3, 4.0])
    hstep = 1e-4
    t_all = jnp.concatenate([ts - hstep, ts, ts + hstep])
    tr = EVOLVE(H, g, n, C0, t_all, sc_rates=np.zeros(3))
    T = ts.size
    n_ref = np.array([0.2, 0.7, 1.8])  # the bathless site takes any reference
    bal = jax.jit(
        jax.vmap(lambda C: relative_entropy_balance(H, g, n, C, reference_occupations=n_ref))
    )
    cur = jax.vmap(lambda C: phase_space_currents(H, g, n, C))(tr.covariance)
    b = bal(tr.covariance)
    mid = slice(T, 2 * T)
    pi = np.asarray(jnp.sum(cur.pi, axis=1))[mid]
    phi = np.asarray(jnp.sum(cur.phi, axis=1))[mid]
    assert np.all(np.asarray(cur.pi) >= 0)
    assert np.min(pi) > 1e-3  # far from the NESS: a real test of the balance
    # eq. (1): dS/dt = Π - Φ, S the Wigner entropy (12), by central differences
    S = np.asarray(tr.entropy)
    dS = (S[2 * T:] - S[:T]) / (2 * hstep)
    np.testing.assert_allclose(dS, pi - phi, rtol=1e-7, atol=1e-9)
    # eq. (22): d/dt S(W‖W_eq) = -∫U ln W_eq - Π, by central differences
    D = np.asarray(b.relative_entropy)
    dD = (D[2 * T:] - D[:T]) / (2 * hstep)
    np.testing.assert_allclose(dD, np.asarray(b.unitary_term - b.pi)[mid], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(np.asarray(b.rate)[mid], dD, rtol=1e-7, atol=1e-9)
    assert np.max(np.abs(np.asarray(b.reference_mismatch))) < 1e-13
    assert np.max(np.abs(np.asarray(b.residual))) < 1e-13
    # the unitary term is not trivially zero, and depends on the free reference
    assert np.min(np.abs(np.asarray(b.unitary_term))) > 1e-3
    # eq. (23) at the NESS: Π_NESS = -∫U(W_NESS) ln W_eq = eq. (26)
    ness = gaussian.entropy_production(H, g, n, np.zeros(3))
    bn = relative_entropy_balance(H, g, n, ness.covariance, reference_occupations=n_ref)
    assert abs(float(bn.rate)) < 1e-12
    np.testing.assert_allclose(float(bn.unitary_term), float(ness.total), rtol=1e-10)
    np.testing.assert_allclose(float(bn.pi), float(ness.total), rtol=1e-10)
    np.testing.assert_allclose(float(bn.pi), float(ness.pi_ness), rtol=1e-10)


def test_transient_with_self_consistent_reservoirs():
    H, g, n, C0 = transient_setup(seed=5)
    sc = np.array([0.3, 0.2, 0.0])  # site 0 has a physical bath and a probe
    ts = jnp.array([0.5, 2.0])
    hstep = 1e-4
    t_all = jnp.concatenate([ts - hstep, ts, ts + hstep])
    tr = EVOLVE(H, g, n, C0, t_all, sc_rates=sc)
    ness = gaussian.entropy_production(H, g, n, sc)
    nt = np.real(np.diagonal(np.asarray(ness.covariance)))
    T = ts.size
    b = jax.jit(jax.vmap(lambda C: relative_entropy_balance(H, g, n, C, sc, nt)))(tr.covariance)
    cur = jax.vmap(lambda C: phase_space_currents(H, g, n, C, sc, nt))(tr.covariance)
    # The trajectory's own Π, Φ per channel (entropy_production_rates) = the currents' ones
    np.testing.assert_allclose(np.asarray(cur.pi), np.asarray(tr.pi), rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(np.asarray(cur.pi_sc), np.asarray(tr.pi_sc), rtol=1e-9,
                               atol=1e-13)
    np.testing.assert_allclose(np.asarray(cur.phi_sc), np.asarray(tr.phi_sc), rtol=1e-9,
                               atol=1e-13)
    D = np.asarray(b.relative_entropy)
    dD = (D[2 * T:] - D[:T]) / (2 * hstep)
    rhs = np.asarray(b.unitary_term - b.pi + b.reference_mismatch)[T:2 * T]
    np.testing.assert_allclose(dD, rhs, rtol=1e-7, atol=1e-9)
    # during the transient the probes are not at ñ = C_kk: the mismatch term is needed
    assert np.min(np.abs(np.asarray(b.reference_mismatch)[T:2 * T])) > 1e-4
    # at the NESS ñ_k = C_kk, the probe fluxes vanish and eq. (23) holds with Π_r + Π_sc
    bn = relative_entropy_balance(H, g, n, ness.covariance, sc)
    cn = phase_space_currents(H, g, n, ness.covariance, sc)
    assert np.max(np.abs(np.asarray(cn.phi_sc))) < 1e-12
    np.testing.assert_allclose(np.asarray(cn.pi_sc), np.asarray(ness.pi_sc), rtol=1e-9,
                               atol=1e-14)
    assert abs(float(bn.reference_mismatch)) < 1e-12 and abs(float(bn.rate)) < 1e-12
    np.testing.assert_allclose(float(bn.unitary_term), float(ness.total), rtol=1e-9)


def test_gradients_finite_differences_and_degenerate_point():
    r = rng(6)
    L = 2
    H = jnp.asarray(random_hermitian(r, L))
    C = jnp.asarray(random_state(r, L))
    dC = jnp.asarray(random_state(r, L))
    g, n = jnp.array([0.5, 0.3]), jnp.array([0.4, 1.0])

    def f(t, C0):
        return jnp.sum(phase_space_currents(H, g, n, C0 + t * dC).pi)

    for C0 in (C, jnp.diag(n).astype(complex)):  # the second: equilibrium, Π = 0 (minimum)
        d = jax.grad(f)(0.0, C0)
        e = 1e-5  # Π has a cubic term at equilibrium: central-FD error ~7e-10 here
        fd = (f(e, C0) - f(-e, C0)) / (2 * e)
        assert np.isfinite(float(d))
        np.testing.assert_allclose(float(d), float(fd), rtol=1e-6, atol=3e-9)
    assert abs(float(f(0.0, jnp.diag(n).astype(complex)))) < 1e-15


def test_bad_input_raises_naming_the_argument():
    H = jnp.eye(2)
    g, n = jnp.array([0.5, 0.3]), jnp.array([0.4, 1.0])
    with pytest.raises(ValueError, match="C: must be Hermitian"):
        phase_space_currents(H, g, n, jnp.array([[0.1, 0.2], [0.0, 0.1]]))
    with pytest.raises(ValueError, match="C: C \\+ 1/2 must be positive definite"):
        phase_space_currents(H, g, n, -jnp.eye(2))
    with pytest.raises(ValueError, match="C: expected shape"):
        phase_space_currents(H, g, n, jnp.eye(3))
    with pytest.raises(ValueError, match="sc_occupations: given without sc_rates"):
        phase_space_currents(H, g, n, jnp.eye(2), sc_occupations=jnp.ones(2))
    with pytest.raises(ValueError, match="gammas"):
        phase_space_currents(H, -g, n, jnp.eye(2))
    with pytest.raises(ValueError, match="reference_occupations: must be >= 0"):
        relative_entropy_balance(H, g, n, jnp.eye(2), reference_occupations=-jnp.ones(2))
    with pytest.raises(ValueError, match="alpha: expected shape"):
        wigner_function(jnp.eye(2), jnp.zeros(3))
    with pytest.raises((eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError), match="C: C \\+ 1/2"):
        jax.jit(lambda C: phase_space_currents(H, g, n, C).pi)(-jnp.eye(2))
