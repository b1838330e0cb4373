"""Single-space reset models (seed 004, Secs. 3-5).

Analytic reference systems used here:
* the single qubit of eq. (5.1), H = [[0, δ/2], [δ/2, ε]], with diagonal resets (5.2);
* closed forms (5.6), (5.11), (5.14), (5.17), (5.19), (5.20);
* Propositions 4.3 (i-iii) and 4.5.
Extraction typos found and corrected (each checked against the dense solve):
* (5.6): the printed off-diagonal entries are swapped; ρ⁺_01 = δ/2 (ε - iγ)(1-2t)/(ε²+δ²+γ²)
  as in (5.11).
* (5.14): "Γ_j²" in the off-diagonal denominators is γ_j².
* (5.17): the prefactor γ_j(-1 + λ_jΓ)² holds only for γ_j = 1; in general it is
  γ_j(γ_j - λ_jΓ)² (the paper's units have γ_A = 1).
* (5.9): the numerator inside the first log is p00(0)e^{-γt} + t_A(1 - e^{-γt}).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sla
from helpers import random_density, random_hermitian, rng
from hypothesis import given, settings, strategies as st

import jaxqep
from jaxqep import models, qrm, superop

EPS, DELTA = 1.0, 0.7
GAMMAS = np.array([1.0, 0.5, 1.0 / 3.0])


def dense_qrm(h, taus, gammas, lambdas):
    """Independent route: dense superoperators, SVD null vectors, SciPy logm."""
    d = h.shape[0]
    eye = np.eye(d)

    def lind(hh, tau, gam):
        comm = -1j * (np.kron(hh, eye) - np.kron(eye, hh.T))
        return comm + gam * (np.outer(tau.reshape(-1), eye.reshape(-1)) - np.eye(d * d))

    def null_state(lmat):
        _, s, vh = np.linalg.svd(lmat)
        assert s[-2] > 1e-8 * s[0]
        x = vh[-1].conj().reshape(d, d)
        x = x / np.trace(x)
        return (x + x.conj().T) / 2

    parts_l = [lind(lj * h, tj, gj) for lj, tj, gj in zip(lambdas, taus, gammas)]
    rho = null_state(sum(parts_l))
    states = [null_state(lm) for lm in parts_l]
    log_rho = sla.logm(rho)
    sig = []
    flux = []
    for lm, rj in zip(parts_l, states):
        act = (lm @ rho.reshape(-1)).reshape(d, d)
        sig.append(np.trace(act @ (sla.logm(rj) - log_rho)).real)
        flux.append(np.trace(act @ sla.logm(rj)).real)
    return rho, np.array(states), np.array(sig), np.array(flux)


def random_model(seed, d, nres):
    r = rng(seed)
    h = random_hermitian(r, d)
    taus = np.stack([random_density(r, d) for _ in range(nres)])
    gammas = r.uniform(0.2, 2.0, size=nres)
    lam = r.normal(size=nres)
    lam = lam - lam.mean() + 1.0 / nres
    return h, taus, gammas, lam


@pytest.mark.parametrize("d,nres,seed", [(2, 2, 0), (3, 3, 1), (5, 2, 2), (4, 4, 3)])
def test_closed_form_and_sigma_vs_dense(d, nres, seed):
    h, taus, gammas, lam = random_model(seed, d, nres)
    rho, states, sig, flux = dense_qrm(h, taus, gammas, lam)
    ep = qrm.entropy_production(h, taus, gammas, lam)
    np.testing.assert_allclose(ep.rho, rho, atol=1e-10)
    np.testing.assert_allclose(ep.partial_states, states, atol=1e-10)
    np.testing.assert_allclose(ep.parts, sig, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ep.fluxes, flux, rtol=1e-9, atol=1e-12)
    assert np.all(np.asarray(ep.parts) >= -1e-13)
    # At the steady state the fluxes add up to the total (eq. 2.12).
    np.testing.assert_allclose(np.sum(ep.fluxes), ep.total, rtol=1e-9, atol=1e-12)
    # The generic superoperator route agrees too.
    ls = [
        superop.hamiltonian_superop(lj * h) + superop.reset_dissipator(tj, gj)
        for lj, tj, gj in zip(lam, taus, gammas)
    ]
    ep2 = qrm.spohn_entropy_production(jnp.stack(ls))
    np.testing.assert_allclose(ep2.parts, sig, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ep2.rho, rho, atol=1e-10)


def test_sigma_vs_qutip():
    qutip = pytest.importorskip("qutip")
    h, taus, gammas, lam = random_model(7, 3, 3)
    ep = qrm.entropy_production(h, taus, gammas, lam)

    def qutip_state(hh, ts, gs):
        # γ(τ tr ρ - ρ) with τ = Σ p_i |i><i|: jump operators sqrt(γ p_i)|i><k|.
        cops = []
        for tau, gam in zip(ts, gs):
            p, v = np.linalg.eigh(tau)
            for i in range(len(p)):
                for k in range(len(p)):
                    cops.append(
                        qutip.Qobj(
                            np.sqrt(gam * max(p[i], 0)) * np.outer(v[:, i], np.eye(len(p))[k])
                        )
                    )
        return qutip.steadystate(qutip.Qobj(hh), cops).full()

    rho = qutip_state(h, taus, gammas)
    np.testing.assert_allclose(ep.rho, rho, atol=1e-9)
    for j in range(3):
        rj = qutip_state(lam[j] * h, taus[j : j + 1], gammas[j : j + 1])
        np.testing.assert_allclose(ep.partial_states[j], rj, atol=1e-9)
        act = -1j * lam[j] * (h @ rho - rho @ h) + gammas[j] * (taus[j] - rho)
        # σ_j = tr(L_j(ρ) ln ρ_j) - tr(L_j(ρ) ln ρ) with QuTiP's own logarithms.
        s = np.trace(act @ (qutip.Qobj(rj).logm().full() - qutip.Qobj(rho).logm().full())).real
        np.testing.assert_allclose(ep.parts[j], s, rtol=1e-8, atol=1e-12)


def test_single_qubit_one_reservoir_eq_5_6():
    g, t = 0.8, 0.9
    h = models.single_qubit_hamiltonian(EPS, DELTA)
    rho = np.asarray(qrm.reset_steady_state(h, models.diagonal_reset_state(t), g))
    den = EPS**2 + DELTA**2 + g**2
    p00 = (DELTA**2 / 2 + (EPS**2 + g**2) * t) / den
    p01 = DELTA / 2 * (EPS - 1j * g) * (1 - 2 * t) / den
    np.testing.assert_allclose(rho, [[p00, p01], [np.conj(p01), 1 - p00]], atol=1e-14)
    # independent: it is annihilated by L
    lmat = superop.hamiltonian_superop(h) + superop.reset_dissipator(
        models.diagonal_reset_state(t), g
    )
    assert np.linalg.norm(lmat @ rho.reshape(-1)) < 1e-14


def test_three_reservoirs_eq_5_11_and_5_14():
    ts = np.array([0.9, 0.3, 0.8])
    taus = jnp.stack([models.diagonal_reset_state(t) for t in ts])
    lam = np.array([0.5, -0.2, 0.7])
    h = models.single_qubit_hamiltonian(EPS, DELTA)
    ep = qrm.entropy_production(h, taus, GAMMAS, lam)
    gam = GAMMAS.sum()
    tbar = (GAMMAS * ts).sum() / gam
    den = EPS**2 + DELTA**2 + gam**2
    p00 = ((EPS**2 + gam**2) * tbar + DELTA**2 / 2) / den
    p01 = DELTA / 2 * (EPS - 1j * gam) * (1 - 2 * tbar) / den
    np.testing.assert_allclose(ep.rho, [[p00, p01], [np.conj(p01), 1 - p00]], atol=1e-14)
    for j in range(3):
        lj, gj, tj = lam[j], GAMMAS[j], ts[j]
        dj = gj**2 + lj**2 * (EPS**2 + DELTA**2)
        q00 = (gj**2 * tj + lj**2 * (EPS**2 * tj + DELTA**2 / 2)) / dj
        q01 = lj * DELTA / 2 * (EPS * lj - 1j * gj) * (1 - 2 * tj) / dj
        np.testing.assert_allclose(
            ep.partial_states[j], [[q00, q01], [np.conj(q01), 1 - q00]], atol=1e-14
        )


@pytest.mark.parametrize("lam", [[0.5, 0.3, 0.2], [0.9, -0.4, 0.5], [1.0, 0.0, 0.0]])
def test_identical_resets_eq_5_17_and_5_19(lam):
    t = 0.9
    lam = np.array(lam)
    h = models.single_qubit_hamiltonian(EPS, DELTA)
    taus = jnp.stack([models.diagonal_reset_state(t)] * 3)
    ep = qrm.entropy_production(h, taus, GAMMAS, lam)
    gam = GAMMAS.sum()
    for j in range(3):
        lj, gj = lam[j], GAMMAS[j]
        kap = np.sqrt(
            (EPS**2 * lj**2 + gj**2)
            * (1 - 2 * t) ** 2
            / (EPS**2 * lj**2 + gj**2 + lj**2 * DELTA**2)
        )
        expect = (
            gj
            * (gj - lj * gam) ** 2
            * kap
            * DELTA**2
            / 2
            * (np.log1p(kap) - np.log1p(-kap))
            / ((EPS**2 * lj**2 + gj**2) * (EPS**2 + gam**2 + DELTA**2))
        )
        np.testing.assert_allclose(ep.parts[j], expect, rtol=1e-10, atol=1e-15)
    if lam[0] == 1.0:
        ga, gbc = GAMMAS[0], GAMMAS[1] + GAMMAS[2]
        kap = np.sqrt((EPS**2 + ga**2) * (1 - 2 * t) ** 2 / (EPS**2 + ga**2 + DELTA**2))
        expect = (
            gbc
            * DELTA**2
            / 2
            * (1 - 2 * t)
            / ((EPS**2 + ga**2 + DELTA**2) * (EPS**2 + gam**2 + DELTA**2) * kap)
            * (
                ga * gbc * (1 - 2 * t) * (np.log(0.5 + kap / 2) - np.log(0.5 - kap / 2))
                + (EPS**2 + ga**2 + DELTA**2) * kap * np.log((1 - t) / t)
            )
        )
        np.testing.assert_allclose(ep.total, expect, rtol=1e-10)


def test_detailed_balance_eq_5_20_and_prop_4_3_iii():
    ts = np.array([0.9, 0.3, 0.65])
    taus = jnp.stack([models.diagonal_reset_state(t) for t in ts])
    h = models.single_qubit_hamiltonian(EPS, 0.0)  # [H, τ_j] = 0
    tbar = (GAMMAS * ts).sum() / GAMMAS.sum()
    for lam in ([0.2, 0.5, 0.3], [3.0, -1.0, -1.0]):
        ep = qrm.entropy_production(h, taus, GAMMAS, np.array(lam))
        np.testing.assert_allclose(ep.rho, np.diag([tbar, 1 - tbar]), atol=1e-15)
        np.testing.assert_allclose(ep.partial_states, taus, atol=1e-15)
        expect = GAMMAS * (
            (tbar - ts) * (np.log(1 - ts) - np.log(1 - tbar))
            + (ts - tbar) * (np.log(ts) - np.log(tbar))
        )
        np.testing.assert_allclose(ep.parts, expect, rtol=1e-12)
        rel = [
            float(
                jaxqep.linalg.relative_entropy(taus[j], ep.rho)
                + jaxqep.linalg.relative_entropy(ep.rho, taus[j])
            )
            for j in range(3)
        ]
        np.testing.assert_allclose(ep.parts, GAMMAS * np.array(rel), rtol=1e-10)


def test_prop_4_3_i_and_ii_random():
    r = rng(11)
    d = 3
    h = random_hermitian(r, d)
    gammas = r.uniform(0.3, 1.5, size=3)
    distinct = np.stack([random_density(r, d) for _ in range(3)])
    same = np.stack([distinct[0]] * 3)
    # (i) λ = γ/Γ: σ > 0 for distinct resets, σ = 0 for identical ones.
    assert float(qrm.entropy_production(h, distinct, gammas).total) > 1e-6
    assert abs(float(qrm.entropy_production(h, same, gammas).total)) < 1e-13
    # (ii) λ = (1, 0, 0): σ ≥ Σ_{j≠1} γ_j (S(τ_j|ρ⁺) + S(ρ⁺|τ_j)) > 0 (eq. 4.7), with
    # equality of the parts j ≠ 1 (eq. 4.20).
    ep = qrm.entropy_production(h, distinct, gammas, np.array([1.0, 0.0, 0.0]))
    rel = np.array(
        [
            gammas[j]
            * float(
                jaxqep.linalg.relative_entropy(distinct[j], ep.rho)
                + jaxqep.linalg.relative_entropy(ep.rho, distinct[j])
            )
            for j in (1, 2)
        ]
    )
    np.testing.assert_allclose(ep.parts[1:], rel, rtol=1e-10)
    assert float(ep.total) >= rel.sum() - 1e-14 and rel.sum() > 0


def test_prop_4_5_fig_1c_zero_exactly_at_gamma_over_Gamma():
    t = 0.9
    h = models.single_qubit_hamiltonian(EPS, DELTA)
    taus = jnp.stack([models.diagonal_reset_state(t)] * 3)

    @jax.jit
    def sigma(la, lb):
        return qrm.entropy_production(h, taus, GAMMAS, jnp.stack([la, lb, 1.0 - la - lb])).total

    assert abs(float(sigma(6 / 11, 3 / 11))) < 1e-15
    grid = np.linspace(-0.5, 1.2, 35)
    vals = jax.vmap(jax.vmap(sigma, (None, 0)), (0, None))(jnp.asarray(grid), jnp.asarray(grid))
    vals = np.asarray(vals)
    dist = np.hypot(grid[:, None] - 6 / 11, grid[None, :] - 3 / 11)
    assert np.all(vals[dist > 1e-3] > 0)
    # quadratic growth near the zero (Fig. 1d)
    s1, s2 = float(sigma(6 / 11 + 1e-3, 3 / 11)), float(sigma(6 / 11 + 2e-3, 3 / 11))
    np.testing.assert_allclose(s2 / s1, 4.0, rtol=1e-2)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    d=st.integers(2, 4),
    nres=st.integers(1, 4),
)
def test_sigma_parts_nonnegative_property(seed, d, nres):
    h, taus, gammas, lam = random_model(seed, d, nres)
    ep = qrm.entropy_production(h, taus, gammas, lam)
    assert np.all(np.isfinite(np.asarray(ep.parts)))
    assert np.all(np.asarray(ep.parts) >= -1e-12)
    np.testing.assert_allclose(np.trace(ep.rho), 1.0, atol=1e-12)
    assert np.min(np.linalg.eigvalsh(np.asarray(ep.rho))) > 0


def test_time_evolution_eqs_5_7_and_5_9():
    g, t = 0.8, 0.9
    h = models.single_qubit_hamiltonian(EPS, 0.0)
    tau = models.diagonal_reset_state(t)[None]
    rho0 = np.array([[0.3, 0.2 - 0.1j], [0.2 + 0.1j, 0.7]])
    ts = np.linspace(0.0, 5.0, 11)
    states = np.asarray(qrm.evolve(h, tau, [g], rho0, ts))
    p00 = np.exp(-g * ts) * rho0[0, 0] + t * (1 - np.exp(-g * ts))
    p01 = rho0[0, 1] * np.exp((1j * EPS - g) * ts)
    np.testing.assert_allclose(states[:, 0, 0], p00, atol=1e-13)
    np.testing.assert_allclose(states[:, 0, 1], p01, atol=1e-13)
    # (5.9) for a diagonal initial state (p01(0) = 0), t > 0
    rho0 = np.diag([0.3, 0.7])
    ts = np.linspace(0.1, 5.0, 8)
    traj = qrm.entropy_production_trajectory(h, tau, [g], rho0, ts)
    p = 0.3 * np.exp(-g * ts) + t * (1 - np.exp(-g * ts))
    expect = g * np.exp(-g * ts) * (0.3 - t) * (np.log(p / (1 - p)) - np.log(t / (1 - t)))
    np.testing.assert_allclose(traj.total, expect, rtol=1e-10)
    # σ_L(ρ(t)) = -d/dt S(ρ(t)|ρ⁺) on a generic (δ ≠ 0) model, by finite differences.
    h = models.single_qubit_hamiltonian(EPS, DELTA)
    rho0 = np.array([[0.6, 0.1j], [-0.1j, 0.4]])

    def rel(tt):
        st_ = qrm.evolve(h, tau, [g], rho0, jnp.array([tt]))[0]
        rinf = qrm.reset_steady_state(h, tau[0], g)
        return float(jaxqep.linalg.relative_entropy(st_, rinf))

    tt = 0.7
    fd = -(rel(tt + 1e-5) - rel(tt - 1e-5)) / 2e-5
    sig = float(qrm.entropy_production_trajectory(h, tau, [g], rho0, jnp.array([tt])).total[0])
    np.testing.assert_allclose(sig, fd, rtol=1e-6)
    # and the states agree with the matrix exponential of the superoperator
    lmat = superop.hamiltonian_superop(h) + superop.reset_dissipator(tau[0], g)
    np.testing.assert_allclose(
        qrm.evolve(h, tau, [g], rho0, jnp.array([tt]))[0].reshape(-1),
        sla.expm(np.asarray(lmat) * tt) @ rho0.reshape(-1),
        atol=1e-12,
    )
