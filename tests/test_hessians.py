"""Second derivatives (``jax.hessian``) of entropies and entropy production.

Every Hessian is compared with Richardson-extrapolated central second differences of an
independent NumPy route (dense superoperators, eigh-based logarithms written here), on
random models and at the degenerate points where JAX's own ``eigh`` derivative is NaN:
``τ_A = τ_B = I/d`` (tripartite), ``H = 0`` and ``τ_j = I/d`` (single space), and
degenerate or nearly degenerate spectra for the matrix functions.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sla
from helpers import random_density, random_hermitian, rng

from jaxqep import linalg, qrm


def traceless_hermitian(r, d, scale=1.0):
    v = random_hermitian(r, d, scale)
    return v - np.trace(v) / d * np.eye(d)


def fd_hessian(f, n, e=1e-3):
    """Central second differences, Richardson-extrapolated (error O(e⁴))."""

    def plain(step):
        out = np.zeros((n, n))
        for i in range(n):
            for j in range(i, n):
                ei, ej = np.eye(n)[i] * step, np.eye(n)[j] * step
                out[i, j] = out[j, i] = (f(ei + ej) - f(ei - ej) - f(-ei + ej) + f(-ei - ej)) / (
                    4 * step * step
                )
        return out

    return (4 * plain(e) - plain(2 * e)) / 3


def np_logm(a):
    w, u = np.linalg.eigh(0.5 * (a + a.conj().T))
    assert w.min() > 0
    return (u * np.log(w)) @ u.conj().T


def assert_hessian_close(ad, ref, rtol=1e-6):
    ad = np.asarray(ad)
    assert np.all(np.isfinite(ad)), ad
    np.testing.assert_allclose(ad, ref, rtol=0, atol=rtol * np.max(np.abs(ref)))


# ----------------------------------------------------------------------------------------
# Matrix functions
# ----------------------------------------------------------------------------------------

SPECTRA = {
    "maximally_mixed": [1 / 3, 1 / 3, 1 / 3],
    "double": [0.3, 0.3, 0.4],
    "near_1e-7": [0.3, 0.3 + 1e-7, 0.4 - 1e-7],
    "near_3e-5": [0.3, 0.3 + 3e-5, 0.4 - 3e-5],
    "near_triple_1e-9": [1 / 3 - 1e-9, 1 / 3, 1 / 3 + 1e-9],
    "generic": [0.2, 0.35, 0.45],
}


def test_matrix_function_hessians():
    """logm, sqrtm, expm, S(ρ), S(ρ‖σ) and S(σ‖ρ) along a 2-parameter path through each
    spectrum of ``SPECTRA`` (one compiled, vmapped ``jax.hessian``)."""
    r = rng(11)
    v = np.linalg.qr(r.normal(size=(3, 3)) + 1j * r.normal(size=(3, 3)))[0]
    bases = np.stack([(v * np.asarray(sp)) @ v.conj().T for sp in SPECTRA.values()])
    d1, d2 = traceless_hermitian(r, 3, 0.3), traceless_hermitian(r, 3, 0.3)
    b = random_hermitian(r, 3)
    sig = random_density(r, 3)

    np_funcs = [
        lambda a: np.real(np.trace(b @ np_logm(a))),
        lambda a: np.real(np.trace(b @ sla.sqrtm(a))),
        lambda a: np.real(np.trace(b @ sla.expm(a))),
        lambda a: -np.real(np.trace(a @ np_logm(a))),
        lambda a: np.real(np.trace(a @ (np_logm(a) - np_logm(sig)))),
        lambda a: np.real(np.trace(sig @ (np_logm(sig) - np_logm(a)))),
    ]

    def all_jax(t, base):
        a = base + t[0] * d1 + t[1] * d2
        return jnp.stack(
            [
                jnp.real(jnp.trace(b @ linalg.logm_h(a))),
                jnp.real(jnp.trace(b @ linalg.sqrtm_h(a))),
                jnp.real(jnp.trace(b @ linalg.expm_h(a))),
                linalg.von_neumann_entropy(a),
                linalg.relative_entropy(a, sig),
                linalg.relative_entropy(sig, a),
            ]
        )

    hess = jax.jit(jax.vmap(jax.hessian(all_jax), in_axes=(None, 0)))(jnp.zeros(2), bases)
    for m, base in enumerate(bases):
        for k, fn in enumerate(np_funcs):
            ref = fd_hessian(lambda t, fn=fn, base=base: fn(base + t[0] * d1 + t[1] * d2), 2)
            assert_hessian_close(hess[m, k], ref)


def test_hermitian_function_hessian_and_orders_of_composition():
    """A user-supplied f (log via hermitian_function) at a triple eigenvalue; forward over
    forward, reverse over reverse and forward over reverse agree."""
    r = rng(3)
    d1, d2 = traceless_hermitian(r, 3, 0.3), traceless_hermitian(r, 3, 0.3)
    b = random_hermitian(r, 3)

    def f(t):
        a = jnp.eye(3) / 3 + t[0] * d1 + t[1] * d2
        return jnp.real(jnp.trace(b @ linalg.hermitian_function(a, jnp.log, lambda x: 1 / x)))

    ref = fd_hessian(
        lambda t: np.real(np.trace(b @ np_logm(np.eye(3) / 3 + t[0] * d1 + t[1] * d2))), 2
    )
    t0 = jnp.zeros(2)
    for compose in (
        jax.hessian,
        lambda g: jax.jacfwd(jax.jacfwd(g)),
        lambda g: jax.jacrev(jax.jacrev(g)),
    ):
        assert_hessian_close(jax.jit(compose(f))(t0), ref)


# ----------------------------------------------------------------------------------------
# Single-space reset models (NumPy route: dense Lindbladians)
# ----------------------------------------------------------------------------------------


def np_steady(L, d):
    a = np.vstack([L, np.eye(d).reshape(1, -1)])
    rhs = np.zeros(d * d + 1, complex)
    rhs[-1] = 1
    x = np.linalg.lstsq(a, rhs, rcond=None)[0]
    rho = x.reshape(d, d)
    return 0.5 * (rho + rho.conj().T)


def np_ham(h):
    d = h.shape[0]
    return -1j * (np.kron(h, np.eye(d)) - np.kron(np.eye(d), h.T))


def np_single_sigma(h, taus, gammas, lam):
    d = h.shape[0]
    vid = np.eye(d).reshape(1, -1)
    parts = [
        lj * np_ham(h) + gj * (np.outer(tj.reshape(-1), vid) - np.eye(d * d))
        for lj, gj, tj in zip(lam, gammas, taus)
    ]
    rho = np_steady(sum(parts), d)
    log_rho = np_logm(rho)
    total = 0.0
    for lj_mat in parts:
        act = (lj_mat @ rho.reshape(-1)).reshape(d, d)
        total += np.real(np.trace(act @ (np_logm(np_steady(lj_mat, d)) - log_rho)))
    return total


def test_single_space_hessian():
    """A random model, H = 0 and τ_j = I/d (one compiled, vmapped ``jax.hessian`` in the
    directions of H, the τ_j, the γ_j and λ)."""
    r = rng(21)
    d, nres = 3, 3
    h = random_hermitian(r, d)
    taus = np.stack([random_density(r, d) for _ in range(nres)])
    points = {
        "random": (h, taus),
        "H_zero": (np.zeros((d, d), complex), taus),
        "tau_maximally_mixed": (h, np.stack([np.eye(d, dtype=complex) / d] * nres)),
    }
    gammas = r.uniform(0.4, 1.4, size=nres)
    lam = r.normal(size=nres)
    lam = lam - lam.mean() + 1 / nres
    dh = random_hermitian(r, d)
    dtau = np.stack([traceless_hermitian(r, d, 0.05) for _ in range(nres)])
    dgam = r.normal(size=nres) * 0.3
    dlam = r.normal(size=nres)
    dlam -= dlam.mean()

    def args(p, h0, taus0):
        return h0 + p[0] * dh, taus0 + p[1] * dtau, gammas + p[2] * dgam, lam + p[3] * dlam

    def sigma(p, h0, taus0):
        return qrm.entropy_production(*args(p, h0, taus0)).total

    hs = jnp.asarray(np.stack([v[0] for v in points.values()]))
    ts = jnp.asarray(np.stack([v[1] for v in points.values()]))
    hess = jax.jit(jax.vmap(jax.hessian(sigma), in_axes=(None, 0, 0)))(jnp.zeros(4), hs, ts)
    for k, (h0, taus0) in enumerate(points.values()):
        ref = fd_hessian(lambda p, h0=h0, taus0=taus0: np_single_sigma(*args(p, h0, taus0)), 4)
        assert_hessian_close(hess[k], ref)
    # σ = 0 at equilibrium, with a positive curvature along the τ direction
    assert hess[2, 1, 1] > 1e-4


def test_single_space_hessian_wrt_full_hamiltonian_at_zero():
    """``jax.hessian`` with respect to the real and imaginary parts of H's entries at
    H = 0, contracted with a Hermitian direction, equals the second difference."""
    r = rng(22)
    d = 2
    taus = np.stack([random_density(r, d) for _ in range(2)])
    gammas = np.array([1.0, 0.5])
    lam = np.array([0.4, 0.6])
    dh = random_hermitian(r, d)

    def sigma(hr, hi):
        return qrm.entropy_production(hr + 1j * hi, taus, gammas, lam).total

    hess = jax.jit(jax.hessian(sigma, argnums=(0, 1)))(jnp.zeros((d, d)), jnp.zeros((d, d)))
    blocks = [[np.asarray(hess[i][j]) for j in range(2)] for i in range(2)]
    assert all(np.all(np.isfinite(b)) for row in blocks for b in row)
    v = [dh.real, dh.imag]
    quad = sum(
        np.einsum("ab,abcd,cd->", v[i], blocks[i][j], v[j]) for i in range(2) for j in range(2)
    )
    ref = fd_hessian(lambda p: np_single_sigma(p[0] * dh, taus, gammas, lam), 1)[0, 0]
    np.testing.assert_allclose(quad, ref, rtol=1e-6)


# ----------------------------------------------------------------------------------------
# Tripartite models (NumPy route: dense superoperators of D_A, D_B)
# ----------------------------------------------------------------------------------------


def np_tripartite_parts(h, ta, tb, ga, gb, dims, g, lam):
    na, nc, nb = dims
    d = na * nc * nb

    def reset_a(x):
        red = np.einsum("aiaj->ij", x.reshape(na, nc * nb, na, nc * nb))
        return ga * (np.kron(ta, red) - x)

    def reset_b(x):
        red = np.einsum("iaja->ij", x.reshape(na * nc, nb, na * nc, nb))
        return gb * (np.kron(red, tb) - x)

    def matrix(action):
        cols = []
        for k in range(d * d):
            e = np.zeros(d * d, complex)
            e[k] = 1
            cols.append(action(e.reshape(d, d)).reshape(-1))
        return np.stack(cols, axis=1)

    ham = np_ham(h)
    return [g * lam * ham + matrix(reset_a), g * (1 - lam) * ham + matrix(reset_b)]


def np_tripartite_sigma(h, ta, tb, ga, gb, dims, g, lam):
    d = h.shape[0]
    la, lb = np_tripartite_parts(h, ta, tb, ga, gb, dims, g, lam)
    rho = np_steady(la + lb, d)
    log_rho = np_logm(rho)
    total = 0.0
    for part in (la, lb):
        act = (part @ rho.reshape(-1)).reshape(d, d)
        total += np.real(np.trace(act @ (np_logm(np_steady(part, d)) - log_rho)))
    return total


@pytest.mark.parametrize("method", ["auto", "dense"])
def test_tripartite_hessian(method):
    """Hessian in (g, λ, s_A, s_B) with τ_A + s_A Δ_A, τ_B + s_B Δ_B: a random model and
    τ_A = τ_B = I/2 (every steady state is I/8), both in one vmapped ``jax.hessian``."""
    r = rng(31)
    dims = (2, 2, 2)
    h = random_hermitian(r, 8)
    points = {
        "random": (random_density(r, 2), random_density(r, 2)),
        "tau_maximally_mixed": (np.eye(2, dtype=complex) / 2, np.eye(2, dtype=complex) / 2),
    }
    dta, dtb = traceless_hermitian(r, 2, 0.1), traceless_hermitian(r, 2, 0.1)
    ga, gb = 0.7, 1.1
    p0 = np.array([0.6, 0.3, 0.0, 0.0])  # (g, λ, s_A, s_B)

    def args(p, ta, tb):
        return h, ta + p[2] * dta, tb + p[3] * dtb, ga, gb, dims, p[0], p[1]

    def sigma(p, ta, tb):
        return qrm.tripartite_entropy_production(*args(p, ta, tb), method=method).total

    tas = jnp.asarray(np.stack([v[0] for v in points.values()]))
    tbs = jnp.asarray(np.stack([v[1] for v in points.values()]))
    hess = jax.jit(jax.vmap(jax.hessian(sigma), in_axes=(None, 0, 0)))(jnp.asarray(p0), tas, tbs)
    for k, (ta, tb) in enumerate(points.values()):
        ref = fd_hessian(lambda q, ta=ta, tb=tb: np_tripartite_sigma(*args(p0 + q, ta, tb)), 4)
        assert_hessian_close(hess[k], ref)
    # at equilibrium σ vanishes identically in (g, λ); curvature only along τ
    ref_eq = np.asarray(hess[1])
    assert np.max(np.abs(ref_eq[:2, :2])) < 1e-8
    assert ref_eq[2, 2] > 1e-4 and ref_eq[3, 3] > 1e-4
