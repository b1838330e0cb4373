"""Tripartite reset models (seed 004, Secs. 6-8), dense route.

Reference system: the three-qubit chain of Sec. 8 at the CONVENTIONS parameters
(eA=0.08, eB=0.1, eC=0.05, U=0.1, Jα=0.05, Jβ=0.1, γA=0.7, γB=0.6, tA=0.95, tB=0.6), for
which σ(g) is λ-independent, σ/g² → 5.2273e-3, ρ^A_g = τA⊗τA⊗τA exactly (8.14), the
fluxes have the closed forms (8.27) and the reduced state of C tends to (8.17).
Independent route for random models: QuTiP `steadystate` with the resets written as jump
operators sqrt(γ p_i)|i><k| ⊗ 1, and SciPy logarithms.
"""

import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sla
from helpers import random_density, random_hermitian, rng

from jaxqep import linalg, models, qrm

P = dict(eA=0.08, eB=0.1, eC=0.05, U=0.1, J_alpha=0.05, J_beta=0.1)
GA, GB, TA, TB = 0.7, 0.6, 0.95, 0.6
DIMS = (2, 2, 2)


def chain(ta=TA, tb=TB):
    h = models.three_qubit_chain(**P)
    return h, models.diagonal_reset_state(ta), models.diagonal_reset_state(tb)


def test_three_qubit_hamiltonian_matches_eq_8_1_to_8_3():
    h = np.asarray(models.three_qubit_chain(**P))
    expect = np.zeros((8, 8))
    for i, (a, c, b) in enumerate(itertools.product((0, 1), repeat=3)):  # basis (8.8)
        expect[i, i] = P["eA"] * a + P["eC"] * c + P["eB"] * b + P["U"] * (a * c + c * b)
    idx = {bits: i for i, bits in enumerate(itertools.product((0, 1), repeat=3))}
    for b in (0, 1):  # Jα (|01><10| + h.c.) on A-C
        expect[idx[(0, 1, b)], idx[(1, 0, b)]] = expect[idx[(1, 0, b)], idx[(0, 1, b)]] = P[
            "J_alpha"
        ]
    for a in (0, 1):  # Jβ on C-B
        expect[idx[(a, 0, 1)], idx[(a, 1, 0)]] = expect[idx[(a, 1, 0)], idx[(a, 0, 1)]] = P[
            "J_beta"
        ]
    np.testing.assert_allclose(h, expect, atol=1e-15)


def test_three_qubit_sigma_limit_lambda_independence_and_exact_states():
    h, ta, tb = chain()
    vals = []
    for lam in (0.3, 0.5, -1.5, 2.5):
        ep = qrm.tripartite_entropy_production(h, ta, tb, GA, GB, DIMS, 0.1, lam)
        vals.append(float(ep.total))
        # (8.14): ρ^A = τA⊗τA⊗τA and ρ^B = τB⊗τB⊗τB for all g, λ
        np.testing.assert_allclose(ep.partial_states[0], np.kron(np.kron(ta, ta), ta), atol=1e-10)
        np.testing.assert_allclose(ep.partial_states[1], np.kron(np.kron(tb, tb), tb), atol=1e-10)
        # (8.27): φ_A = γA tr((τA - tr_CB ρ) ln τA), φ_B likewise.
        rho_a = linalg.partial_trace(ep.rho, DIMS, [0])
        rho_b = linalg.partial_trace(ep.rho, DIMS, [2])
        phi_a = GA * np.trace((ta - rho_a) @ sla.logm(ta)).real
        phi_b = GB * np.trace((tb - rho_b) @ sla.logm(tb)).real
        np.testing.assert_allclose(ep.fluxes, [phi_a, phi_b], rtol=1e-8)
    np.testing.assert_allclose(vals, vals[0], rtol=1e-9)
    ratios = [
        float(qrm.tripartite_entropy_production(h, ta, tb, GA, GB, DIMS, g, 0.4).total) / g**2
        for g in (4e-3, 2e-3)
    ]
    # O(g²) corrections (Fig. 4): extrapolate the two ratios to g = 0.
    limit = (4 * ratios[1] - ratios[0]) / 3
    np.testing.assert_allclose(limit, 5.2273e-3, rtol=2e-4)


def test_three_qubit_reduced_C_state_tends_to_eq_8_17():
    h, ta, tb = chain()
    ja, jb = P["J_alpha"], P["J_beta"]
    norm = ja**2 * GB + jb**2 * GA
    rho_c0 = (
        np.diag([ja**2 * TA * GB + jb**2 * TB * GA, ja**2 * (1 - TA) * GB + jb**2 * (1 - TB) * GA])
        / norm
    )
    errs = []
    for g in (1e-2, 5e-3):
        ep = qrm.tripartite_entropy_production(h, ta, tb, GA, GB, DIMS, g, 0.5)
        errs.append(np.abs(np.asarray(linalg.partial_trace(ep.rho, DIMS, [1])) - rho_c0).max())
    assert errs[1] < 1e-4
    # tr_AB ρ1 = 0 for (8.18), so the reduced state converges like g², not g.
    np.testing.assert_allclose(errs[0] / errs[1], 4.0, rtol=0.05)


def _qutip_tripartite_state(qutip, h, ta, tb, ga, gb, dims, coef_a, coef_b, which):
    na, nc, nb = dims
    cops = []
    if which in ("total", "A"):
        p, v = np.linalg.eigh(ta)
        for i, k in itertools.product(range(na), repeat=2):
            op = np.sqrt(ga * max(p[i], 0)) * np.outer(v[:, i], np.eye(na)[k])
            cops.append(qutip.Qobj(np.kron(op, np.eye(nc * nb))))
    if which in ("total", "B"):
        p, v = np.linalg.eigh(tb)
        for i, k in itertools.product(range(nb), repeat=2):
            op = np.sqrt(gb * max(p[i], 0)) * np.outer(v[:, i], np.eye(nb)[k])
            cops.append(qutip.Qobj(np.kron(np.eye(na * nc), op)))
    coef = {"total": coef_a + coef_b, "A": coef_a, "B": coef_b}[which]
    return qutip.steadystate(qutip.Qobj(coef * h), cops).full()


@pytest.mark.parametrize("method", ["reduced", "dense"])
@pytest.mark.parametrize("dims,seed", [((2, 2, 2), 0), ((2, 3, 2), 1), ((3, 1, 2), 2)])
def test_random_tripartite_vs_qutip(dims, seed, method):
    qutip = pytest.importorskip("qutip")
    r = rng(seed)
    d = int(np.prod(dims))
    h = random_hermitian(r, d)
    ta, tb = random_density(r, dims[0]), random_density(r, dims[2])
    ga, gb, g, lam = 0.8, 1.3, 0.7, 0.35
    ep = qrm.tripartite_entropy_production(h, ta, tb, ga, gb, dims, g, lam, method=method)
    rho = _qutip_tripartite_state(qutip, h, ta, tb, ga, gb, dims, g * lam, g * (1 - lam), "total")
    rho_a = _qutip_tripartite_state(qutip, h, ta, tb, ga, gb, dims, g * lam, g * (1 - lam), "A")
    rho_b = _qutip_tripartite_state(qutip, h, ta, tb, ga, gb, dims, g * lam, g * (1 - lam), "B")
    np.testing.assert_allclose(ep.rho, rho, atol=1e-9)
    np.testing.assert_allclose(ep.partial_states[0], rho_a, atol=1e-9)
    np.testing.assert_allclose(ep.partial_states[1], rho_b, atol=1e-9)
    na, nc, nb = dims
    red_a = np.einsum("aiaj->ij", rho.reshape(na, nc * nb, na, nc * nb))
    red_b = np.einsum("iaja->ij", rho.reshape(na * nc, nb, na * nc, nb))
    act_a = -1j * g * lam * (h @ rho - rho @ h) + ga * (np.kron(ta, red_a) - rho)
    act_b = -1j * g * (1 - lam) * (h @ rho - rho @ h) + gb * (np.kron(red_b, tb) - rho)
    lr = sla.logm(rho)
    sig = [
        np.trace(act_a @ (sla.logm(rho_a) - lr)).real,
        np.trace(act_b @ (sla.logm(rho_b) - lr)).real,
    ]
    np.testing.assert_allclose(ep.parts, sig, rtol=1e-9, atol=1e-13)
    assert np.all(np.asarray(ep.parts) > 0)


def test_vmap_over_g_lambda_matches_loop():
    h, ta, tb = chain()
    gs = jnp.array([0.05, 0.1, 0.3, 1.0])
    lams = jnp.array([0.2, 0.6, -0.5, 1.7])

    def f(g, lam):
        return qrm.tripartite_entropy_production(h, ta, tb, GA, GB, DIMS, g, lam)

    batched = jax.jit(jax.vmap(f))(gs, lams)
    for k in range(4):
        single = f(gs[k], lams[k])
        np.testing.assert_allclose(batched.parts[k], single.parts, rtol=1e-10)
        np.testing.assert_allclose(batched.rho[k], single.rho, atol=1e-13)
    # single-space model as well
    hq = models.single_qubit_hamiltonian(1.0, 0.7)
    taus = jnp.stack([models.diagonal_reset_state(t) for t in (0.9, 0.3, 0.6)])
    lam_batch = jnp.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0], [-1.0, 1.0, 1.0]])
    out = jax.vmap(
        lambda lm: qrm.entropy_production(hq, taus, jnp.array([1.0, 0.5, 0.3]), lm).total
    )(lam_batch)
    loop = [
        qrm.entropy_production(hq, taus, jnp.array([1.0, 0.5, 0.3]), lm).total for lm in lam_batch
    ]
    np.testing.assert_allclose(out, loop, rtol=1e-12)


@pytest.mark.parametrize("dims", [(2, 2, 2), (3, 2, 2), (2, 1, 3)])
def test_reduced_and_dense_routes_agree_with_gradients(dims):
    r = rng(sum(dims) + 7)
    d = int(np.prod(dims))
    h = random_hermitian(r, d)
    ta, tb = random_density(r, dims[0]), random_density(r, dims[2])
    dh = random_hermitian(r, d)

    def f(method):
        def sig(g, lam, s):
            ep = qrm.tripartite_entropy_production(
                h + s * dh, ta, tb, 0.5, 1.1, dims, g, lam, method=method
            )
            return ep.parts

        return jax.jit(sig)

    fr, fdn = f("reduced"), f("dense")
    np.testing.assert_allclose(fr(0.3, 0.6, 0.0), fdn(0.3, 0.6, 0.0), rtol=1e-10)
    jr = jax.jit(jax.jacfwd(fr, argnums=(0, 1, 2)))(0.3, 0.6, 0.0)
    jd = jax.jit(jax.jacrev(fdn, argnums=(0, 1, 2)))(0.3, 0.6, 0.0)
    for a, b in zip(jr, jd):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-12)


# --- reduced route: batching paths, weak coupling, errors, higher derivatives ---------


@pytest.mark.parametrize("batched", ["H", "gamma", "all"])
def test_reduced_batched_model_matches_dense(batched):
    """The reduced route builds its systems with one product per batch when H, τ, γ are
    shared (vmap over g, λ) and per point otherwise: both paths agree with the dense LU."""
    r = rng(21)
    h0, dh = random_hermitian(r, 8), random_hermitian(r, 8)
    ta, tb = random_density(r, 2), random_density(r, 2)

    def f(method):
        def parts(s, ga, g, lam):
            ep = qrm.tripartite_entropy_production(
                h0 + s * dh, ta, tb, ga, 1.1, DIMS, g, lam, method=method
            )
            return ep.parts

        return parts

    k = 4
    ss, gas = jnp.linspace(-0.3, 0.3, k), jnp.linspace(0.4, 1.2, k)
    gs, lams = jnp.linspace(0.2, 1.0, k), jnp.linspace(0.2, 0.7, k)
    axes = {"H": (0, None, 0, 0), "gamma": (None, 0, 0, 0), "all": (0, 0, 0, 0)}[batched]
    args = tuple(a if ax == 0 else a[0] for a, ax in zip((ss, gas, gs, lams), axes))
    red = jax.jit(jax.vmap(f("reduced"), in_axes=axes))(*args)
    dense = jax.jit(jax.vmap(f("dense"), in_axes=axes))(*args)
    np.testing.assert_allclose(red, dense, rtol=1e-10)


def test_reduced_weak_coupling_partial_states():
    """At g λ ~ 0.007 the partial system of A relaxes at a rate ~1e-7 (condition ~1e7):
    the reduced route still satisfies L^A(ρ^A) = 0 to rounding and agrees with the dense
    LU to its accuracy."""
    h, ta, tb = chain()
    g, lam = 0.0517144677202153, 0.13993223828486345
    red = qrm.tripartite_entropy_production(h, ta, tb, GA, GB, DIMS, g, lam, method="reduced")
    dense = qrm.tripartite_entropy_production(h, ta, tb, GA, GB, DIMS, g, lam, method="dense")
    assert float(red.residual) < 1e-14
    np.testing.assert_allclose(red.partial_states, dense.partial_states, atol=2e-10)
    np.testing.assert_allclose(red.parts, dense.parts, rtol=2e-9)


def test_reduced_non_unique_state_is_reported_under_vmap():
    # H = 0: the state of C is arbitrary, the bordered reduced system is singular.
    _, ta, tb = chain()
    f = jax.jit(
        jax.vmap(
            lambda g: (
                qrm.tripartite_entropy_production(
                    jnp.zeros((8, 8)), ta, tb, GA, GB, DIMS, g, 0.4
                ).total
            )
        )
    )
    err = (ValueError, eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError)
    with pytest.raises(err, match="not unique"):
        f(jnp.array([0.1, 0.2])).block_until_ready()
    with pytest.raises(err, match="not unique"):
        qrm.tripartite_entropy_production(jnp.zeros((8, 8)), ta, tb, GA, GB, DIMS, 0.1, 0.4)


def test_reduced_second_derivatives():
    """The derivative rule is itself differentiable (forward-over-reverse and
    reverse-over-reverse), also through the batched construction of the systems."""
    h, ta, tb = chain()

    def sigma(g, lam):
        return qrm.tripartite_entropy_production(h, ta, tb, GA, GB, DIMS, g, lam).total

    g0, lam0 = 0.4, 0.3
    hess = jax.jit(jax.hessian(sigma))(g0, lam0)
    gg = jax.jit(jax.grad(jax.grad(sigma)))(g0, lam0)
    grad = jax.jit(jax.grad(sigma))
    fd = (grad(g0 + 1e-4, lam0) - grad(g0 - 1e-4, lam0)) / 2e-4
    np.testing.assert_allclose(hess, fd, rtol=1e-6)
    np.testing.assert_allclose(gg, hess, rtol=1e-10)
    gs = jnp.array([0.4, 0.6])
    batched = jax.jit(jax.jacrev(jax.jacrev(lambda g: jnp.sum(jax.vmap(sigma)(g, g * 0 + lam0)))))
    np.testing.assert_allclose(jnp.diag(batched(gs))[0], hess, rtol=1e-8)


def test_reduced_gradient_wrt_degenerate_hamiltonian():
    """A degenerate spectrum of H (eA = eB, Jα = Jβ, eC = U = 0): the derivative w.r.t. H
    never differentiates eigh, and agrees with the dense route."""
    h = models.three_qubit_chain(0.1, 0.1, 0.0, 0.0, 0.1, 0.1)
    w = np.linalg.eigvalsh(np.asarray(h))
    assert np.min(np.diff(w)) < 1e-12
    r = rng(3)
    dh = random_hermitian(r, 8)
    ta, tb = random_density(r, 2), random_density(r, 2)

    def f(method):
        return jax.grad(
            lambda s: (
                qrm.tripartite_entropy_production(
                    h + s * dh, ta, tb, 0.8, 1.1, DIMS, 0.5, 0.3, method=method
                ).total
            )
        )

    gr, gd = f("reduced")(0.0), f("dense")(0.0)
    assert np.isfinite(float(gr))
    np.testing.assert_allclose(gr, gd, rtol=1e-8)
