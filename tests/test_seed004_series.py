"""Perturbation series to any order (``qrm.perturbative_expansion``, seed 004 Sec. 7).

Independent routes:
* the exact dense steady states, partial states, fluxes and σ of
  ``tripartite_entropy_production(method="dense")``: the truncation error of the series
  must vanish with the next power of g (fitted log-log slopes);
* ``leading_order`` (a separate implementation of eqs. 7.12-7.14 and Prop. 7.7) for
  ρ_0, ρ_1, σ⁽²⁾(λ);
* Richardson extrapolation of the exact σ for σ_4;
* SciPy's ``logm`` for the logarithm series; closed forms (8.11), (8.12), (8.17) for the
  objects of Sec. 7; central finite differences for gradients.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sla
from helpers import random_density, rng

from jaxqep import models, qrm

CH = dict(eA=0.08, eB=0.1, eC=0.05, U=0.1, Ja=0.05, Jb=0.1, gA=0.7, gB=0.6)


def chain_h(eC=CH["eC"]):
    return models.three_qubit_chain(CH["eA"], CH["eB"], eC, CH["U"], CH["Ja"], CH["Jb"])


def chain(tA=0.95, tB=0.6):
    return (
        chain_h(),
        models.diagonal_reset_state(tA),
        models.diagonal_reset_state(tB),
        CH["gA"],
        CH["gB"],
        (2, 2, 2),
    )


def random_model(seed=1, dims=(2, 3, 2)):
    r = rng(seed)
    d = int(np.prod(dims))
    a = r.normal(size=(d, d)) + 1j * r.normal(size=(d, d))
    h = (a + a.conj().T) / 2
    h /= np.linalg.norm(h, 2)  # ‖H‖ = 1
    return (
        jnp.asarray(h),
        jnp.asarray(random_density(r, dims[0])),
        jnp.asarray(random_density(r, dims[2])),
        0.8,
        1.1,
        dims,
    )


@eqx.filter_jit
def expansion(h, ta, tb, ga, gb, dims, lam, order):
    return qrm.perturbative_expansion(h, ta, tb, ga, gb, dims, lam, order)


@eqx.filter_jit
def exact(h, ta, tb, ga, gb, dims, gs, lam):
    def one(g):
        ep = qrm.tripartite_entropy_production(h, ta, tb, ga, gb, dims, g, lam, method="dense")
        return ep.total, ep.fluxes, ep.rho, ep.partial_states

    return jax.vmap(one)(gs)


def slope(x, y):
    return float(np.polyfit(np.log(x), np.log(np.abs(y)), 1)[0])


MODELS = {"chain": chain(), "random232": random_model()}
LAMS = {"chain": 0.5, "random232": 0.3}
# A decade of g inside the radius of convergence (g‖H‖ ≲ 0.1 min γ for the random model).
GS = {"chain": np.logspace(-1.6, -0.6, 6), "random232": np.logspace(np.log10(0.008), -1.1, 6)}


@functools.cache
def _case(name):
    m = MODELS[name]
    lam = LAMS[name]
    ex = expansion(*m, jnp.asarray(lam), 4)
    gs = GS[name]
    ex_out = exact(*m, jnp.asarray(gs), jnp.asarray(lam))
    return name, m, lam, ex, gs, [np.asarray(x) for x in ex_out]


@pytest.fixture(params=["chain", "random232"])
def case(request):
    return _case(request.param)


def test_order4_sigma_remainder_slope(case):
    name, m, lam, ex, gs, (sig, *_) = case
    assert ex.rho.shape == (5, m[0].shape[0], m[0].shape[0]) and ex.sigma.shape == (5,)
    s = np.asarray(ex.sigma)
    assert abs(s[0]) < 1e-15 and abs(s[1]) < 1e-15 * abs(s[2]) + 1e-16
    rem = sig - np.asarray(ex.sigma_at(jnp.asarray(gs)))
    # O(g⁵) (fitted slope ≥ 4.8); the chain is even in g, so there it is O(g⁶).
    assert slope(gs, rem) >= 4.8, (name, slope(gs, rem), rem)
    # ... and the truncation at order 3 is only O(g⁴): the series coefficients matter.
    rem3 = sig - sum(gs**k * s[k] for k in range(4))
    assert 3.8 < slope(gs, rem3) < 4.2 or name == "random232"
    assert slope(gs, rem3) < slope(gs, rem) - 0.7


def test_order4_states_fluxes_partials(case):
    name, m, lam, ex, gs, (sig, flux, rho, parts) = case
    k = 4
    rho_ser = np.stack([np.asarray(ex.rho_at(g)) for g in gs])
    err = np.linalg.norm(rho - rho_ser, axis=(1, 2))
    assert slope(gs, err) > 4.7, (name, err)
    fl = np.stack([sum(g**j * np.asarray(ex.fluxes[j]) for j in range(k + 1)) for g in gs])
    assert np.allclose(fl.sum(1), [float(ex.sigma_at(g)) for g in gs], rtol=1e-10, atol=1e-18)
    if name == "random232":
        err_f = np.abs(flux - fl).max(axis=1)
        assert slope(gs, err_f) > 4.7
        # ρ^A_{λg} = Σ (λg)^k ρ^A_k and ρ^B_{(1-λ)g} likewise.
        for p, mu in ((0, lam), (1, 1 - lam)):
            pr = np.stack(
                [
                    sum((mu * g) ** j * np.asarray(ex.partial_rho[p, j]) for j in range(5))
                    for g in gs
                ]
            )
            e = np.linalg.norm(parts[:, p] - pr, axis=(1, 2))
            assert slope(gs, e) > 4.7
    # Every coefficient is Hermitian and traceless beyond order 0; the solvability
    # conditions hold to rounding.
    r = np.asarray(ex.rho)
    assert np.allclose(r, np.conj(np.swapaxes(r, 1, 2)), atol=1e-14)
    assert (
        abs(np.trace(r[0]) - 1) < 1e-13 and np.abs(np.trace(r[1:], axis1=1, axis2=2)).max() < 1e-13
    )
    assert float(np.max(ex.residual)) < 1e-12


def test_matches_leading_order(case):
    name, m, lam, ex, *_ = case
    lo = qrm.leading_order(*m)
    np.testing.assert_allclose(np.asarray(ex.rho[0]), np.asarray(lo.rho0), atol=1e-13)
    np.testing.assert_allclose(np.asarray(ex.rho[1]), np.asarray(lo.rho1), atol=1e-12)
    np.testing.assert_allclose(float(ex.sigma[2]), float(lo.sigma2(lam)), rtol=1e-10)
    np.testing.assert_allclose(
        np.asarray(ex.sigma_parts[2]), np.asarray(lo.sigma2_parts(lam)), rtol=1e-9, atol=1e-16
    )
    np.testing.assert_allclose(
        np.asarray(ex.partial_rho[:, 0]), np.asarray(lo.partial_rho0), atol=1e-13
    )
    np.testing.assert_allclose(
        np.asarray(ex.partial_rho[:, 1]), np.asarray(lo.partial_rho1), atol=1e-12
    )


def test_chain_sigma4_richardson():
    """σ_4 of the chain vs Richardson (polynomial) extrapolation of the exact remainder."""
    name, m, lam, ex, gs, (sig, *_) = _case("chain")
    s = np.asarray(ex.sigma)
    assert np.all(np.abs(s[[1, 3]]) < 1e-12 * abs(s[4]))  # σ is even in g here
    assert s[4] < 0  # Fig. 4: the approximation g²σ⁽²⁾ exceeds the exact σ
    r = (sig - gs**2 * s[2]) / gs**4  # = σ_4 + g² σ_6 + g⁴ σ_8 + ...
    coef = np.polyfit(gs**2, r, 3)
    np.testing.assert_allclose(coef[-1], s[4], rtol=1e-4)  # exact route: ~1e-5 here
    # The chain's σ does not depend on λ (Sec. 8.4), order by order.
    ex2 = expansion(*m, jnp.asarray(0.2), 4)
    np.testing.assert_allclose(np.asarray(ex2.sigma), s, rtol=1e-9, atol=1e-18)


def test_log_series_vs_scipy():
    r = rng(3)
    d = 4
    rhos = [random_density(r, d)]
    for _ in range(3):
        a = r.normal(size=(d, d)) + 1j * r.normal(size=(d, d))
        b = (a + a.conj().T) / 2
        rhos.append(b - np.trace(b) / d * np.eye(d))
    rhos = np.stack(rhos)
    log_series = jax.jit(qrm.log_series)
    ell = np.asarray(log_series(jnp.asarray(rhos)))
    np.testing.assert_allclose(ell[1], np.asarray(qrm.dlogm(rhos[0], rhos[1])), atol=1e-12)
    gs = np.logspace(-3, -2, 5)
    errs = []
    for g in gs:
        ref = sla.logm(sum(g**k * rhos[k] for k in range(4)))
        errs.append(np.linalg.norm(ref - sum(g**k * ell[k] for k in range(4))))
    assert slope(gs, errs) > 3.8
    # commuting closed form: ln(a + g b) = ln a + g b/a − g² b²/(2a²) + g³ b³/(3a³)
    a, b = np.diag([0.7, 0.2, 0.1]), np.diag([0.3, -0.1, -0.2])
    ell = np.asarray(log_series(jnp.stack([a, b, 0 * a, 0 * a]).astype(complex)))
    x = np.diag(b) / np.diag(a)
    np.testing.assert_allclose(
        np.diagonal(ell[1:], axis1=1, axis2=2).real,
        np.stack([x, -(x**2) / 2, x**3 / 3]),
        rtol=1e-12,
    )


@jax.jit
def grad_sigma(h, v, t_a, t_b, x):
    """∇_x of σ_4 + 3σ_3 at H + x0 V, γ_A = 0.7 + x1, λ = 0.3 + x2, τ_A = τ(t_a + x3)."""

    def f(x):
        ex = qrm.perturbative_expansion(
            h + x[0] * v,
            models.diagonal_reset_state(t_a + x[3]),
            models.diagonal_reset_state(t_b),
            0.7 + x[1],
            0.6,
            (2, 2, 2),
            0.3 + x[2],
            4,
        )
        return ex.sigma[4] + 3.0 * ex.sigma[3]

    return f(x), jax.grad(f)(x)


def _fd_check(h, v, t_a, t_b):
    x0 = jnp.zeros(4)
    _, grad = grad_sigma(h, v, t_a, t_b, x0)
    eps = 1e-5
    fd = [
        (
            float(grad_sigma(h, v, t_a, t_b, x0.at[i].set(eps))[0])
            - float(grad_sigma(h, v, t_a, t_b, x0.at[i].set(-eps))[0])
        )
        / (2 * eps)
        for i in range(4)
    ]
    assert np.all(np.isfinite(np.asarray(grad)))
    np.testing.assert_allclose(np.asarray(grad), fd, rtol=1e-5, atol=1e-12)


def test_gradients_vs_fd():
    r = rng(5)
    a = r.normal(size=(8, 8)) + 1j * r.normal(size=(8, 8))
    h = (a + a.conj().T) / 2
    h /= np.linalg.norm(h, 2)
    b = r.normal(size=(8, 8)) + 1j * r.normal(size=(8, 8))
    _fd_check(jnp.asarray(h), jnp.asarray((b + b.conj().T) / 2), 0.7, 0.35)


def test_gradient_at_degenerate_point():
    """Equilibrium t_A = t_B: ρ_0 = τ⊗τ⊗τ has a degenerate spectrum; derivatives finite."""
    h = chain_h()
    v = models.three_qubit_chain(0.01, -0.02, 0.03, 0.0, 0.02, -0.01)
    _fd_check(h.astype(complex), v.astype(complex), 0.8, 0.8)


def test_section7_maps_chain():
    tA, tB = 0.95, 0.6
    m = qrm.section7_maps(*chain(tA, tB))
    eA, eB, eC, U, Ja, Jb = (CH[k] for k in ("eA", "eB", "eC", "U", "Ja", "Jb"))
    h811 = np.diag([eA * (1 - tA) + eB * (1 - tB), (eA + U) * (1 - tA) + (eB + U) * (1 - tB) + eC])
    np.testing.assert_allclose(np.asarray(m.hbar[0]), h811, atol=1e-15)
    h812 = np.array(
        [
            [eA * (1 - tA), 0, 0, 0],
            [0, eA * (1 - tA) + eB, Jb, 0],
            [0, Jb, (eA + U) * (1 - tA) + eC, 0],
            [0, 0, 0, (eA + U) * (1 - tA) + eB + eC + U],
        ]
    )
    np.testing.assert_allclose(np.asarray(m.hbar[1]), h812, atol=1e-15)
    lo = qrm.leading_order(*chain(tA, tB))
    np.testing.assert_allclose(np.asarray(m.hbar[0]), np.asarray(lo.hbar_tau), atol=1e-15)
    # Φ_D annihilates the populations of ρ_C0 (eq. 8.17) and has a one-dimensional kernel.
    gA, gB = CH["gA"], CH["gB"]
    c = np.array([Ja**2 * tA * gB + Jb**2 * tB * gA, Ja**2 * (1 - tA) * gB + Jb**2 * (1 - tB) * gA])
    c /= Ja**2 * gB + Jb**2 * gA
    u = np.asarray(m.eigvecs[0])
    pops = np.real(np.diagonal(u.conj().T @ np.diag(c) @ u))
    np.testing.assert_allclose(np.asarray(m.phi_D[0]) @ pops, 0, atol=1e-16)
    for phi_d in m.phi_D:
        sv = np.linalg.svd(np.asarray(phi_d), compute_uv=False)
        assert sv[-1] < 1e-12 * sv[0] and sv[-2] > 1e-6 * sv[0]
        np.testing.assert_allclose(np.asarray(phi_d).sum(0), 0, atol=1e-15)  # trace-free range
    # Φ (eq. 7.8) restricted to Diag is Φ_D: ⟨φ_k|Φ(|φ_j⟩⟨φ_j|)|φ_k⟩.
    n = 2
    for j in range(n):
        p = np.outer(u[:, j], u[:, j].conj()).reshape(-1)
        out = (np.asarray(m.phi[0]) @ p).reshape(n, n)
        np.testing.assert_allclose(
            np.real(np.diagonal(u.conj().T @ out @ u)), np.asarray(m.phi_D[0])[:, j], atol=1e-15
        )


def test_bad_input():
    m = chain()
    with pytest.raises(ValueError, match="order: must be >= 0"):
        qrm.perturbative_expansion(*m, 0.5, -1)
    for bad in (2.0, True, "4"):
        with pytest.raises(TypeError, match="order: must be a Python int"):
            qrm.perturbative_expansion(*m, 0.5, bad)
    with pytest.raises(ValueError, match="lam: must not be 0 or 1"):
        qrm.perturbative_expansion(*m, 1.0, 2)
    ex0 = qrm.perturbative_expansion(*m, 0.5, 0)
    assert ex0.rho.shape == (1, 8, 8) and ex0.sigma.shape == (1,)


def test_hypothesis_failing_at_higher_order():
    """A nearly degenerate H̄^τ (gap 1e-5 of ‖H‖): orders ≤ 2 are fine, order 3 is not."""
    tA, tB = 0.95, 0.6
    U = CH["U"]
    eC = -U * ((1 - tA) + (1 - tB)) + 1e-5  # gap of (8.11): U(2 - tA - tB) + eC
    h = chain_h(eC)
    args = (
        h,
        models.diagonal_reset_state(tA),
        models.diagonal_reset_state(tB),
        0.7,
        0.6,
        (2, 2, 2),
    )
    qrm.leading_order(*args)  # the leading-order hypotheses hold
    ex = qrm.perturbative_expansion(*args, 0.5, 2)
    assert float(ex.error_estimate[2]) < 1e-3
    with pytest.raises(ValueError, match=r"order 3: .*Spec and Coup"):
        qrm.perturbative_expansion(*args, 0.5, 4)
    with pytest.raises(Exception, match=r"order 3: .*Spec and Coup"):
        jax.block_until_ready(expansion(*args, jnp.asarray(0.5), 4))
    # a degenerate H̄^τ fails at the leading order already, with leading_order's message
    h0 = chain_h(-U * ((1 - tA) + (1 - tB)))
    with pytest.raises(ValueError, match=r"hypothesis Spec\(H̄\^τ\) fails"):
        qrm.perturbative_expansion(h0, *args[1:], 0.5, 2)
