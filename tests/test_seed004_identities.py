"""Identities of seed 004 not tested elsewhere, each against an independent NumPy/SciPy route.

(2.4), (2.8) with J = 3 reservoirs; the spectrum (3.6); Lemma 3.1 and (3.12), (3.13) (and
its correction); Lemma 3.3 / (3.21) with ``qrm.detailed_balance`` and Gibbs resets;
(4.10), (4.12), (4.15), (4.22); (7.27), (7.38)-(7.39) and the positive form (7.46)/(7.52);
``leading_order`` on an N = 4 chain; the README's seed corrections (5.9), (5.20), Fig. 1a.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sla
from helpers import random_density, random_hermitian, rng

from jaxqep import models, qrm


def logm(x):
    w, u = np.linalg.eigh((x + x.conj().T) / 2)
    return (u * np.log(w)) @ u.conj().T


def rel_ent(a, b):
    return float(np.trace(a @ (logm(a) - logm(b))).real)


def entropy(a):
    w = np.linalg.eigvalsh(a)
    return float(-np.sum(w * np.log(w)))


def superop(h, taus, gammas, lam=None):
    """Row-major superoperators of L_j = -i[λ_j H, ·] + γ_j(τ_j tr − ·), NumPy."""
    d = h.shape[0]
    eye = np.eye(d)
    comm = np.kron(h, eye) - np.kron(eye, h.T)
    lam = np.asarray(gammas) / np.sum(gammas) if lam is None else lam
    out = []
    for lj, gj, tj in zip(lam, gammas, taus):
        reset = np.outer(tj.reshape(-1), eye.reshape(-1)) - np.eye(d * d)
        out.append(-1j * lj * comm + gj * reset)
    return out


def steady(lmat, d):
    a = lmat.copy()
    a[0] = np.eye(d).reshape(-1)
    b = np.zeros(d * d, complex)
    b[0] = 1
    x = np.linalg.solve(a, b).reshape(d, d)
    return (x + x.conj().T) / 2


def qrm_model(seed, d=3, J=3):
    r = rng(seed)
    h = random_hermitian(r, d)
    taus = np.stack([random_density(r, d) for _ in range(J)])
    gammas = 0.3 + r.uniform(size=J)
    lam = r.normal(size=J)
    lam = lam - lam.mean() + 1 / J
    return h, taus, gammas, lam


def rho_h(h, t):
    """(i[H, ·] + 1)⁻¹(T) by a dense NumPy solve (not the eigenbasis closed form)."""
    d = h.shape[0]
    eye = np.eye(d)
    m = 1j * (np.kron(h, eye) - np.kron(eye, h.T)) + np.eye(d * d)
    return np.linalg.solve(m, t.reshape(-1)).reshape(d, d)


# ------------------------------------------------------------------------------------
# Sec. 2
# ------------------------------------------------------------------------------------


def test_eq_2_4_and_2_8_three_reservoirs():
    h, taus, gammas, lam = qrm_model(0)
    d = 3
    rho = random_density(rng(9), d)
    ep = qrm.entropy_production(h, taus, gammas, jnp.asarray(lam), rho=jnp.asarray(rho))
    ls = superop(h, taus, gammas, lam)
    rhos_j = [steady(lj, d) for lj in ls]
    eps = 1e-5

    # (2.4): σ(ρ) = −d/dt Σ_j S(e^{tL_j}ρ | ρ_j) at t = 0 (central differences).
    def rel_sum(t):
        return sum(
            rel_ent((sla.expm(t * lj) @ rho.reshape(-1)).reshape(d, d), rj)
            for lj, rj in zip(ls, rhos_j)
        )

    sigma_24 = -(rel_sum(eps) - rel_sum(-eps)) / (2 * eps)
    np.testing.assert_allclose(float(ep.total), sigma_24, rtol=1e-7)
    # (2.8): dS(e^{tL}ρ)/dt = σ(ρ) − Σ_j tr(L_j(ρ) ln ρ_j) = σ − Σ_j φ_j.
    ltot = sum(ls)

    def s_of(t):
        return entropy((sla.expm(t * ltot) @ rho.reshape(-1)).reshape(d, d))

    ds = (s_of(eps) - s_of(-eps)) / (2 * eps)
    np.testing.assert_allclose(ds, float(ep.total - jnp.sum(ep.fluxes)), rtol=1e-7)
    # and the fluxes are tr(L_j(ρ) ln ρ_j) with the NumPy ρ_j
    fl = [
        np.trace((lj @ rho.reshape(-1)).reshape(d, d) @ logm(rj)).real for lj, rj in zip(ls, rhos_j)
    ]
    np.testing.assert_allclose(np.asarray(ep.fluxes), fl, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------------------------
# Sec. 3
# ------------------------------------------------------------------------------------


def test_spectrum_3_6():
    h, taus, gammas, _ = qrm_model(1, d=4)
    big_gamma = gammas.sum()
    ev = np.linalg.eigvals(sum(superop(h, taus, gammas)))
    e = np.linalg.eigvalsh(h)
    pred = [0.0] + [-big_gamma] * (len(e) - 1)
    pred += [-big_gamma - 1j * (a - b) for i, a in enumerate(e) for j, b in enumerate(e) if i != j]
    key = lambda z: (round(z.real, 8), round(z.imag, 8))  # noqa: E731
    np.testing.assert_allclose(sorted(ev, key=key), sorted(pred, key=key), atol=1e-9)


def test_lemma_3_1_cptp_positivity_and_3_12():
    r = rng(2)
    d = 3
    h = random_hermitian(r, d)
    t = random_density(r, d)
    rho = np.asarray(qrm.reset_steady_state(h, t, 1.0))
    np.testing.assert_allclose(rho, rho_h(h, t), atol=1e-13)
    # CPTP: Choi matrix Σ E_ij ⊗ ρ_H(E_ij) ≥ 0 and tr ρ_H(X) = tr X.
    choi = np.zeros((d * d, d * d), complex)
    for i in range(d):
        for j in range(d):
            e = np.zeros((d, d))
            e[i, j] = 1
            img = rho_h(h, e)
            choi += np.kron(e, img)
            assert abs(np.trace(img) - (i == j)) < 1e-13
    assert np.linalg.eigvalsh(choi).min() > -1e-13
    # (3.11): T > 0 ⇒ ρ_H(T) > 0; ρ_H(1) = 1.
    assert np.linalg.eigvalsh(rho).min() > 0
    np.testing.assert_allclose(rho_h(h, np.eye(d)), np.eye(d), atol=1e-13)
    # (3.12): tr(T ln ρ_H(T)) = tr(ρ_H(T) ln ρ_H(T)), S(ρ_H(T)) = S(T) + S(T|ρ_H(T)).
    np.testing.assert_allclose(
        np.trace(t @ logm(rho)).real, np.trace(rho @ logm(rho)).real, atol=1e-13
    )
    np.testing.assert_allclose(entropy(rho), entropy(t) + rel_ent(t, rho), atol=1e-13)
    # Remark 3.2: T in the commutant of H is invariant, and ρ_H raises the entropy otherwise.
    w, u = np.linalg.eigh(h)
    tc = (u * np.array([0.5, 0.3, 0.2])) @ u.conj().T
    np.testing.assert_allclose(rho_h(h, tc), tc, atol=1e-13)
    assert entropy(rho) > entropy(t)


def test_eq_3_13_transposition_corrected():
    """ρ_H(T)ᵗ = ρ_{−Hᵗ}(Tᵗ) in general; the printed ρ_H(T)ᵗ = ρ_{−H}(Tᵗ) needs H real."""
    r = rng(3)
    h = random_hermitian(r, 3)  # complex
    t = random_density(r, 3)
    np.testing.assert_allclose(rho_h(h, t).T, rho_h(-h.T, t.T), atol=1e-13)
    assert np.abs(rho_h(h, t).T - rho_h(-h, t.T)).max() > 1e-3  # the printed form fails
    hr = h.real
    np.testing.assert_allclose(rho_h(hr, t).T, rho_h(-hr, t.T), atol=1e-13)  # holds for real H


def test_lemma_3_3_detailed_balance_and_3_21():
    r = rng(4)
    d = 3
    h = random_hermitian(r, d)
    t = random_density(r, d)
    db = qrm.detailed_balance(h, t, 1.7)
    assert not bool(db.holds) and float(db.defect) > 1e-3 and float(db.commutator) > 1e-3
    # Independent: Φ and its ρ-adjoint from the Gram matrix of (A, B)_ρ = tr(ρ A^† B).
    rho = rho_h(h / 1.7, t)
    gram = np.kron(np.eye(d), rho.T)  # vec(A)^† G vec(B) = tr(ρ A^† B), row-major
    phi = 1.7 * np.outer(np.eye(d).reshape(-1), t.T.reshape(-1))  # vec(1 tr(TX))
    phi_adj = np.linalg.solve(gram, phi.conj().T @ gram)
    x = r.normal(size=(d, d))
    np.testing.assert_allclose(
        (phi_adj @ x.reshape(-1)).reshape(d, d),
        1.7 * t * np.trace(x @ rho) @ np.linalg.inv(rho),
        atol=1e-12,
    )  # eq. (3.22)
    # Gibbs resets commute with H: DB holds, ρ⁺ = T and (3.21) at any ρ > 0.
    tg = np.asarray(models.gibbs_state(h, 0.8))
    np.testing.assert_allclose(tg, sla.expm(-0.8 * h) / np.trace(sla.expm(-0.8 * h)), atol=1e-14)
    db = qrm.detailed_balance(h, tg, 1.7)
    assert bool(db.holds) and float(db.commutator) < 1e-13
    np.testing.assert_allclose(np.asarray(db.rho), tg, atol=1e-13)
    rho = random_density(r, d)  # non-diagonal in H's eigenbasis
    ep = qrm.entropy_production(h, tg[None], jnp.array([1.7]), rho=jnp.asarray(rho))
    np.testing.assert_allclose(
        float(ep.total), 1.7 * (rel_ent(tg, rho) + rel_ent(rho, tg)), rtol=1e-10
    )
    # Gibbs states of several temperatures (Sec. 4, case iii): σ_j = γ_j(S(τ_j|T) + S(T|τ_j)).
    taus = np.asarray(models.gibbs_states(h, jnp.array([0.3, 1.2])))
    gam = np.array([0.4, 0.9])
    ep = qrm.entropy_production(h, taus, gam, jnp.array([2.0, -1.0]))
    tt = (gam[:, None, None] * taus).sum(0) / gam.sum()
    np.testing.assert_allclose(np.asarray(ep.rho), tt, atol=1e-13)
    np.testing.assert_allclose(
        np.asarray(ep.parts),
        [g * (rel_ent(tj, tt) + rel_ent(tt, tj)) for g, tj in zip(gam, taus)],
        rtol=1e-9,
    )
    with pytest.raises(ValueError, match="beta: must be non-negative"):
        models.gibbs_state(h, -1.0)


def test_gibbs_gradient_finite_at_degenerate_spectrum():
    h = jnp.diag(jnp.array([0.0, 1.0, 1.0]))  # degenerate
    f = lambda b: models.gibbs_state(h, b)[0, 0].real  # noqa: E731
    g = float(jax.grad(f)(0.7))
    z = 1 + 2 * np.exp(-0.7)
    np.testing.assert_allclose(g, 2 * np.exp(-0.7) / z**2, rtol=1e-10)  # d/dβ (1/Z)


# ------------------------------------------------------------------------------------
# Sec. 4
# ------------------------------------------------------------------------------------


def test_eqs_4_10_4_12_4_15():
    h, taus, gammas, _ = qrm_model(5)
    ep = qrm.entropy_production(h, taus, gammas)  # λ_j = γ_j/Γ
    big = gammas.sum()
    rj = [rho_h(h / big, tj) for tj in taus]  # (4.9)
    np.testing.assert_allclose(np.asarray(ep.partial_states), np.stack(rj), atol=1e-13)
    rho = sum(g / big * r for g, r in zip(gammas, rj))
    np.testing.assert_allclose(np.asarray(ep.rho), rho, atol=1e-13)  # (4.10)
    tt = sum(g * t for g, t in zip(gammas, taus)) / big
    s412 = sum(g * np.trace((t - tt) @ logm(r)).real for g, t, r in zip(gammas, taus, rj))
    np.testing.assert_allclose(float(ep.total), s412, rtol=1e-10)  # (4.12)
    bound = big * (entropy(rho) - sum(g / big * entropy(r) for g, r in zip(gammas, rj)))
    assert float(ep.total) >= bound > 0  # (4.15), strict since the τ_j differ (4.16)


def test_eq_4_22_equal_resets_any_affine_split():
    h, taus, gammas, lam = qrm_model(6)
    tau = taus[0]
    ep = qrm.entropy_production(h, np.stack([tau] * 3), gammas, jnp.asarray(lam))
    big = gammas.sum()
    rho = np.asarray(ep.rho)
    for j in range(3):
        rj = np.asarray(ep.partial_states[j])
        pred = (gammas[j] - lam[j] * big) * (entropy(rho) - entropy(rj) + rel_ent(rho, rj))
        np.testing.assert_allclose(float(ep.parts[j]), pred, rtol=1e-9, atol=1e-14)


# ------------------------------------------------------------------------------------
# Sec. 5: README corrections
# ------------------------------------------------------------------------------------


def _sigma_59(p00, t_a, gamma, t):
    """The corrected (5.9): numerator p00(0)e^{−γt} + t_A(1 − e^{−γt})."""
    p = p00 * np.exp(-gamma * t) + t_a * (1 - np.exp(-gamma * t))
    return (
        gamma * np.exp(-gamma * t) * (p00 - t_a) * (np.log(p / (1 - p)) - np.log(t_a / (1 - t_a)))
    )


def _sigma_traj(h, tau, gamma, rho0, t):
    d = 2
    lmat = superop(h, [tau], [gamma], [1.0])[0]
    rho = (sla.expm(t * lmat) @ rho0.reshape(-1)).reshape(d, d)
    lr = (lmat @ rho.reshape(-1)).reshape(d, d)
    return float(np.trace(lr @ (logm(tau) - logm(rho))).real)  # (2.11), ρ⁺ = τ_A


def test_eq_5_9_only_for_diagonal_initial_state():
    eps, t_a, gamma = 1.0, 0.9, 0.8
    h = np.diag([0.0, eps])  # δ = 0: [H, τ_A] = 0
    tau = np.diag([t_a, 1 - t_a])
    ts = [0.3, 1.0, 2.5]
    diag0 = np.diag([0.4, 0.6]).astype(complex)
    for t in ts:
        np.testing.assert_allclose(
            _sigma_59(0.4, t_a, gamma, t), _sigma_traj(h, tau, gamma, diag0, t), rtol=1e-9
        )
    coh0 = np.array([[0.4, 0.3], [0.3, 0.6]], complex)  # p01(0) ≠ 0
    errs = [abs(_sigma_59(0.4, t_a, gamma, t) - _sigma_traj(h, tau, gamma, coh0, t)) for t in ts]
    assert min(errs) > 1e-3


def test_after_5_20_condition_is_t_j_equal_tbar():
    h = np.diag([0.0, 1.0])  # δ = 0
    gam = np.array([1.0, 0.5, 1 / 3])
    ts = np.array([0.9, 0.6, 0.7])
    tbar = float(gam @ ts / gam.sum())
    taus = np.stack([np.diag([x, 1 - x]) for x in ts])
    # "λ_j = t̄" (as printed) does not give σ = 0 ...
    lam = np.array([tbar, tbar, 1 - 2 * tbar])
    ep = qrm.entropy_production(h, taus, gam, jnp.asarray(lam))
    assert float(ep.total) > 1e-3
    tt = np.diag([tbar, 1 - tbar])
    np.testing.assert_allclose(  # (5.20), independent of λ
        np.asarray(ep.parts),
        [g * (rel_ent(t, tt) + rel_ent(tt, t)) for g, t in zip(gam, taus)],
        rtol=1e-9,
    )
    # ... t_j = t̄ for every j does, for any λ.
    same = np.stack([np.diag([0.7, 0.3])] * 3)
    assert abs(float(qrm.entropy_production(h, same, gam, jnp.asarray(lam)).total)) < 1e-15


def test_fig1a_zero_only_at_equal_t():
    h = models.single_qubit_hamiltonian(1.0, 0.7)
    gam = jnp.array([1.0, 0.5, 1 / 3])

    def sig(ta, tb, tc=0.8):
        taus = jnp.stack([models.diagonal_reset_state(x) for x in (ta, tb, tc)])
        return float(qrm.entropy_production(h, taus, gam).total)

    np.testing.assert_allclose(sig(0.5, 0.5), 0.10021, atol=5e-5)  # τ_A = τ_B, σ ≠ 0
    assert abs(sig(0.8, 0.8)) < 1e-15  # t_A = t_B = t_C
    # NumPy route at (0.5, 0.5): (4.12) with (4.9)
    taus = [np.diag([x, 1 - x]) for x in (0.5, 0.5, 0.8)]
    g = np.asarray(gam)
    hh = np.asarray(h)
    tt = sum(gi * t for gi, t in zip(g, taus)) / g.sum()
    s = sum(gi * np.trace((t - tt) @ logm(rho_h(hh / g.sum(), t))).real for gi, t in zip(g, taus))
    np.testing.assert_allclose(sig(0.5, 0.5), s, rtol=1e-10)


# ------------------------------------------------------------------------------------
# Sec. 7
# ------------------------------------------------------------------------------------


def random_tripartite(seed, dims=(2, 2, 2)):
    r = rng(seed)
    d = int(np.prod(dims))
    return (
        random_hermitian(r, d),
        random_density(r, dims[0]),
        random_density(r, dims[2]),
        0.5 + r.uniform(),
        0.5 + r.uniform(),
        dims,
    )


def _ptr_a(x, dims):
    na, nc, nb = dims
    return np.einsum("aiaj->ij", x.reshape(na, nc * nb, na, nc * nb))


def _ptr_b(x, dims):
    na, nc, nb = dims
    return np.einsum("ibjb->ij", x.reshape(na * nc, nb, na * nc, nb))


@pytest.mark.parametrize("seed", [0, 1])
def test_eqs_7_27_7_38_7_39_and_positive_form(seed):
    h, ta, tb, ga, gb, dims = random_tripartite(seed)
    lo = qrm.leading_order(h, ta, tb, ga, gb, dims)
    rho0, rho1 = np.asarray(lo.rho0), np.asarray(lo.rho1)
    da = ga * (np.kron(ta, _ptr_a(rho1, dims)) - rho1)
    db = gb * (np.kron(_ptr_b(rho1, dims), tb) - rho1)
    comm0 = h @ rho0 - rho0 @ h
    np.testing.assert_allclose(1j * comm0, da + db, atol=1e-13)  # (7.27)
    q1 = np.asarray(qrm.dlogm(rho0, rho1))
    c_sum = float(np.sum(lo.c))
    np.testing.assert_allclose(c_sum, (-1j * np.trace(comm0 @ q1)).real, rtol=1e-10)  # (7.38)
    l0 = logm(rho0)
    rhs = np.trace((l0 @ rho1 - rho1 @ l0) @ h)  # (7.39): tr([H, ρ0] Q1) = tr([ln ρ0, ρ1] H)
    np.testing.assert_allclose(np.trace(comm0 @ q1), rhs, atol=1e-13)
    # (7.46)/(7.52): three non-negative terms; each term equals Lemma 7.11's spectral sum.
    pf = qrm.sigma2_positive_form(h, ta, tb, ga, gb, dims)
    np.testing.assert_allclose(float(pf.total), c_sum, rtol=1e-9)
    assert np.all(np.asarray(pf.terms) > 0)
    w, u = np.linalg.eigh(rho0)
    hm = u.conj().T @ h @ u
    spectral = np.sum(np.abs(hm) ** 2 * (w[:, None] - w[None, :]) * np.log(w[:, None] / w[None, :]))
    np.testing.assert_allclose(float(pf.terms[0]), spectral, rtol=1e-9)


def test_positive_form_vanishes_iff_commuting():
    """[H, ρ0] = 0 ⇒ every term and c_A + c_B vanish (Prop. 7.4): τ⊗τ⊗τ for the chain."""
    h = models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
    tau = models.diagonal_reset_state(0.8)
    pf = qrm.sigma2_positive_form(h, tau, tau, 0.7, 0.6, (2, 2, 2))
    assert np.all(np.abs(np.asarray(pf.terms)) < 1e-15)
    k = jnp.diag(jnp.array([0.5, 0.3, 0.2]))
    assert abs(float(qrm.commutator_form(jnp.diag(jnp.array([1.0, 2.0, 3.0])), k))) < 1e-15


def test_leading_order_four_site_chain():
    chain = models.reset_chain(4)
    lo = qrm.leading_order(*chain.tripartite_args())
    s2 = float(lo.sigma2(0.5))
    np.testing.assert_allclose(s2, 5.15279e-3, rtol=2e-6)
    gs = jnp.array([0.01, 0.02])
    f = jax.jit(
        jax.vmap(
            lambda g: (
                qrm.tripartite_entropy_production(
                    *chain.tripartite_args(), g, 0.5, method="dense"
                ).total
            )
        )
    )
    sig = np.asarray(f(gs)) / np.asarray(gs) ** 2
    lim = (4 * sig[0] - sig[1]) / 3  # σ/g² = σ⁽²⁾ + O(g²) (even in g, as for N = 3)
    np.testing.assert_allclose(lim, s2, rtol=2e-5)
    np.testing.assert_allclose(sig[0], 5.15277e-3, rtol=2e-5)
