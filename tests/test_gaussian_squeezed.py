"""Squeezed thermal baths on Gaussian networks (issue #14).

Independent routes used here (none shares code with jaxqep.gaussian._squeezed*):
* the real 2L×2L quadrature covariance equation, built from the Heisenberg drift and the
  bath states' quadrature covariances, solved by a dense Kronecker (vectorised) solve;
* the entropy production and flux in the quadrature form of the Fokker-Planck derivation,
  Π_k = ½[γ² tr(d⁻¹σ_kk) - 4γ + tr(d (σ⁻¹)_kk)], Φ_k = ½γ² tr(d⁻¹σ_kk) - γ, d = γ σ_bath;
* QuTiP steady states of the truncated Fock-space master equation (test-only);
* the entropy balance dS/dt = Π - Φ along an exact (expm) transient, S(t) by NumPy.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import qutip
import scipy.linalg as sla
from helpers import random_hermitian, rng

import jaxqep
from jaxqep.gaussian import (
    squeezed_covariance_rhs,
    squeezed_entropy_flux,
    squeezed_entropy_production_rates,
)


def _network(seed: int, L: int, frac: float = 0.8):
    r = rng(seed)
    H = random_hermitian(r, L, 0.7)
    g = r.uniform(0.3, 1.5, L)
    n = r.uniform(0.05, 2.0, L)
    m = frac * r.uniform(0, 1, L) * np.sqrt(n * (n + 1)) * np.exp(2j * np.pi * r.uniform(size=L))
    return H, g, n, m


# ----------------------------------------------------------------------------------------
# Independent NumPy route: real quadratures r = (x_1..x_L, p_1..p_L), a = (x + i p)/√2.
# ----------------------------------------------------------------------------------------


def _quadrature_model(H, g, n, m):
    L = H.shape[0]
    K = -1j * H - 0.5 * np.diag(g)  # d a/dt = K a (Heisenberg + damping)
    A = np.block([[K.real, -K.imag], [K.imag, K.real]])
    D = np.zeros((2 * L, 2 * L))
    for k in range(L):  # γ_k × the bath state's quadrature covariance
        D[k, k] = g[k] * (n[k] + 0.5 + m[k].real)
        D[L + k, L + k] = g[k] * (n[k] + 0.5 - m[k].real)
        D[k, L + k] = D[L + k, k] = g[k] * m[k].imag
    return A, D


def _moments(sig):
    L = sig.shape[0] // 2
    xx, xp, px, pp = sig[:L, :L], sig[:L, L:], sig[L:, :L], sig[L:, L:]
    C = 0.5 * (xx + pp + 1j * (xp - px)) - 0.5 * np.eye(L)
    S = 0.5 * (xx - pp + 1j * (xp + px))
    return C, S


def _dense_ness(H, g, n, m):
    A, D = _quadrature_model(H, g, n, m)
    N = A.shape[0]
    M = np.kron(A, np.eye(N)) + np.kron(np.eye(N), A)  # vec(Aσ + σAᵀ), row-major
    sig = np.linalg.solve(M, -D.reshape(-1)).reshape(N, N)
    return 0.5 * (sig + sig.T)


def _quadrature_pi_phi(sig, g, n, m):
    L = sig.shape[0] // 2
    sinv = np.linalg.inv(sig)
    pi, phi = np.zeros(L), np.zeros(L)
    for k in range(L):
        idx = [k, L + k]
        bath = np.array([[n[k] + 0.5 + m[k].real, m[k].imag], [m[k].imag, n[k] + 0.5 - m[k].real]])
        d = g[k] * bath
        skk = sig[np.ix_(idx, idx)]
        tr1 = np.trace(np.linalg.solve(d, skk))
        phi[k] = 0.5 * g[k] ** 2 * tr1 - g[k]
        pi[k] = 0.5 * (g[k] ** 2 * tr1 - 4 * g[k] + np.trace(d @ sinv[np.ix_(idx, idx)]))
    return pi, phi


def _wigner_entropy_np(C, S):
    L = C.shape[0]
    theta = np.block([[C.T + 0.5 * np.eye(L), S], [S.conj(), C + 0.5 * np.eye(L)]])
    return 0.5 * np.linalg.slogdet(theta)[1] + L * (1 + np.log(np.pi))


# ----------------------------------------------------------------------------------------
# (a) m = 0 is the GaussianNetwork
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed,L", [(0, 4), (1, 4)])
def test_zero_squeezing_reduces_to_gaussian_network(seed, L):
    H, g, n, _ = _network(seed, L)
    ep = jaxqep.entropy_production(jaxqep.SqueezedGaussianNetwork(H, g, n, np.zeros(L)))
    ref = jaxqep.entropy_production(jaxqep.GaussianNetwork(H, g, n))
    assert np.all(np.asarray(ep.squeezing) == 0)
    np.testing.assert_allclose(ep.covariance, ref.covariance, rtol=0, atol=1e-14)
    np.testing.assert_allclose(ep.pi, ref.pi, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ep.phi, ref.phi, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ep.total, ref.total, rtol=1e-12)
    np.testing.assert_allclose(ep.wigner_entropy, ref.wigner_entropy, rtol=1e-13)
    np.testing.assert_allclose(ep.currents, ref.currents, atol=1e-14)
    # the transient formulas too, at a state with S = 0
    C = np.asarray(ref.covariance) + 0.1 * np.eye(L)
    pi0 = squeezed_entropy_production_rates(C, np.zeros((L, L)), g, n, np.zeros(L))
    np.testing.assert_allclose(pi0, jaxqep.gaussian.entropy_production_rates(C, g, n), 1e-12)
    phi0 = squeezed_entropy_flux(C, np.zeros((L, L)), g, n, np.zeros(L))
    np.testing.assert_allclose(phi0, jaxqep.gaussian.entropy_flux(C, g, n), rtol=1e-12)


# ----------------------------------------------------------------------------------------
# (b) NESS vs a dense quadrature solve and vs QuTiP
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed,L", [(2, 1), (3, 4), (4, 4)])
def test_ness_and_rates_vs_dense_quadrature_route(seed, L):
    H, g, n, m = _network(seed, L)
    ep = jaxqep.entropy_production(jaxqep.SqueezedGaussianNetwork(H, g, n, m))
    sig = _dense_ness(H, g, n, m)
    C, S = _moments(sig)
    np.testing.assert_allclose(ep.covariance, C, atol=1e-12)
    np.testing.assert_allclose(ep.squeezing, S, atol=1e-12)
    assert np.abs(np.asarray(ep.squeezing)).max() > 1e-2  # squeezing does reach the NESS
    pi, phi = _quadrature_pi_phi(sig, g, n, m)
    np.testing.assert_allclose(ep.pi, pi, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(ep.phi, phi, rtol=1e-9, atol=1e-13)
    assert np.all(np.asarray(ep.pi) >= 0)
    np.testing.assert_allclose(ep.flux_total, ep.total, rtol=1e-10)  # NESS: Π = Φ
    np.testing.assert_allclose(np.sum(ep.bath_currents), 0, atol=1e-12)
    np.testing.assert_allclose(ep.wigner_entropy, _wigner_entropy_np(C, S), rtol=1e-12)
    assert ep.residual < 1e-12 and ep.condition >= 1
    ss = jaxqep.steady_state(jaxqep.SqueezedGaussianNetwork(H, g, n, m))
    np.testing.assert_allclose(ss.squeezing, S, atol=1e-12)
    np.testing.assert_allclose(ss.wigner_covariance, jaxqep.gaussian.wigner_covariance(C, S))


def _qutip_moments(H, g, n, m, dim):
    L = H.shape[0]
    a1 = qutip.destroy(dim)
    eye = qutip.qeye(dim)
    ops = [qutip.tensor(*[a1 if j == k else eye for j in range(L)]) for k in range(L)]
    Hq = sum(H[k, l] * ops[k].dag() * ops[l] for k in range(L) for l in range(L))
    Lv = qutip.liouvillian(Hq)

    def dis(A, B):  # 𝒟(A, B)ρ = AρB - ½{BA, ρ}
        return qutip.sprepost(A, B) - 0.5 * (qutip.spre(B * A) + qutip.spost(B * A))

    for k, a in enumerate(ops):
        ad = a.dag()
        Lv += g[k] * (
            (n[k] + 1) * dis(a, ad)
            + n[k] * dis(ad, a)
            - m[k] * dis(ad, ad)
            - np.conj(m[k]) * dis(a, a)
        )
    rho = qutip.steadystate(Lv)
    C = np.array([[qutip.expect(ops[i].dag() * ops[j], rho) for j in range(L)] for i in range(L)])
    S = np.array([[qutip.expect(ops[i] * ops[j], rho) for j in range(L)] for i in range(L)])
    return C, S


@pytest.mark.parametrize(
    "H,g,n,m,dim,tol",
    [
        # truncation error measured against dim + 4: 1.2e-9 (one mode, dim 20);
        # 1.5e-4 in S and 8e-6 in C (two modes, dim 7 per mode; 7e-6 at dim 9)
        (np.array([[0.4]]), np.array([1.0]), np.array([0.2]), np.array([0.25 + 0.1j]), 20, 1e-8),
        (
            np.array([[0.3, 0.2 - 0.1j], [0.2 + 0.1j, -0.2]]),
            np.array([1.0, 0.6]),
            np.array([0.05, 0.15]),
            np.array([0.1j, -0.12]),
            7,
            3e-4,
        ),
    ],
)
def test_ness_vs_qutip_fock_space(H, g, n, m, dim, tol):
    C, S = _qutip_moments(H, g, n, m, dim)
    ss = jaxqep.steady_state(jaxqep.SqueezedGaussianNetwork(H, g, n, m))
    np.testing.assert_allclose(ss.covariance, C, atol=tol)
    np.testing.assert_allclose(ss.squeezing, S, atol=tol)
    assert np.abs(S).max() > 0.05


# ----------------------------------------------------------------------------------------
# (c) entropy balance along a transient
# ----------------------------------------------------------------------------------------


def test_entropy_balance_along_transient():
    L = 3
    H, g, n, m = _network(5, L, frac=0.9)
    # Non-equilibrium initial Gaussian state: a thermal state and a squeezed one, coupled.
    C0 = np.diag([1.5, 0.1, 0.8]).astype(complex)
    S0 = np.zeros((L, L), complex)
    S0[1, 1] = 0.3
    S0[0, 2] = S0[2, 0] = 0.2 - 0.1j
    A = 1j * H.T - 0.5 * np.diag(g)
    B = -1j * H - 0.5 * np.diag(g)
    I = np.eye(L)
    # row-major vec: vec(AC + CA^†) = (A⊗I + I⊗Ā) vec C, vec(BS + SBᵀ) = (B⊗I + I⊗B) vec S
    Mc, Ms = np.kron(A, I) + np.kron(I, A.conj()), np.kron(B, I) + np.kron(I, B)
    fc, fs = np.diag(g * n).reshape(-1), np.diag(g * m).reshape(-1)

    def state(t):
        out = []
        for M, f, x0 in ((Mc, fc, C0), (Ms, fs, S0)):
            big = np.zeros((L * L + 1, L * L + 1), complex)
            big[:-1, :-1], big[:-1, -1] = M, f
            v = sla.expm(big * t) @ np.append(x0.reshape(-1), 1.0)
            out.append(v[:-1].reshape(L, L))
        return out

    h = 1e-4
    for t in (0.0 + 2 * h, 0.3, 1.0, 3.0):
        C, S = state(t)
        dC, dS = squeezed_covariance_rhs(H, g, n, m, C, S)
        np.testing.assert_allclose(dC, (state(t + h)[0] - state(t - h)[0]) / (2 * h), atol=1e-7)
        np.testing.assert_allclose(dS, (state(t + h)[1] - state(t - h)[1]) / (2 * h), atol=1e-7)
        rate = (_wigner_entropy_np(*state(t + h)) - _wigner_entropy_np(*state(t - h))) / (2 * h)
        pi = np.asarray(squeezed_entropy_production_rates(C, S, g, n, m))
        phi = np.asarray(squeezed_entropy_flux(C, S, g, n, m))
        assert np.all(pi >= 0)
        assert abs(rate - (pi.sum() - phi.sum())) < 1e-7, (t, rate, pi.sum() - phi.sum())
        # per channel, against the quadrature form at the transient state
        sig = np.block(
            [
                [(C + C.T).real / 2 + (S.real) + 0.5 * I, (C - C.T).imag / 2 + S.imag],
                [-(C - C.T).imag / 2 + S.imag, (C + C.T).real / 2 - S.real + 0.5 * I],
            ]
        )
        np.testing.assert_allclose(_moments(sig)[0], C, atol=1e-12)  # σ built right
        np.testing.assert_allclose(_moments(sig)[1], S, atol=1e-12)
        pq, fq = _quadrature_pi_phi(sig, g, n, m)
        np.testing.assert_allclose(pi, pq, rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(phi, fq, rtol=1e-9, atol=1e-13)
    # the library's exact propagator agrees with this one, and its balance closes
    ts = np.array([0.0, 0.3, 1.0, 3.0])
    tr = jaxqep.gaussian.evolve_squeezed_covariance(H, g, n, m, C0, ts, S0)
    for i, t in enumerate(ts):
        C, S = state(t)
        np.testing.assert_allclose(tr.covariance[i], C, atol=1e-12)
        np.testing.assert_allclose(tr.squeezing[i], S, atol=1e-12)
        np.testing.assert_allclose(tr.entropy[i], _wigner_entropy_np(C, S), rtol=1e-12)
        np.testing.assert_allclose(
            tr.pi[i], squeezed_entropy_production_rates(C, S, g, n, m), rtol=1e-9, atol=1e-13
        )
    assert np.max(np.asarray(tr.balance_error)) < 1e-12
    assert np.all(np.asarray(tr.pi) >= 0)


# ----------------------------------------------------------------------------------------
# (d) gradients
# ----------------------------------------------------------------------------------------


def _objective(H, g, n):
    def f(p):
        m = p["mr"] + 1j * p["mi"]
        Hp = H + p["h"] * np.array([[0, 1], [1, 0]]) + 1j * p["h2"] * np.array([[0, -1], [1, 0]])
        ep = jaxqep.entropy_production(jaxqep.SqueezedGaussianNetwork(Hp, p["g"], p["n"], m))
        return jnp.stack(
            [
                ep.total,
                ep.pi[0],
                ep.phi[1],
                jnp.real(ep.squeezing[0, 1]),
                jnp.imag(ep.squeezing[1, 1]),
                ep.wigner_entropy,
            ]
        )

    return f


@pytest.mark.parametrize("degenerate", [False, True])
def test_gradients_vs_central_differences(degenerate):
    H = np.array([[0.3, 0.2], [0.2, -0.1]], complex)
    if degenerate:  # equal thermal baths, no squeezing: Π = 0 is a minimum
        g, n = np.array([1.0, 0.7]), np.array([0.4, 0.4])
        mr, mi = np.zeros(2), np.zeros(2)
    else:
        g, n = np.array([1.0, 0.7]), np.array([0.4, 1.2])
        mr, mi = np.array([0.2, -0.5]), np.array([0.3, 0.4])
    p = dict(mr=mr, mi=mi, g=g, n=n, h=np.asarray(0.0), h2=np.asarray(0.0))
    f = _objective(H, g, n)
    r = rng(11)
    # one random direction through every parameter (m, n, γ and two directions of H)
    v = {k: r.normal(size=np.shape(x)) for k, x in p.items()}
    eps = 1e-6
    fd = (np.asarray(f(_shift(p, v, eps))) - np.asarray(f(_shift(p, v, -eps)))) / (2 * eps)
    _, ad = jax.jvp(f, (p,), (v,))
    assert np.all(np.isfinite(np.asarray(ad)))
    np.testing.assert_allclose(ad, fd, rtol=1e-6, atol=1e-8)
    grad_total = jax.grad(lambda q: f(q)[0])(p)  # reverse mode (adjoint solves)
    rev = sum(float(np.sum(np.asarray(grad_total[k]) * v[k])) for k in p)
    np.testing.assert_allclose(rev, ad[0], rtol=1e-10, atol=1e-14)
    if degenerate:
        assert abs(float(f(p)[0])) < 1e-14
        for key in p:
            assert np.all(np.isfinite(np.asarray(grad_total[key])))
            np.testing.assert_allclose(grad_total[key], 0, atol=1e-10)


def _shift(p, v, eps):
    return {k: p[k] + eps * v[k] for k in p}


# ----------------------------------------------------------------------------------------
# (e) bad input, also under jit and vmap; dispatch
# ----------------------------------------------------------------------------------------

_PHYS = "squeezing: |m_k|² must be <= n_k (n_k + 1)"


def test_bad_input_eager():
    H, g, n = np.eye(2), np.ones(2), np.array([0.5, 1.0])
    net = jaxqep.SqueezedGaussianNetwork
    with pytest.raises(ValueError, match=re.escape(_PHYS)):
        net(H, g, n, np.array([0.9, 0.0]))  # 0.81 > 0.75
    with pytest.raises(ValueError, match=r"squeezing: \|m_k\|"):
        net(H, g, np.array([0.0, 1.0]), np.array([1e-3j, 0.0]))  # vacuum bath, m != 0
    with pytest.raises(ValueError, match="squeezing: expected shape \\(2,\\)"):
        net(H, g, n, np.zeros(3))
    with pytest.raises(ValueError, match="squeezing: expected shape \\(2,\\)"):
        net(H, g, n, 0.1)
    with pytest.raises(TypeError, match="squeezing: expected a numeric array"):
        net(H, g, n, "0.1")
    with pytest.raises(TypeError, match="squeezing: expected a numeric array"):
        net(H, g, n, np.array([True, False]))
    with pytest.raises(ValueError, match="squeezing: contains NaN or inf"):
        net(H, g, n, np.array([np.nan, 0.0]))
    with pytest.raises(ValueError, match="sc_rates: self-consistent reservoirs are not"):
        net(H, g, n, np.zeros(2), sc_rates=np.ones(2))
    with pytest.raises(ValueError, match="occupations: bath occupations must be >= 0"):
        net(H, g, np.array([-0.1, 1.0]), np.zeros(2))
    with pytest.raises(ValueError, match="H: must be Hermitian"):
        net(np.array([[0, 1], [0, 0.0]]), g, n, np.zeros(2))
    with pytest.raises(ValueError, match="gammas: expected shape \\(2,\\)"):
        net(H, np.ones(3), n, np.zeros(2))
    # the boundary |m|² = n(n+1) (a pure squeezed bath) is physical
    edge = np.sqrt(n * (n + 1)) * np.exp(1j * np.array([0.3, 2.0]))
    ep = jaxqep.entropy_production(net(H, g, n, edge))
    assert np.isfinite(ep.total) and np.all(np.asarray(ep.pi) >= 0)
    # no NESS: an undamped mode
    with pytest.raises(ValueError, match="no unique NESS"):
        jaxqep.entropy_production(net(np.diag([0.0, 1.0]), np.array([1.0, 0]), n, np.zeros(2)))


def test_bad_input_under_jit_and_vmap():
    H, g, n = np.array([[0.2, 0.1], [0.1, 0.0]]), np.ones(2), np.array([0.5, 1.0])

    def total(mr, nn=n):
        return jaxqep.entropy_production(jaxqep.SqueezedGaussianNetwork(H, g, nn, mr + 0j)).total

    good = np.array([0.5, -1.0])
    jf = jax.jit(total)
    np.testing.assert_allclose(jf(good), total(good), rtol=1e-13)
    with pytest.raises(Exception, match=r"squeezing: \|m_k\|² must be <= n_k"):
        jf(np.array([0.9, 0.0]))
    # unphysical through n (m fixed), same compiled function
    with pytest.raises(Exception, match=r"squeezing: \|m_k\|² must be <= n_k"):
        jf(np.array([0.5, 0.0]), np.array([0.1, 1.0]))
    jv = jax.jit(jax.vmap(total))
    batch = np.array([[0.1, 0.2], [0.5, -1.0], [0.0, 1.5], [0.9, 0.0]])
    with pytest.raises(Exception, match=r"first failing batch element: flat index 2"):
        jv(batch)
    fine = batch.copy()
    fine[2:] = [[0.2, 0.0], [0.0, 0.3]]
    np.testing.assert_allclose(jv(fine), [total(b) for b in fine], rtol=1e-12)
    # nested vmap: the flat index over both axes
    with pytest.raises(Exception, match=r"flat index 2 over the vmapped axes"):
        jax.vmap(jax.vmap(total))(batch.reshape(2, 2, 2))


def test_dispatch_and_auto():
    H, g, n = np.eye(2), np.ones(2), np.ones(2)
    net = jaxqep.SqueezedGaussianNetwork(H, g, n, np.array([0.2, 0.1j]))
    assert jaxqep.solvers.Auto().select(net) == jaxqep.solvers.SqueezedLyapunov()
    with pytest.raises(TypeError, match="solvers that do: SqueezedLyapunov"):
        jaxqep.entropy_production(net, jaxqep.solvers.DirectLyapunov())
    with pytest.raises(TypeError, match="SqueezedLyapunov does not compute"):
        jaxqep.entropy_production(
            jaxqep.GaussianNetwork(H, g, n), jaxqep.solvers.SqueezedLyapunov()
        )
    ok = jaxqep.entropy_production(net, throw=False)
    assert ok.result == jaxqep.RESULTS.successful and ok.stats.iterations == 0

    # throw=False under vmap: the element without NESS (an undamped mode) is reported as
    # such, the others are unaffected
    def result(g1):
        net = jaxqep.SqueezedGaussianNetwork(
            np.diag([0.0, 1.0]), jnp.stack([1.0, g1]), n, np.array([0.3, 0.2j])
        )
        ep = jaxqep.entropy_production(net, throw=False)
        return ep.result == jaxqep.RESULTS.no_ness, ep.total

    flags, totals = jax.jit(jax.vmap(result))(jnp.array([0.5, 0.0, 0.2]))
    assert list(np.asarray(flags)) == [False, True, False]
    assert np.all(np.asarray(totals)[[0, 2]] > 0)


# ----------------------------------------------------------------------------------------
# the GPU route, checked on CPU: the sign-iteration branches and a CUDA export
# ----------------------------------------------------------------------------------------


def test_sign_iteration_branches_solve_the_squeezed_ness():
    from jaxqep import _lyapunov
    from jaxqep.gaussian import _lyapunov as glyap

    H, g, n, m = _network(7, 4)
    ep = jaxqep.entropy_production(jaxqep.SqueezedGaussianNetwork(H, g, n, m))
    Bm = -1j * H - 0.5 * np.diag(g)
    S, ok = jax.jit(_lyapunov.BRANCHES["default"], static_argnums=3)(
        Bm, Bm.T, -np.diag(g * m), False
    )
    assert ok
    np.testing.assert_allclose(S, ep.squeezing, atol=1e-12)
    A = jaxqep.gaussian.stability_matrix(jnp.asarray(H), jnp.asarray(g))
    C, ok = jax.jit(glyap.DIRECT_BRANCHES["default"])(A, None, -np.diag(g * n) + 0j)
    assert ok
    np.testing.assert_allclose(C, ep.covariance, atol=1e-12)


_EXPORT = """
import jax, jax.numpy as jnp, jaxqep
H = jaxqep.gaussian.chain_hamiltonian(3, 1.0, 0.3)
g, n = jnp.array([1.0, 0.2, 0.5]), jnp.array([0.5, 1.0, 2.0])
def f(m):
    return jaxqep.entropy_production(jaxqep.SqueezedGaussianNetwork(H, g, n, m)).total
for fn in (f, jax.grad(lambda mr: f(mr + 0j))):
    txt = jax.export.export(jax.jit(fn), platforms=["cuda"])(jnp.zeros(3)).mlir_module()
    assert "callback" not in txt
print("ok")
"""


def test_squeezed_entry_point_exports_for_cuda():
    import os
    import subprocess
    import sys

    env = dict(os.environ, EQX_ON_ERROR="nan", JAX_PLATFORMS="cpu")
    p = subprocess.run(
        [sys.executable, "-c", _EXPORT], capture_output=True, text=True, env=env, timeout=600
    )
    assert p.returncode == 0 and p.stdout.strip().endswith("ok"), p.stderr[-3000:]
