"""Perturbation theory in g for tripartite reset models (seed 004, Secs. 7-8).

Independent routes used here:
* the exact dense steady states and entropy production of ``tripartite_entropy_production``
  at small g (convergence of ρ⁺_g, ρ^A, σ_#/g² with the predicted rates);
* closed forms (8.17), (8.18), (8.24), (8.29) of the three-qubit chain;
* a least-squares fit of σ_#(g, λ)/g² over three λ's (after Richardson extrapolation in g),
  which recovers a_#, b_#, c_# without the formulas of Proposition 7.7;
* central finite differences for every derivative.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import random_density, random_hermitian, rng

from jaxqep import models, qrm

CH = dict(eA=0.08, eB=0.1, eC=0.05, U=0.1, Ja=0.05, Jb=0.1, gA=0.7, gB=0.6, tA=0.95, tB=0.6)

lo_jit = jax.jit(qrm.leading_order, static_argnums=5)


@eqx.filter_jit
def exact_batch(h, ta, tb, ga, gb, dims, gs, lams):
    """Exact σ_#, fluxes, ρ⁺, ρ^A, ρ^B on a batch of (g, λ) pairs (one compilation)."""

    def one(g, lam):
        ep = qrm.tripartite_entropy_production(h, ta, tb, ga, gb, dims, g, lam, method="dense")
        return ep.parts, ep.fluxes, ep.rho, ep.partial_states

    return jax.vmap(one)(gs, lams)


def chain(tA=CH["tA"], tB=CH["tB"]):
    h = models.three_qubit_chain(CH["eA"], CH["eB"], CH["eC"], CH["U"], CH["Ja"], CH["Jb"])
    return h, models.diagonal_reset_state(tA), models.diagonal_reset_state(tB), CH["gA"], CH["gB"]


def random_model(seed, dims):
    r = rng(seed)
    d = int(np.prod(dims))
    h = random_hermitian(r, d)
    return (
        jnp.asarray(h),
        jnp.asarray(random_density(r, dims[0])),
        jnp.asarray(random_density(r, dims[2])),
        jnp.asarray(0.5 + r.uniform()),
        jnp.asarray(0.5 + r.uniform()),
    )


# ------------------------------------------------------------------------------------
# Three-qubit chain (Sec. 8)
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tA,tB", [(0.95, 0.6), (0.3, 0.8)])
def test_chain_closed_forms(tA, tB):
    h, ta, tb, ga, gb = chain(tA, tB)
    lo = lo_jit(h, ta, tb, ga, gb, (2, 2, 2))
    Ja, Jb = CH["Ja"], CH["Jb"]
    den = Ja**2 * gb + Jb**2 * ga
    # (8.17)
    rc0 = np.diag(
        [Ja**2 * tA * gb + Jb**2 * tB * ga, Ja**2 * (1 - tA) * gb + Jb**2 * (1 - tB) * ga]
    )
    np.testing.assert_allclose(lo.rho_C0, rc0 / den, atol=1e-14)
    np.testing.assert_allclose(lo.rho0, np.kron(np.kron(ta, rc0 / den), tb), atol=1e-14)
    # (8.18)
    m = np.zeros((8, 8), complex)
    m[1, 2], m[2, 4] = 1j * Ja * tA, 1j * Jb * tB
    m[3, 5], m[5, 6] = 1j * Jb * (1 - tB), 1j * Ja * (1 - tA)
    rho1 = Ja * Jb * (tA - tB) / den * (m + m.conj().T)
    np.testing.assert_allclose(lo.rho1, rho1, atol=1e-14)
    # (8.24)
    c = np.zeros((8, 8))
    c[1, 2], c[2, 4] = -Ja * tA * gb, -Jb * tB * ga
    c[3, 5], c[5, 6] = -Jb * (1 - tB) * ga, -Ja * (1 - tA) * gb
    comm = Ja * Jb * (tA - tB) / den * (c - c.T)
    np.testing.assert_allclose(h @ lo.rho0 - lo.rho0 @ h, comm, atol=1e-14)
    # (8.14): ρ^#_g = τ_# ⊗ τ_# ⊗ τ_# exactly, so ρ^#_1 = 0.
    np.testing.assert_allclose(lo.partial_rho0[0], np.kron(np.kron(ta, ta), ta), atol=1e-13)
    np.testing.assert_allclose(lo.partial_rho0[1], np.kron(np.kron(tb, tb), tb), atol=1e-13)
    np.testing.assert_allclose(lo.partial_rho1, 0.0, atol=1e-13)


def test_chain_coefficients_and_exact_limit():
    h, ta, tb, ga, gb = chain()
    lo = lo_jit(h, ta, tb, ga, gb, (2, 2, 2))
    scale = float(jnp.sum(lo.c))
    # Q^#_1 = 0 gives a_# = 0, and positivity then b_# = 0 (case ii of 7.35).
    np.testing.assert_allclose(lo.a, 0.0, atol=1e-12 * scale)
    np.testing.assert_allclose(lo.b, 0.0, atol=1e-12 * scale)
    assert np.all(np.asarray(lo.c) > 0)
    # Exact σ/g² at two λ's and two g's; the remainder is O(g²) for this real model
    # (Fig. 4), so Richardson extrapolation gives the limit to O(g⁴).
    gs = jnp.array([0.01, 0.005, 0.01, 0.005])
    lams = jnp.array([0.3, 0.3, -0.8, -0.8])
    parts, *_ = exact_batch(h, ta, tb, ga, gb, (2, 2, 2), gs, lams)
    s = np.asarray(parts.sum(-1)) / np.asarray(gs) ** 2
    # σ independent of λ (Sec. 8.4), up to the ~1e-14 rounding of σ itself
    np.testing.assert_allclose(s[:2], s[2:], rtol=1e-7)
    limit = (4 * s[1] - s[0]) / 3
    np.testing.assert_allclose(scale, limit, rtol=1e-7)
    np.testing.assert_allclose(scale, 5.2273e-3, rtol=2e-5)  # CONVENTIONS reference
    # Each part: σ_#/g² → c_# (eqs. 8.20-8.22).
    part_lim = (4 * np.asarray(parts[1]) / 0.005**2 - np.asarray(parts[0]) / 0.01**2) / 3
    np.testing.assert_allclose(part_lim, lo.c, rtol=1e-6)
    # (8.23): σ^(2) = -i tr([H, ρ0] Q1) = c_A + c_B.
    q1 = qrm.dlogm(lo.rho0, lo.rho1)
    s823 = float(jnp.real(jnp.trace(-1j * (h @ lo.rho0 - lo.rho0 @ h) @ q1)))
    np.testing.assert_allclose(s823, scale, rtol=1e-12)
    # σ^(2) is flat: no minimiser, a positive value, no zero.
    assert np.isnan(float(lo.lambda_min))
    assert not bool(lo.has_zero)
    np.testing.assert_allclose(lo.sigma2_min, scale, rtol=1e-12)


def test_chain_fluxes_829():
    """φ_A = g² tr(i[H, ρ1](ln τ_A ⊗ 1)) + O(g⁴), φ_B likewise (8.29); sign ∝ t_A - t_B."""
    for tA, tB in [(0.95, 0.6), (0.4, 0.7)]:
        h, ta, tb, ga, gb = chain(tA, tB)
        lo = lo_jit(h, ta, tb, ga, gb, (2, 2, 2))
        comm1 = h @ lo.rho1 - lo.rho1 @ h
        log_a = jnp.kron(jnp.diag(jnp.log(jnp.diag(ta))), jnp.eye(4))
        log_b = jnp.kron(jnp.eye(4), jnp.diag(jnp.log(jnp.diag(tb))))
        pred = np.array(
            [jnp.real(jnp.trace(1j * comm1 @ log_a)), jnp.real(jnp.trace(1j * comm1 @ log_b))]
        )
        gs = jnp.array([0.01, 0.005, 0.01, 0.005])
        lams = jnp.array([0.5, 0.5, 2.0, 2.0])
        parts, fluxes, *_ = exact_batch(h, ta, tb, ga, gb, (2, 2, 2), gs, lams)
        fl = np.asarray(fluxes) / np.asarray(gs)[:, None] ** 2
        np.testing.assert_allclose(fl[:2], fl[2:], rtol=1e-7)  # λ-independent (8.27)
        np.testing.assert_allclose(fl[1], pred, rtol=1e-4)
        # the remainder is O(g⁴): error at g/2 is 4x smaller relative to g²
        ratio = np.abs(fl[0] - pred) / np.abs(fl[1] - pred)
        np.testing.assert_allclose(ratio, 4.0, rtol=0.05)
        np.testing.assert_allclose(pred.sum(), jnp.sum(lo.c), rtol=1e-10)  # σ = φ_A + φ_B
    # At fixed t_A, φ_A changes sign with t_A - t_B (Fig. 5a): ρ1 ∝ t_A - t_B (8.18).
    for tA in (0.6, 0.3):
        signs = []
        for tB in (tA - 0.2, tA + 0.2):
            h, ta, tb, ga, gb = chain(tA, tB)
            lo = lo_jit(h, ta, tb, ga, gb, (2, 2, 2))
            comm1 = h @ lo.rho1 - lo.rho1 @ h
            log_a = jnp.kron(jnp.diag(jnp.log(jnp.diag(ta))), jnp.eye(4))
            signs.append(np.sign(float(jnp.real(jnp.trace(1j * comm1 @ log_a)))))
        assert signs[0] == -signs[1] != 0


def test_equilibrium_has_zero():
    """t_A = t_B: [H, ρ0] = 0, so σ^(2) ≡ 0 (Prop. 7.4) and has_zero is True."""
    h, ta, tb, ga, gb = chain(0.8, 0.8)
    lo = lo_jit(h, ta, tb, ga, gb, (2, 2, 2))
    np.testing.assert_allclose(h @ lo.rho0 - lo.rho0 @ h, 0.0, atol=1e-15)
    assert bool(lo.has_zero)
    np.testing.assert_allclose(np.concatenate([lo.a, lo.b, lo.c]), 0.0, atol=1e-15)


# ------------------------------------------------------------------------------------
# Random tripartite models
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dims,seed", [((2, 3, 2), 0), ((3, 2, 2), 1)])
def test_random_model_convergence(dims, seed):
    h, ta, tb, ga, gb = random_model(seed, dims)
    lo = lo_jit(h, ta, tb, ga, gb, dims)
    hyp = lo.hypotheses
    scale = float(jnp.sum(jnp.abs(lo.a) + jnp.abs(lo.b) + jnp.abs(lo.c)))
    assert float(hyp.first_order) < 1e-10 * scale  # O(g) term of (7.29) vanishes
    # (7.35 o): a_#, c_# ≥ 0 and σ^(2)_# ≥ 0 for all λ: non-positive discriminants.
    assert np.all(np.asarray(lo.a) > 0) and np.all(np.asarray(lo.c) > 0)
    assert np.all(np.asarray(lo.b**2 - 4 * lo.a * lo.c) < 0)
    assert not bool(lo.has_zero) and float(lo.sigma2_min) > 0
    np.testing.assert_allclose(float(jnp.trace(lo.rho0).real), 1.0, atol=1e-13)
    np.testing.assert_allclose(float(jnp.abs(jnp.trace(lo.rho1))), 0.0, atol=1e-13)

    gs_one = np.array([1e-3, 5e-4, 2.5e-4])
    lam_vals = np.array([0.3, -0.7, 1.6])
    gs = jnp.asarray(np.tile(gs_one, 3))
    lams = jnp.asarray(np.repeat(lam_vals, 3))
    parts, _, rho, partial = exact_batch(h, ta, tb, ga, gb, dims, gs, lams)
    parts = np.asarray(parts).reshape(3, 3, 2) / gs_one[None, :, None] ** 2
    pred = np.asarray(jax.vmap(lo.sigma2_parts)(jnp.asarray(lam_vals)))
    err = np.abs(parts.sum(-1) - pred.sum(-1)[:, None])  # (λ, g)
    slopes = np.log(err[:, 1] / err[:, 2]) / np.log(2.0)
    assert np.all((slopes > 0.8) & (slopes < 1.25)), slopes  # error ∝ g
    assert np.all(err[:, 2] < 0.05 * pred.sum(-1))

    # ρ⁺_g - (ρ0 + gρ1) = O(g²); ρ^A_{λg} - (ρ^A_0 + λgρ^A_1) = O(g²).
    g_all = np.asarray(gs)[:, None, None]
    d_tot = np.linalg.norm(np.asarray(rho) - (lo.rho0 + g_all * lo.rho1), axis=(1, 2))
    lam_all = np.asarray(lams)[:, None, None]
    d_a = np.linalg.norm(
        np.asarray(partial[:, 0]) - (lo.partial_rho0[0] + lam_all * g_all * lo.partial_rho1[0]),
        axis=(1, 2),
    )
    d_b = np.linalg.norm(
        np.asarray(partial[:, 1])
        - (lo.partial_rho0[1] + (1 - lam_all) * g_all * lo.partial_rho1[1]),
        axis=(1, 2),
    )
    for d in (d_tot, d_a, d_b):
        d = d.reshape(3, 3)
        sl = np.log(d[:, 1] / d[:, 2]) / np.log(2.0)
        assert np.all(np.abs(sl - 2.0) < 0.1), sl


def test_coefficients_by_independent_fit():
    """a_#, b_#, c_# from a fit of σ_#(g, λ)/g² over λ (no use of Prop. 7.7)."""
    dims = (2, 3, 2)
    h, ta, tb, ga, gb = random_model(5, dims)
    lo = lo_jit(h, ta, tb, ga, gb, dims)
    lam_vals = np.array([-0.6, 0.4, 1.7])
    g1, g2 = 5e-4, 2.5e-4
    # same batch shape as test_random_model_convergence (reuses its compilation)
    gs = jnp.asarray(np.tile([1e-3, g1, g2], 3))
    lams = jnp.asarray(np.repeat(lam_vals, 3))
    parts, *_ = exact_batch(h, ta, tb, ga, gb, dims, gs, lams)
    parts = np.asarray(parts).reshape(3, 3, 2)[:, 1:]
    s = 2 * parts[:, 1] / g2**2 - parts[:, 0] / g1**2  # Richardson: O(g) error removed
    va = np.vander(lam_vals, 3)  # columns λ², λ, 1
    vb = np.vander(1 - lam_vals, 3)
    fit_a = np.linalg.solve(va, s[:, 0])
    fit_b = np.linalg.solve(vb, s[:, 1])
    ref = np.stack([lo.a, lo.b, lo.c])  # (3, 2)
    scale = np.max(np.abs(ref))
    np.testing.assert_allclose(fit_a, ref[:, 0], atol=1e-4 * scale)
    np.testing.assert_allclose(fit_b, ref[:, 1], atol=1e-4 * scale)


def test_lambda_min_and_finite_g_search():
    """λ*(g) from optax on the exact σ → lambda_min as g → 0, with an O(g) error."""
    dims = (2, 3, 2)
    h, ta, tb, ga, gb = random_model(0, dims)
    lo = lo_jit(h, ta, tb, ga, gb, dims)
    lam_grid = np.linspace(-3, 4, 7001) + 1.234e-5  # avoids λ ∈ {0, 1}
    vals = np.asarray(jax.vmap(lo.sigma2)(jnp.asarray(lam_grid)))
    assert abs(lam_grid[np.argmin(vals)] - float(lo.lambda_min)) < 2e-3
    np.testing.assert_allclose(vals.min(), lo.sigma2_min, rtol=1e-6)
    errs, gaps = [], []
    for g in (0.02, 0.01, 0.005):
        res = qrm.optimal_lambda(h, ta, tb, ga, gb, dims, g, lam_init=float(lo.lambda_min) + 0.3)
        assert bool(res.converged)
        assert not bool(res.has_zero)
        errs.append(abs(float(res.lam - lo.lambda_min)))
        gaps.append(abs(float(res.sigma_over_g2 - lo.sigma2_min)))
    errs, gaps = np.array(errs), np.array(gaps)
    assert np.all(np.abs(np.log2(errs[:-1] / errs[1:]) - 1.0) < 0.25), errs
    assert np.all(gaps[1:] < gaps[:-1]) and gaps[-1] < 0.01 * float(lo.sigma2_min)


def test_sigma2_minimum_classification():
    """Condition (7.37): a zero exists iff both parts have double roots at the same λ0."""
    # σ^(2)_A = (λ - 2)², σ^(2)_B = (1 - λ + 1)² = (2 - λ)²: ε_A = -1, ε_B = +1,
    # 1 + ε_A √(c_A/a_A) + ε_B √(c_B/a_B) = 1 - 2 + 1 = 0; λ0 = -ε_A √(c_A/a_A) = 2.
    a, b, c = jnp.array([1.0, 1.0]), jnp.array([-4.0, 2.0]), jnp.array([4.0, 1.0])
    lam, val, zero = qrm.sigma2_minimum(a, b, c)
    np.testing.assert_allclose([float(lam), float(val)], [2.0, 0.0], atol=1e-12)
    assert bool(zero)
    # Both parts have double roots, but at different λ: positive minimum, no zero.
    lam, val, zero = qrm.sigma2_minimum(a, jnp.array([-4.0, -2.0]), c)
    assert not bool(zero) and float(val) > 0
    # Flat σ^(2): λ_min undefined.
    lam, val, zero = qrm.sigma2_minimum(jnp.zeros(2), jnp.zeros(2), jnp.array([1.0, 2.0]))
    assert np.isnan(float(lam)) and float(val) == 3.0 and not bool(zero)


# ------------------------------------------------------------------------------------
# Derivatives
# ------------------------------------------------------------------------------------


def grad_vs_fd(f, x, r, n_dirs=2, rtol=1e-6, atol=1e-10, eps=1e-6):
    """<grad f, v> vs central differences, with one compilation (value_and_grad)."""
    vg = jax.jit(jax.value_and_grad(f))
    _, g = vg(x)
    for _ in range(n_dirs):
        v = jax.tree_util.tree_map(lambda a: jnp.asarray(r.normal(size=np.shape(a))), x)
        xp = jax.tree_util.tree_map(lambda a, b: a + eps * b, x, v)
        xm = jax.tree_util.tree_map(lambda a, b: a - eps * b, x, v)
        fd = (float(vg(xp)[0]) - float(vg(xm)[0])) / (2 * eps)
        ad = sum(
            float(jnp.sum(gi * vi))
            for gi, vi in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(v))
        )
        np.testing.assert_allclose(ad, fd, rtol=rtol, atol=atol)
    return g


def _pauli_state(x):
    sx = jnp.array([[0, 1], [1, 0]], dtype=complex)
    sy = jnp.array([[0, -1j], [1j, 0]])
    sz = jnp.array([[1, 0], [0, -1]], dtype=complex)
    return 0.5 * (jnp.eye(2) + x[0] * sx + x[1] * sy + x[2] * sz)


def test_gradients_random_model_vs_fd():
    r = rng(7)
    d = 8
    w = r.normal(size=(4, 2))
    wr = r.normal(size=(d, d))

    def f(p):
        h = (p["hr"] + p["hr"].T) / 2 + 1j * (p["hi"] - p["hi"].T) / 2
        lo = lo_jit(h, _pauli_state(p["xa"]), _pauli_state(p["xb"]), p["ga"], p["gb"], (2, 2, 2))
        coeffs = jnp.stack([lo.a, lo.b, lo.c, lo.rho_C0.real.diagonal()[:2]])
        return (
            jnp.sum(w * coeffs)
            + 0.3 * lo.lambda_min
            + jnp.sum(wr * jnp.real(lo.rho1))
            + jnp.sum(wr * jnp.imag(lo.partial_rho1[0]))
        )

    p = {
        "hr": jnp.asarray(r.normal(size=(d, d))),
        "hi": jnp.asarray(r.normal(size=(d, d))),
        "xa": jnp.array([0.2, -0.3, 0.5]),
        "xb": jnp.array([-0.1, 0.4, -0.3]),
        "ga": jnp.asarray(0.8),
        "gb": jnp.asarray(1.1),
    }
    g = grad_vs_fd(f, p, r, n_dirs=2, rtol=1e-6, atol=1e-8, eps=1e-5)
    assert all(np.all(np.isfinite(x)) for x in jax.tree_util.tree_leaves(g))


def test_gradients_chain_degenerate_partial_states():
    """ρ^#_0 = τ_#⊗τ_#⊗τ_# has a degenerate spectrum: derivatives must stay finite."""

    def f(theta):
        tA, tB, Ja, gA = theta
        h = models.three_qubit_chain(CH["eA"], CH["eB"], CH["eC"], CH["U"], Ja, CH["Jb"])
        lo = lo_jit(
            h,
            models.diagonal_reset_state(tA),
            models.diagonal_reset_state(tB),
            gA,
            CH["gB"],
            (2, 2, 2),
        )
        return jnp.sum(lo.c) + 2.0 * jnp.sum(lo.a) + jnp.sum(lo.b) + lo.c[0]

    theta = jnp.array([0.95, 0.6, 0.05, 0.7])
    grad_vs_fd(f, theta, rng(3), n_dirs=2, rtol=1e-6, atol=1e-10, eps=1e-6)


def test_dlogm_second_order_vs_fd():
    r = rng(4)
    for a in (random_density(r, 5), np.kron(np.diag([0.7, 0.3]), np.diag([0.7, 0.3]))):
        n = a.shape[0]
        e, da, de = (random_hermitian(r, n) for _ in range(3))
        a, e, da, de = (jnp.asarray(x, dtype=complex) for x in (a, e, da, de))
        _, jv = jax.jit(lambda *x: jax.jvp(qrm.dlogm, x[:2], x[2:]))(a, e, da, de)
        eps = 1e-6
        dl = jax.jit(qrm.dlogm)
        fd = (dl(a + eps * da, e + eps * de) - dl(a - eps * da, e - eps * de)) / (2 * eps)
        np.testing.assert_allclose(jv, fd, atol=1e-6 * float(jnp.max(jnp.abs(fd))))
        # first order: D ln(ρ)[Δ] = d/dt ln(ρ + tΔ)
        from jaxqep.linalg import logm_h

        fd1 = (logm_h(a + eps * e) - logm_h(a - eps * e)) / (2 * eps)
        np.testing.assert_allclose(dl(a, e), fd1, atol=1e-6 * float(jnp.max(jnp.abs(fd1))))


# ------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------


def test_spec_failure():
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    sz = np.diag([1.0, -1.0])
    # tr(τ σ_x) = 0 for diagonal τ, so H̄^τ = 0: degenerate.
    h = np.kron(np.kron(sx, sz), sx) + 0.3 * np.kron(np.kron(sx, sx), np.eye(2))
    ta, tb = models.diagonal_reset_state(0.7), models.diagonal_reset_state(0.4)
    with pytest.raises(ValueError, match=r"Spec\(H̄\^τ\).*7\.7"):
        qrm.leading_order(h, ta, tb, 1.0, 1.0, (2, 2, 2))


def test_coup_failure_eager_and_jit():
    # No coupling between C and A, B: Φ_D = 0 and its kernel is all of Diag.
    ha = np.array([[0.0, 0.4], [0.4, 1.0]])
    hc = np.diag([0.0, 0.3, 1.1])
    h = np.kron(np.kron(ha, np.eye(3)), np.eye(2)) + np.kron(np.kron(np.eye(2), hc), np.eye(2))
    # complex dtypes and array rates: same signature as the random (2, 3, 2) model, so the
    # jitted call reuses that compilation
    h = jnp.asarray(h, dtype=complex)
    ta = jnp.asarray(models.diagonal_reset_state(0.7), dtype=complex)
    tb = jnp.asarray(models.diagonal_reset_state(0.4), dtype=complex)
    one = jnp.asarray(1.0)
    with pytest.raises(ValueError, match=r"Coup.*7\.8-7\.9"):
        qrm.leading_order(h, ta, tb, one, one, (2, 3, 2))
    with pytest.raises(Exception, match=r"Coup"):
        jax.block_until_ready(lo_jit(h, ta, tb, one, one, (2, 3, 2)))


def test_pos_failure_and_lambda_rejected():
    h, _, tb, ga, gb = chain()
    with pytest.raises(ValueError, match=r"Pos.*tau_A"):
        qrm.leading_order(h, models.diagonal_reset_state(1.0), tb, ga, gb, (2, 2, 2))
    lo = lo_jit(*chain(), (2, 2, 2))
    for lam in (0.0, 1.0):
        with pytest.raises(ValueError, match="must not be 0 or 1"):
            lo.sigma2(lam)
    with pytest.raises(ValueError, match="dims"):
        qrm.leading_order(h, *chain()[1:], (2, 2, 3))
